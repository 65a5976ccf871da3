import type { TaskManager } from '../core/manager.js';
import { listText, statusText } from '../core/text.js';
import type { TaskServiceServer } from '../../gen/ts/taskmanager/v1/task_service.js';
import { errorMessage } from '../core/run.js';
import { startCallSpan } from '../tracing.js';
import { VERSION } from '../version.js';
import { type HandlerDeps, serverStream, unary } from './call-adapters.js';
import type { StreamsPerConnection } from './stream-limit.js';
import { statusFilterFromPb, taskToPb, toolToPb, updateToPb } from './mapping.js';

export const SERVICE_NAME = 'taskmanager.v1.TaskService';

/** What GetServerInfo answers: the same for every call of this process. */
const SERVER_INFO = Object.freeze({ version: VERSION, apiPackages: ['taskmanager.v1'] });

export interface ServiceDefaults {
  budgetSeconds: number;
  hardTimeoutSeconds: number;
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
      const { deadline, caller, trace } = context;
      const span = startCallSpan(`${SERVICE_NAME}/Execute`, trace, { 'taskservice.tool': req.toolName });
      const result = await manager
        .execute({
          toolName: req.toolName,
          argumentsJson: req.argumentsJson,
          origin: { userId: req.userId, channelId: req.channelId, platform: req.platform },
          budgetSeconds: req.timeoutSeconds,
          requestId: req.requestId,
          redirect: req.redirect && {
            channelId: req.redirect.channelId,
            platform: req.redirect.platform,
            maxChars: req.redirect.maxChars,
          },
          callerDeadline: deadline,
          // Read only if the tool does not settle at once: the signal is made on first use.
          get callerSignal() {
            return context.signal;
          },
          caller,
          ...(span.trace && { trace: span.trace }),
        })
        .catch((err: unknown) => {
          span.end(errorMessage(err));
          throw err;
        });
      span.end();
      return { backgrounded: result.backgrounded, task: taskToPb(result.task), text: result.text };
    }),

    getResult: unary('GetResult', deps, async (req, { caller, deadline }) => {
      const task = await manager.get(req.taskId, req.userId, caller, deadline);
      return { task: taskToPb(task), text: statusText(task) };
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
          signal,
        });
      } catch (err) {
        leave();
        throw err;
      }
      return (async function* () {
        try {
          let sequence = 0;
          for await (const update of updates) yield updateToPb(update, ++sequence);
        } finally {
          leave();
        }
      })();
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
