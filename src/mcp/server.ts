import { randomUUID } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  fromJsonSchema,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  Server,
} from '@modelcontextprotocol/server';
import type { Logger } from '../core/logger.js';
import { hasEnded, McpBackendError, type McpExecution, type McpTask, type TaskBackend } from './backend.js';
import {
  callToolResult,
  detailedTask2026,
  inlineResult,
  outcomeText,
  RELATED_TASK,
  resultIsAnError,
  task2025,
  task2026,
  TASKS_EXTENSION,
} from './shapes.js';

/** The `_meta` key of tools/call that asks for a budget (seconds), as Execute's timeout_seconds does. */
export const BUDGET_META_KEY = 'dev.taskservice/budgetSeconds';
/** A task-augmented call of a 2025 client answers with its task at once: the budget is this short. */
const TASK_REQUESTED_BUDGET_SECONDS = 0.001;

export interface McpServerOptions {
  /** Finished tasks are kept this long (TASKSERVICE_RETENTION_SECONDS), for ttlMs. */
  retentionMs: number;
  version: string;
  logger: Logger;
}

type Era = 'legacy' | 'modern';

const TaskIdParams = fromJsonSchema<{ taskId: string }>({
  type: 'object',
  properties: { taskId: { type: 'string', minLength: 1 } },
  required: ['taskId'],
});
type UpdateResponses = Record<string, { action?: string; content?: Record<string, unknown> }>;
const UpdateParams = fromJsonSchema<{ taskId: string; inputResponses?: UpdateResponses }>({
  type: 'object',
  properties: {
    taskId: { type: 'string', minLength: 1 },
    inputResponses: { type: 'object', additionalProperties: { type: 'object' } },
  },
  required: ['taskId'],
});
const ListParams = fromJsonSchema<{ cursor?: string }>({ type: 'object', properties: { cursor: { type: 'string' } } });
const AnyResult = fromJsonSchema<Record<string, unknown>>({ type: 'object' });

/** The tasks extension's capability on this request (2026: declared per request, never remembered). */
export function declaresTasks(envelope: unknown): boolean {
  const capabilities = (envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as
    { extensions?: Record<string, unknown> } | undefined;
  return capabilities?.extensions?.[TASKS_EXTENSION] !== undefined;
}

function requireTasks(envelope: unknown): void {
  if (!declaresTasks(envelope)) {
    throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
  }
}

/**
 * One MCP server instance over a TaskBackend. Built per request for the
 * stateless HTTP endpoint (any replica answers any request) and once per
 * connection for stdio. Holds no state: tasks live in TaskService.
 */
export function buildMcpServer(era: Era, backend: TaskBackend, options: McpServerOptions): Server {
  const server = new Server(
    { name: 'taskservice', version: options.version },
    {
      capabilities:
        era === 'modern'
          ? { tools: {}, extensions: { [TASKS_EXTENSION]: {} } }
          : { tools: {}, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
      instructions:
        'Tools run under a time budget. A call that outlives it continues as a TaskService task: ' +
        'follow it with tasks/get, or with the check_task tool when the client has no task support.',
    },
  );
  const fail = (err: unknown): never => {
    throw protocolError(err, options.logger);
  };

  server.setRequestHandler('tools/list', async (_request, ctx) => {
    const tools = await backend.tools().catch(fail);
    // A client that follows tasks itself does not need the model to.
    const hideMeta = era === 'modern' && declaresTasks(ctx.mcpReq.envelope);
    return {
      tools: tools
        .filter((tool) => !(hideMeta && tool.meta))
        .map((tool) => ({
          name: tool.name,
          description: tool.description,
          inputSchema: tool.parameters as { type: 'object' },
          ...(era === 'legacy' && { execution: { taskSupport: tool.noBackground ? 'forbidden' : 'optional' } }),
        })),
    };
  });

  server.setRequestHandler('tools/call', async (request, ctx) => {
    const { name, arguments: args = {} } = request.params;
    const meta = (ctx.mcpReq._meta ?? {}) as Record<string, unknown>;
    const asTask2026 = era === 'modern' && declaresTasks(ctx.mcpReq.envelope);
    const asTask2025 = era === 'legacy' && (request.params as { task?: unknown }).task !== undefined;
    if (asTask2025 && (await backend.tools().catch(fail)).find((t) => t.name === name)?.noBackground) {
      throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `tool "${name}" cannot run as a task (no_background)`);
    }
    const progressToken = meta.progressToken as string | number | undefined;
    let execution: McpExecution;
    try {
      execution = await backend.execute({
        tool: name,
        argumentsJson: JSON.stringify(args),
        budgetSeconds: asTask2025 ? TASK_REQUESTED_BUDGET_SECONDS : budgetOf(meta),
        signal: ctx.mcpReq.signal,
        ...(asTask2025 && { requestId: `mcp-${randomUUID()}` }),
        ...(progressToken !== undefined && {
          onProgress: (p) =>
            void ctx.mcpReq
              .notify({
                method: 'notifications/progress',
                params: { progressToken, progress: p.fraction, total: 1, ...(p.message && { message: p.message }) },
              })
              .catch(() => undefined),
        }),
      });
    } catch (err) {
      // Arguments the tool refuses are the model's to fix: a tool error it can read, not a protocol error.
      if (err instanceof McpBackendError && err.kind === 'invalid') {
        return { content: [{ type: 'text', text: `Error: ${err.message}` }], isError: true };
      }
      return fail(err);
    }
    if (asTask2026 && execution.backgrounded) {
      // The task is in the store (Execute records it before answering): tasks/get on any replica finds it.
      return { resultType: 'task', ...task2026(execution.task, options.retentionMs) } as never;
    }
    if (asTask2025) return { content: [], task: task2025(execution.task, options.retentionMs) } as never;
    return inlineResult(execution) as never;
  });

  server.setRequestHandler('tasks/get', { params: TaskIdParams, result: AnyResult }, async ({ taskId }, ctx) => {
    if (era === 'legacy') return task2025(await backend.get(taskId).catch(fail), options.retentionMs);
    requireTasks(ctx.mcpReq.envelope);
    return detailedTask2026(await backend.get(taskId).catch(fail), options.retentionMs);
  });

  server.setRequestHandler('tasks/cancel', { params: TaskIdParams, result: AnyResult }, async ({ taskId }, ctx) => {
    if (era === 'modern') {
      requireTasks(ctx.mcpReq.envelope);
      // Cancellation is cooperative (SEP-2663): a task that already ended stays as it ended.
      await backend.cancel(taskId).catch((err: unknown) => {
        if (!(err instanceof McpBackendError && err.kind === 'precondition')) fail(err);
      });
      return {};
    }
    try {
      return task2025(await backend.cancel(taskId), options.retentionMs);
    } catch (err) {
      if (err instanceof McpBackendError && err.kind === 'precondition') {
        const task = await backend.get(taskId).catch(fail);
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Cannot cancel task: already in terminal status '${task2025(task, 0).status}'`,
        );
      }
      return fail(err);
    }
  });

  if (era === 'modern') {
    server.setRequestHandler('tasks/update', { params: UpdateParams, result: AnyResult }, async (params, ctx) => {
      requireTasks(ctx.mcpReq.envelope);
      const task = await backend.get(params.taskId).catch(fail);
      const open = task.status === 'input_required' ? task.inputRequest : undefined;
      // Responses to keys that are not outstanding (never issued, answered, superseded) are ignored.
      // The SDK lifts inputResponses out of params (its multi round-trip handling) into the request context.
      const responses = (ctx.mcpReq.inputResponses ?? params.inputResponses) as UpdateResponses | undefined;
      const response = open && responses?.[open.id];
      if (!open || !response) return {};
      if (response.action === 'accept') {
        await backend.provideInput(params.taskId, open.id, JSON.stringify(response.content ?? {})).catch(fail);
      } else {
        // Declined or dismissed: the tool cannot go on without an answer, so the task ends.
        await backend.cancel(params.taskId).catch(fail);
      }
      return {};
    });
  } else {
    server.setRequestHandler('tasks/result', { params: TaskIdParams, result: AnyResult }, async ({ taskId }, ctx) => {
      const task = await finished(backend, taskId, ctx.mcpReq.signal).catch(fail);
      if (resultIsAnError(task)) throw new ProtocolError(ProtocolErrorCode.InternalError, outcomeText(task));
      return { ...callToolResult(task, outcomeText(task)), _meta: { [RELATED_TASK]: { taskId } } };
    });
    server.setRequestHandler('tasks/list', { params: ListParams, result: AnyResult }, async ({ cursor }) => {
      const page = await backend.list(cursor).catch(fail);
      return {
        tasks: page.tasks.map((task) => task2025(task, options.retentionMs)),
        ...(page.nextCursor && { nextCursor: page.nextCursor }),
      };
    });
  }
  return server;
}

/** The budget a tools/call asks for in its `_meta`, if any. */
function budgetOf(meta: Record<string, unknown>): number | undefined {
  const value = meta[BUDGET_META_KEY];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `_meta["${BUDGET_META_KEY}"] must be a number of seconds >= 0`,
    );
  }
  return value;
}

/** Waits for the task to end (tasks/result blocks until then). */
async function finished(backend: TaskBackend, taskId: string, signal: AbortSignal): Promise<McpTask> {
  let last: McpTask | undefined;
  for await (const task of backend.watch(taskId, signal)) last = task;
  if (!last || !hasEnded(last)) throw new McpBackendError('unavailable', 'the wait for the task was abandoned');
  return last;
}

/** Backend errors as JSON-RPC errors; anything unexpected is logged and answered without its details. */
export function protocolError(err: unknown, logger: Logger): ProtocolError {
  if (err instanceof ProtocolError) return err;
  if (!(err instanceof McpBackendError)) {
    logger.error({ err }, 'MCP request failed');
    return new ProtocolError(ProtocolErrorCode.InternalError, 'internal error');
  }
  switch (err.kind) {
    case 'not_found':
      return new ProtocolError(ProtocolErrorCode.InvalidParams, `Failed to retrieve task: ${err.message}`);
    case 'unknown_tool':
    case 'invalid':
    case 'precondition':
    case 'denied':
      return new ProtocolError(ProtocolErrorCode.InvalidParams, err.message);
    default:
      return new ProtocolError(ProtocolErrorCode.InternalError, `${err.kind}: ${err.message}`);
  }
}
