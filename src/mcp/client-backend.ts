import type { Client, Task } from '../client/client.js';
import {
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  failureName,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  TaskServiceError,
  TaskStatus,
  UnauthenticatedError,
  UnavailableError,
} from '../client/index.js';
import {
  type BackendErrorKind,
  hasEnded,
  McpBackendError,
  type McpExecuteCall,
  type McpExecution,
  type McpTask,
  type McpTool,
  type TaskBackend,
} from './backend.js';

/** A watch ends after this long without the task ending; `watch` then starts another. */
const WATCH_SLICE_SECONDS = 3600;

/**
 * The MCP port over a TaskService reached through gRPC (the TypeScript
 * client): what `taskservice mcp --addr` serves on stdin/stdout, so a desktop
 * agent that starts stdio servers can use a remote deployment. The user and
 * token are the client's (its options).
 */
export class ClientBackend implements TaskBackend {
  constructor(private readonly client: Client) {}

  tools(): Promise<McpTool[]> {
    return translate(async () =>
      (await this.client.tools()).map((tool) => ({
        name: tool.name,
        description: tool.description,
        parameters: JSON.parse(tool.parametersJsonSchema || '{"type":"object"}') as object,
        noBackground: tool.noBackground,
        meta: tool.source === 'meta',
      })),
    );
  }

  execute(call: McpExecuteCall): Promise<McpExecution> {
    return translate(async () => {
      const run = await this.client.execute(call.tool, call.argumentsJson, {
        signal: call.signal,
        ...(call.budgetSeconds !== undefined && { budgetSeconds: call.budgetSeconds }),
        ...(call.requestId && { requestId: call.requestId }),
      });
      return { backgrounded: run.backgrounded, text: run.text, task: fromTask(run.task) };
    });
  }

  get(taskId: string): Promise<McpTask> {
    return translate(async () => fromTask((await this.client.get(taskId)).task));
  }

  provideInput(taskId: string, inputRequestId: string, responseJson: string): Promise<McpTask> {
    return translate(async () =>
      fromTask(await this.client.provideInput(taskId, inputRequestId, JSON.parse(responseJson) as object)),
    );
  }

  cancel(taskId: string): Promise<McpTask> {
    return translate(async () => fromTask(await this.client.cancel(taskId)));
  }

  list(cursor?: string): Promise<{ tasks: McpTask[]; nextCursor?: string }> {
    return translate(async () => {
      const page = await this.client.list({ ...(cursor && { pageToken: cursor }) });
      return { tasks: page.tasks.map(fromTask), ...(page.nextPageToken && { nextCursor: page.nextPageToken }) };
    });
  }

  async *watch(taskId: string, signal: AbortSignal): AsyncIterable<McpTask> {
    for (;;) {
      let last: McpTask | undefined;
      try {
        for await (const update of this.client.updates(taskId, { signal, timeoutSeconds: WATCH_SLICE_SECONDS })) {
          if (update.task) yield (last = fromTask(update.task));
        }
      } catch (err) {
        if (signal.aborted) return;
        throw asBackendError(err);
      }
      if (!last || hasEnded(last) || signal.aborted) return;
    }
  }
}

const STATUS: Record<number, McpTask['status']> = {
  [TaskStatus.TASK_STATUS_RUNNING]: 'running',
  [TaskStatus.TASK_STATUS_COMPLETED]: 'completed',
  [TaskStatus.TASK_STATUS_FAILED]: 'failed',
  [TaskStatus.TASK_STATUS_INPUT_REQUIRED]: 'input_required',
};

function fromTask(task: Task): McpTask {
  const status = STATUS[task.status] ?? 'running';
  return {
    taskId: task.taskId,
    toolName: task.toolName,
    status,
    ...(status === 'failed' && { failureReason: failureName(task.failureReason) as McpTask['failureReason'] }),
    ...(status === 'completed' && { result: task.result }),
    ...(status === 'failed' && { error: task.error }),
    createdAt: task.createdAt?.getTime() ?? 0,
    updatedAt: task.updatedAt?.getTime() ?? 0,
    ...(task.finishedAt && { finishedAt: task.finishedAt.getTime() }),
    ...(task.progress && { progress: { fraction: task.progress.fraction, message: task.progress.message } }),
    ...(task.inputRequest && {
      inputRequest: {
        id: task.inputRequest.id,
        message: task.inputRequest.message,
        schemaJson: task.inputRequest.schemaJson,
      },
    }),
  };
}

const KINDS: [new (...args: never[]) => TaskServiceError, BackendErrorKind][] = [
  [NotFoundError, 'not_found'],
  [InvalidArgumentError, 'invalid'],
  [PermissionDeniedError, 'denied'],
  [UnauthenticatedError, 'denied'],
  [FailedPreconditionError, 'precondition'],
  [ResourceExhaustedError, 'exhausted'],
  [UnavailableError, 'unavailable'],
  [DeadlineExceededError, 'unavailable'],
  [CancelledError, 'unavailable'],
];

function asBackendError(err: unknown): unknown {
  if (!(err instanceof TaskServiceError)) return err;
  // An unknown tool is NOT_FOUND on gRPC; its reason trailer tells it from a missing task.
  if (err instanceof NotFoundError && err.reason === 'ToolNotFound')
    return new McpBackendError('unknown_tool', err.details);
  const kind = KINDS.find(([type]) => err instanceof type)?.[1] ?? 'internal';
  return new McpBackendError(kind, err.details);
}

async function translate<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asBackendError(err);
  }
}
