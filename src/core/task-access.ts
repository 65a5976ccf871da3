import type { Cancellation } from './cancellation.js';
import { type TaskUpdate, watchTask } from './await.js';
import type { BackgroundRuns } from './background-runs.js';
import { ANYONE, type Caller, mayActFor } from './caller.js';
import { FailedPrecondition, InvalidArgument, PermissionDenied, TaskNotFound } from './errors.js';
import { checkExternalId, checkTaskId } from './ids.js';
import { alreadyEnded } from './outcome.js';
import { deliverIfRedirected, type RedirectPort } from './redirect-port.js';
import type { ListPage, TaskStore } from './store.js';
import type { AnswerSchemas } from './answers.js';
import { FailureReason, isTerminal, type Outcome, type RedirectTarget, type TaskRecord, TaskStatus } from './task.js';
import { checkDepth, checkRedirect, checkSize, optionalSeconds } from './validation.js';
import { parseJsonObject } from './json.js';
import { type WatchedTask, WatchedTasks } from './watched-tasks.js';

export interface AwaitOptions {
  userId: string;
  caller?: Caller;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  /** Resume after this version: no snapshot of a state already seen (see WatchOptions.afterVersion). */
  afterVersion?: number;
  /** Also stream the task's output from this byte offset; undefined: none. */
  outputOffset?: number;
  signal: Cancellation;
}

/** GetResult with output: at most this much output per call (the client reads on from where it ends). */
export const OUTPUT_READ_MAX_BYTES = 1024 * 1024;

export interface ListOptions {
  userId: string;
  caller?: Caller;
  status?: TaskStatus;
  toolName?: string;
  pageSize?: number;
  pageToken?: string;
  /** The caller's deadline (epoch ms), which bounds the store's work. */
  deadline?: number;
}

/** ProvideInput: the answer to a task's open question. */
export interface InputAnswerCall {
  taskId: string;
  userId: string;
  inputRequestId: string;
  responseJson: string;
  caller?: Caller;
  deadline?: number;
}

export interface AccessLimits {
  /** Answers are bounded like tool arguments. */
  maxArgumentsBytes: number;
  maxJsonDepth: number;
  awaitDefaultSeconds: number;
  awaitMaxSeconds: number;
  heartbeatDefaultSeconds: number;
  defaultPageSize: number;
  maxPageSize: number;
}

function checkOffset(offset: number): number {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgument('output_offset', 'must be a byte offset: 0 or more, at most 2^53-1');
  }
  return offset;
}

/** The smallest heartbeat interval accepted, so a stream cannot be made to spin. */
const MIN_HEARTBEAT_SECONDS = 0.05;

/**
 * What callers may do with tasks that exist: read, watch, list, cancel and
 * redirect them. Every request is scoped first: a task the caller may not
 * see (another user's, one outside the caller's credentials) is NOT_FOUND
 * exactly like a missing one, so nothing tells them apart.
 */
export class TaskAccess {
  /** The watches of one task share a store subscription and its first read. */
  private readonly watched: WatchedTasks;

  constructor(
    private readonly store: TaskStore,
    private readonly redirects: RedirectPort,
    private readonly runs: BackgroundRuns,
    private readonly limits: AccessLimits,
    private readonly answers: AnswerSchemas,
  ) {
    this.watched = new WatchedTasks(store);
  }

  /** The task, if this request may see it (`userId` set: only that user's). */
  async get(taskId: string, userId: string, caller: Caller = ANYONE, deadline?: number): Promise<TaskRecord> {
    checkTaskId(taskId);
    checkExternalId(userId, 'user_id');
    const task = await this.store.get(taskId, deadline);
    if (!task || (userId && task.userId !== userId) || !mayActFor(caller, task.userId)) throw new TaskNotFound(taskId);
    return task;
  }

  /** The task (as `get`) and its output from byte `offset`, at most OUTPUT_READ_MAX_BYTES of it. */
  async getWithOutput(
    taskId: string,
    userId: string,
    offset: number,
    caller: Caller = ANYONE,
    deadline?: number,
  ): Promise<{ task: TaskRecord; output: { offset: number; text: string } }> {
    checkOffset(offset);
    const task = await this.get(taskId, userId, caller, deadline);
    const text =
      offset < (task.outputBytes ?? 0)
        ? await this.store.readOutput(taskId, offset, OUTPUT_READ_MAX_BYTES, deadline)
        : '';
    return { task, output: { offset, text } };
  }

  async cancel(taskId: string, userId: string, caller: Caller = ANYONE, deadline?: number): Promise<TaskRecord> {
    const task = await this.get(taskId, userId, caller, deadline);
    if (isTerminal(task)) return alreadyEnded(task);
    const cancelled: Outcome = {
      status: TaskStatus.Failed,
      reason: FailureReason.Cancelled,
      error: 'cancelled by request',
    };
    const { applied, task: stored } = await this.store.finish(taskId, cancelled, deadline);
    if (!applied) return alreadyEnded(stored);
    // Stopped here at once; a run on another replica stops when the change reaches it.
    this.runs.abort(taskId, FailureReason.Cancelled, 'cancelled by request');
    deliverIfRedirected(this.redirects, stored);
    return stored;
  }

  async setRedirect(
    taskId: string,
    userId: string,
    target: RedirectTarget,
    caller: Caller = ANYONE,
    deadline?: number,
  ): Promise<TaskRecord> {
    checkRedirect(target, this.redirects);
    await this.get(taskId, userId, caller, deadline);
    const task = await this.store.setRedirect(taskId, target, deadline);
    if (isTerminal(task)) this.redirects.deliver(task);
    return task;
  }

  /**
   * Answers a task's open question: checked against its schema here, then one
   * atomic store transition (INPUT_REQUIRED -> RUNNING), so of concurrent
   * answers exactly one is taken. The replica running the tool hears of it
   * through the store and resumes the tool.
   */
  async provideInput(call: InputAnswerCall): Promise<TaskRecord> {
    const { taskId, inputRequestId, responseJson, deadline } = call;
    if (!inputRequestId) throw new InvalidArgument('input_request_id', "is required: the task's input_request.id");
    const task = await this.get(taskId, call.userId, call.caller, deadline);
    const open = task.inputRequest;
    if (task.status !== TaskStatus.InputRequired || !open) {
      throw new FailedPrecondition(`task ${taskId} is ${task.status}, not waiting for input`);
    }
    if (open.id !== inputRequestId) {
      throw new FailedPrecondition(
        `input request "${inputRequestId}" of task ${taskId} is not open (answered or stale); ` +
          `the open one is "${open.id}"`,
      );
    }
    const { maxArgumentsBytes, maxJsonDepth } = this.limits;
    checkSize(responseJson, maxArgumentsBytes, 'response_json', 'TASKSERVICE_MAX_ARGUMENTS_BYTES');
    const parsed = parseJsonObject(responseJson, "a JSON object matching the question's schema");
    if (!parsed.ok) throw new InvalidArgument('response_json', parsed.problem);
    checkDepth(parsed.value, maxJsonDepth, 'response_json', 'TASKSERVICE_MAX_JSON_DEPTH');
    const problem = this.answers.answerProblem(open.schemaJson, parsed.value);
    if (problem) throw new InvalidArgument('response_json', problem);
    const { applied, task: stored } = await this.store.provideInput(taskId, inputRequestId, responseJson, deadline);
    if (!applied) {
      throw new FailedPrecondition(
        `input request "${inputRequestId}" of task ${taskId} was answered already, ` +
          `or the task ended (${stored.status})`,
      );
    }
    return stored;
  }

  /** A place among the task's watches, with no listener of its own: see ExecuteAndWatch.holdWatch. */
  holdWatch(taskId: string): WatchedTask {
    return this.watched.join(taskId, () => undefined);
  }

  watch(taskId: string, options: AwaitOptions): AsyncGenerator<TaskUpdate> {
    checkTaskId(taskId);
    checkExternalId(options.userId, 'user_id');
    const { awaitDefaultSeconds, awaitMaxSeconds, heartbeatDefaultSeconds } = this.limits;
    const timeoutSeconds = optionalSeconds(options.timeoutSeconds, 'timeout_seconds') || awaitDefaultSeconds;
    const heartbeatSeconds = optionalSeconds(options.heartbeatSeconds, 'heartbeat_seconds') || heartbeatDefaultSeconds;
    const watch = (userId: string) =>
      watchTask(this.store, taskId, {
        userId,
        timeoutMs: Math.min(timeoutSeconds, awaitMaxSeconds) * 1000,
        heartbeatMs: Math.max(heartbeatSeconds, MIN_HEARTBEAT_SECONDS) * 1000,
        afterVersion: options.afterVersion ?? 0,
        ...(options.outputOffset !== undefined && { outputOffset: checkOffset(options.outputOffset) }),
        signal: options.signal,
        shared: this.watched,
      });
    const caller = options.caller ?? ANYONE;
    if (caller.users === null) return watch(options.userId);
    // A limited caller: the owner is checked first, then the watch is scoped to that owner.
    const get = () => this.get(taskId, options.userId, caller);
    return (async function* () {
      const task = await get();
      yield* watch(task.userId);
    })();
  }

  async list(options: ListOptions): Promise<ListPage> {
    checkExternalId(options.userId, 'user_id');
    const caller = options.caller ?? ANYONE;
    let userId = options.userId;
    if (caller.users !== null) {
      if (!userId) {
        if (caller.users.size !== 1) {
          throw new PermissionDenied(`credentials "${caller.name}" act for several users; set user_id to one of them`);
        }
        [userId] = caller.users;
      }
      // Another user's list looks like an unknown user's: empty.
      if (!caller.users.has(userId!)) return { tasks: [] };
    }
    const size = options.pageSize ?? 0;
    if (!Number.isInteger(size) || size < 0) throw new InvalidArgument('page_size', 'must be 0 (default) or positive');
    return this.store.list({
      userId: userId!,
      status: options.status,
      toolName: options.toolName || undefined,
      // Larger pages are cut to the maximum rather than refused (AIP-158).
      limit: Math.min(size || this.limits.defaultPageSize, this.limits.maxPageSize),
      cursor: options.pageToken || undefined,
      deadline: options.deadline,
    });
  }
}
