import type { Caller } from '../core/caller.js';
import { DomainError, errorKind } from '../core/errors.js';
import type { TaskManager } from '../core/manager.js';
import type { TaskRecord } from '../core/task.js';
import {
  type McpExecuteCall,
  type McpExecution,
  hasEnded,
  McpBackendError,
  type McpTask,
  type McpTool,
  type TaskBackend,
} from './backend.js';

/** Who an MCP request acts as: the token's caller, and the user its tasks belong to. */
export interface McpIdentity {
  caller: Caller;
  /** The user_id of the tasks it creates and sees; empty: no user, as an empty user_id on gRPC. */
  userId: string;
}

/** A watch ends after this long without the task ending; `watch` then starts another. */
const WATCH_SLICE_SECONDS = 3600;

/** The MCP port over this replica's own TaskManager: no network hop, the same rules as every RPC. */
export class CoreBackend implements TaskBackend {
  constructor(
    private readonly manager: TaskManager,
    private readonly who: McpIdentity,
  ) {}

  async tools(): Promise<McpTool[]> {
    return this.manager.listTools().map((tool) => ({
      name: tool.name,
      description: tool.description,
      parameters: tool.parameters,
      noBackground: tool.noBackground,
      meta: tool.source === 'meta',
    }));
  }

  execute(call: McpExecuteCall): Promise<McpExecution> {
    return translate(async () => {
      const { backgrounded, task, text } = await this.manager.execute({
        toolName: call.tool,
        argumentsJson: call.argumentsJson,
        origin: { userId: this.who.userId, channelId: '', platform: '' },
        budgetSeconds: call.budgetSeconds,
        ...(call.requestId && { requestId: call.requestId }),
        callerSignal: call.signal,
        caller: this.who.caller,
        ...(call.onProgress && { onProgress: call.onProgress }),
      });
      return { backgrounded, text, task: toMcpTask(task) };
    });
  }

  get(taskId: string): Promise<McpTask> {
    return translate(async () => toMcpTask(await this.manager.get(taskId, this.who.userId, this.who.caller)));
  }

  provideInput(taskId: string, inputRequestId: string, responseJson: string): Promise<McpTask> {
    const { userId, caller } = this.who;
    return translate(async () =>
      toMcpTask(await this.manager.provideInput({ taskId, userId, inputRequestId, responseJson, caller })),
    );
  }

  cancel(taskId: string): Promise<McpTask> {
    return translate(async () => toMcpTask(await this.manager.cancel(taskId, this.who.userId, this.who.caller)));
  }

  list(cursor?: string): Promise<{ tasks: McpTask[]; nextCursor?: string }> {
    return translate(async () => {
      const page = await this.manager.list({
        userId: this.who.userId,
        caller: this.who.caller,
        ...(cursor && { pageToken: cursor }),
      });
      return { tasks: page.tasks.map(toMcpTask), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
    });
  }

  async *watch(taskId: string, signal: AbortSignal): AsyncIterable<McpTask> {
    // A watch has a wait limit (TASKSERVICE_AWAIT_MAX_SECONDS); a task may run longer.
    for (;;) {
      const updates = translateIterable(
        this.manager.watch(taskId, {
          userId: this.who.userId,
          caller: this.who.caller,
          timeoutSeconds: WATCH_SLICE_SECONDS,
          signal,
        }),
      );
      let last: McpTask | undefined;
      for await (const update of updates) {
        last = toMcpTask(update.task);
        yield last;
      }
      if (!last || hasEnded(last) || signal.aborted) return;
    }
  }
}

export function toMcpTask(task: TaskRecord): McpTask {
  return {
    taskId: task.taskId,
    toolName: task.toolName,
    status: task.status,
    ...(task.failureReason && { failureReason: task.failureReason }),
    ...(task.result !== undefined && { result: task.result }),
    ...(task.error !== undefined && { error: task.error }),
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    ...(task.finishedAt !== undefined && { finishedAt: task.finishedAt }),
    ...(task.progress && { progress: { fraction: task.progress.fraction, message: task.progress.message } }),
    ...(task.inputRequest && { inputRequest: { ...task.inputRequest } }),
  };
}

function asBackendError(err: unknown): unknown {
  if (!(err instanceof DomainError)) return err;
  return new McpBackendError(errorKind(err) ?? 'internal', err.message);
}

async function translate<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asBackendError(err);
  }
}

async function* translateIterable<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* source;
  } catch (err) {
    throw asBackendError(err);
  }
}
