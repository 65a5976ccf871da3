import type { TaskManager } from '../core/manager.js';
import { listText, statusText } from '../core/text.js';
import type { TaskServiceServer } from '../../gen/ts/taskmanager/v1/task_service.js';
import { errorMessage } from '../core/run.js';
import { startCallSpan } from '../tracing.js';
import { VERSION } from '../version.js';
import { type CallContext, type HandlerDeps, serverStream, unary } from './call-adapters.js';
import type { StreamsPerConnection } from './stream-limit.js';
import type { ExecuteCall } from '../core/execute-flow.js';
import type { ExecuteResult } from '../core/outcome.js';
import { executeAndFollow, type StreamEvent } from '../core/execute-stream.js';
import type { TraceContext } from '../core/trace.js';
import type { TaskUpdate } from '../core/await.js';
import type { Cancellation } from '../core/cancellation.js';
import type { ExecuteRequest } from '../../gen/ts/taskmanager/v1/task_service.js';
import { executeResultToPb, statusFilterFromPb, streamEventToPb, taskToPb, toolToPb, updateToPb } from './mapping.js';

export const SERVICE_NAME = 'taskmanager.v1.TaskService';

/** What GetServerInfo answers: the same for every call of this process. */
const SERVER_INFO = Object.freeze({ version: VERSION, apiPackages: ['taskmanager.v1'] });

export interface ServiceDefaults {
  budgetSeconds: number;
  hardTimeoutSeconds: number;
}

/**
 * An Execute request as the core's call; ExecuteStream takes the same request. A class, not an
 * object literal with a getter and spreads: one shape for every call, built on the hot path.
 */
class ServedExecuteCall implements ExecuteCall {
  readonly toolName: string;
  readonly argumentsJson: string;
  readonly origin: ExecuteCall['origin'];
  readonly budgetSeconds?: number;
  readonly requestId: string;
  readonly redirect?: ExecuteCall['redirect'];
  readonly callerDeadline?: number;
  readonly caller: ExecuteCall['caller'];
  readonly trace?: TraceContext;

  constructor(
    req: ExecuteRequest,
    private readonly context: CallContext,
    trace: TraceContext | undefined,
  ) {
    this.toolName = req.toolName;
    this.argumentsJson = req.argumentsJson;
    this.origin = { userId: req.userId, channelId: req.channelId, platform: req.platform };
    this.budgetSeconds = req.timeoutSeconds;
    this.requestId = req.requestId;
    this.redirect = req.redirect && {
      channelId: req.redirect.channelId,
      platform: req.redirect.platform,
      maxChars: req.redirect.maxChars,
    };
    this.callerDeadline = context.deadline;
    this.caller = context.caller;
    this.trace = trace;
  }

  /** Read only if the tool does not settle at once: the signal is made on first use. */
  get callerSignal(): Cancellation {
    return this.context.signal;
  }
}

/** taskmanager.v1.TaskService: translation between proto messages and the TaskManager, nothing more. */
export function taskService(
  manager: TaskManager,
  defaults: ServiceDefaults,
  deps: HandlerDeps,
  streams: StreamsPerConnection,
): TaskServiceServer {
  return {
    execute: unary('Execute', deps, async (req, context) => {
      const span = startCallSpan(`${SERVICE_NAME}/Execute`, context.trace, { 'taskservice.tool': req.toolName });
      let result: ExecuteResult;
      try {
        result = await manager.execute(new ServedExecuteCall(req, context, span.trace));
      } catch (err) {
        span.end(errorMessage(err));
        throw err;
      }
      span.end();
      return executeResultToPb(result);
    }),

    executeStream: serverStream('ExecuteStream', deps, (req, context) => {
      const leave = streams.enter(context.peer);
      const span = startCallSpan(`${SERVICE_NAME}/ExecuteStream`, context.trace, { 'taskservice.tool': req.toolName });
      let sequence = 0;
      return {
        events: executeAndFollow(manager, new ServedExecuteCall(req, context, span.trace), {
          caller: context.caller,
          signal: context.signal,
        }),
        message: (event: StreamEvent) => streamEventToPb(event, () => ++sequence),
        finished: (error) => {
          leave();
          span.end(error === undefined ? undefined : errorMessage(error));
        },
      };
    }),

    getResult: unary('GetResult', deps, async (req, { caller, deadline }) => {
      if (req.outputOffset === undefined) {
        const task = await manager.get(req.taskId, req.userId, caller, deadline);
        return { task: taskToPb(task), text: statusText(task) };
      }
      const offset = Number(req.outputOffset);
      const { task, output } = await manager.getWithOutput(req.taskId, req.userId, offset, caller, deadline);
      return {
        task: taskToPb(task),
        text: statusText(task),
        output: { offset: String(output.offset), text: output.text },
      };
    }),

    awaitResult: serverStream('AwaitResult', deps, (req, { signal, caller, peer }) => {
      const leave = streams.enter(peer);
      let updates: ReturnType<TaskManager['watch']>;
      try {
        updates = manager.watch(req.taskId, {
          userId: req.userId,
          caller,
          timeoutSeconds: req.timeoutSeconds,
          heartbeatSeconds: req.heartbeatSeconds,
          afterVersion: Number(req.afterVersion ?? 0),
          ...(req.outputOffset !== undefined && { outputOffset: Number(req.outputOffset) }),
          signal,
        });
      } catch (err) {
        leave();
        throw err;
      }
      let sequence = 0;
      return { events: updates, message: (update: TaskUpdate) => updateToPb(update, ++sequence), finished: leave };
    }),

    listTasks: unary('ListTasks', deps, async (req, { caller, deadline }) => {
      const page = await manager.list({
        userId: req.userId,
        caller,
        status: statusFilterFromPb(req.status),
        toolName: req.toolName,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        deadline,
      });
      return { tasks: page.tasks.map(taskToPb), nextPageToken: page.nextCursor ?? '', text: listText(page.tasks) };
    }),

    setOutputRedirect: unary('SetOutputRedirect', deps, async (req, { caller, deadline }) => {
      const target = { channelId: req.channelId, platform: req.platform, maxChars: req.maxChars };
      const task = await manager.setRedirect(req.taskId, req.userId, target, caller, deadline);
      return { task: taskToPb(task) };
    }),

    cancelTask: unary('CancelTask', deps, async (req, { caller, deadline }) => ({
      task: taskToPb(await manager.cancel(req.taskId, req.userId, caller, deadline)),
    })),

    listTools: unary('ListTools', deps, async () => ({
      tools: manager.listTools().map((tool) => toolToPb(tool, defaults)),
    })),

    getServerInfo: unary('GetServerInfo', deps, async () => SERVER_INFO),

    provideInput: unary('ProvideInput', deps, async (req, { caller, deadline }) => ({
      task: taskToPb(
        await manager.provideInput({
          taskId: req.taskId,
          userId: req.userId,
          inputRequestId: req.inputRequestId,
          responseJson: req.responseJson,
          caller,
          deadline,
        }),
      ),
    })),
  };
}
