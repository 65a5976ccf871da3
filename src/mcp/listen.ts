import type { ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import { McpBackendError, type TaskBackend } from './backend.js';
import { declaresTasks } from './server.js';
import { detailedTask2026, TASKS_EXTENSION } from './shapes.js';

/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** Task ids one subscription may follow. */
export const MAX_TASK_IDS = 100;

interface ListenRequest {
  id: string | number;
  params: { notifications: { taskIds: unknown[] }; _meta?: Record<string, unknown> };
}

/** A `subscriptions/listen` request that asks for task notifications (the SDK's own router drops `taskIds`). */
export function isTaskListen(body: unknown): body is ListenRequest {
  const message = body as { method?: unknown; id?: unknown; params?: { notifications?: { taskIds?: unknown } } };
  return (
    message?.method === 'subscriptions/listen' &&
    (typeof message.id === 'string' || typeof message.id === 'number') &&
    Array.isArray(message.params?.notifications?.taskIds)
  );
}

/**
 * Serves one task subscription (tasks extension, protocol 2026-07-28) on an
 * SSE response: the acknowledgement with the task ids it follows (the
 * caller's own: another user's task is left out, like a missing one), then a
 * `notifications/tasks` with the whole DetailedTask whenever one changes,
 * until the client goes away or `stop` fires. Resolves when the stream ends.
 */
export async function serveTaskListen(
  request: ListenRequest,
  res: ServerResponse,
  backend: TaskBackend,
  options: { retentionMs: number; stop: AbortSignal; logger: Logger },
): Promise<void> {
  const { id, params } = request;
  if (!declaresTasks(params._meta)) {
    json(res, 400, {
      jsonrpc: '2.0',
      id,
      error: {
        code: -32021,
        message: 'Missing required client capability',
        data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
      },
    });
    return;
  }
  const asked = params.notifications.taskIds.filter((t): t is string => typeof t === 'string');
  if (asked.length > MAX_TASK_IDS) {
    json(res, 200, {
      jsonrpc: '2.0',
      id,
      error: { code: -32602, message: `at most ${MAX_TASK_IDS} taskIds per subscription` },
    });
    return;
  }
  const visible = await Promise.all(
    asked.map((taskId) =>
      backend.get(taskId).then(
        () => taskId,
        (err: unknown) => {
          if (err instanceof McpBackendError && err.kind === 'not_found') return undefined;
          throw err;
        },
      ),
    ),
  );
  const taskIds = visible.filter((t): t is string => t !== undefined);

  const ended = new AbortController();
  const onStop = () => ended.abort();
  options.stop.addEventListener('abort', onStop, { once: true });
  res.on('close', onStop);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const subscription = { 'io.modelcontextprotocol/subscriptionId': id };
  const send = (message: object) => res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  send({
    jsonrpc: '2.0',
    method: 'notifications/subscriptions/acknowledged',
    params: { _meta: subscription, notifications: { taskIds } },
  });
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  try {
    await Promise.all(
      taskIds.map(async (taskId) => {
        for await (const task of backend.watch(taskId, ended.signal)) {
          send({
            jsonrpc: '2.0',
            method: 'notifications/tasks',
            params: { ...detailedTask2026(task, options.retentionMs), _meta: subscription },
          });
        }
      }),
    );
    // Every task followed has ended: the stream stays until the client closes it.
    if (!ended.signal.aborted)
      await new Promise<void>((resolve) => ended.signal.addEventListener('abort', () => resolve()));
  } catch (err) {
    if (!ended.signal.aborted) options.logger.warn({ err }, 'task subscription ended by an error');
  } finally {
    clearInterval(keepalive);
    options.stop.removeEventListener('abort', onStop);
    res.off('close', onStop);
    ended.abort();
    res.end();
  }
}

export function json(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}
