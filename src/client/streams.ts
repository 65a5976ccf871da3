import type { ClientReadableStream, Metadata } from '@grpc/grpc-js';
import {
  type AwaitResultResponse,
  type ExecuteRequest,
  type ExecuteStreamResponse,
  type TaskServiceClient,
  UpdateKind,
} from '../../gen/ts/taskmanager/v1/task_service.js';
import { pause } from './backoff.js';
import type { AwaitOptions, ExecuteOptions } from './options.js';
import { toClientError, UnavailableError } from './errors.js';
import { ResumePoint } from './resume.js';
import { backoffMs, type RetryPolicy } from './retry.js';

/*
 * The stream loops that survive a dropped connection: AwaitResult resumed from
 * the last version and output byte (followTask), and ExecuteStream continued
 * through it once its task is backgrounded (executeAndFollow).
 */

/** What the loops use of the client. */
export interface StreamDeps {
  stub: TaskServiceClient;
  retry: RetryPolicy;
  metadata(): Metadata;
}

/** One event of executeStream: ExecuteStream's messages, with resumed updates as `update`. */
export type StreamEvent = NonNullable<ExecuteStreamResponse['event']>;

/** How long a stream whose last message is in may wait for the server's status before the client cancels it. */
export const STATUS_WAIT_MS = 1000;

/**
 * Watches `stream` for its status. After its last message the server ends the stream itself, its status a moment
 * behind. Cancelling in that moment would send a RST_STREAM per followed task, and HTTP/2 servers close a connection
 * that receives more than about a thousand of them in a burst (nghttp2's rapid-reset limit), failing every call on
 * it. `end()` lets the status end the stream, cancelling only if it has not come within STATUS_WAIT_MS, so that a
 * server which never ends a stream cannot hold the call until its deadline.
 */
function endByStatus(stream: ClientReadableStream<unknown>): { end(): void } {
  let statusIn = false;
  let timer: NodeJS.Timeout | undefined;
  stream.once('status', () => {
    statusIn = true;
    clearTimeout(timer);
  });
  return {
    end() {
      if (statusIn) return;
      timer = setTimeout(() => stream.cancel(), STATUS_WAIT_MS);
      timer.unref();
    },
  };
}

/** AwaitResult from `at`, reconnecting from wherever the stream got to. */
export async function* followTask(
  deps: StreamDeps,
  task: { taskId: string; userId: string },
  at: ResumePoint,
  options: AwaitOptions,
): AsyncGenerator<AwaitResultResponse> {
  const request = {
    ...task,
    ...(options.timeoutSeconds !== undefined && { timeoutSeconds: options.timeoutSeconds }),
    ...(options.heartbeatSeconds !== undefined && { heartbeatSeconds: options.heartbeatSeconds }),
  };
  let failures = 0;
  for (;;) {
    const stream: ClientReadableStream<AwaitResultResponse> = deps.stub.awaitResult(
      { ...request, ...at.request() },
      deps.metadata(),
    );
    const cancel = () => stream.cancel();
    options.signal?.addEventListener('abort', cancel, { once: true });
    const status = endByStatus(stream);
    let ended = false;
    try {
      for await (const received of stream as AsyncIterable<AwaitResultResponse>) {
        failures = 0;
        const update = at.accept(received);
        if (!update) continue;
        ended = update.kind === UpdateKind.UPDATE_KIND_TERMINAL || update.waitTimedOut;
        yield update;
        if (ended) return;
      }
      return;
    } catch (err) {
      const error = toClientError(err);
      if (!(error instanceof UnavailableError) || ++failures >= deps.retry.attempts || options.signal?.aborted)
        throw error;
      await pause(backoffMs(deps.retry, failures), options.signal);
    } finally {
      options.signal?.removeEventListener('abort', cancel);
      // A consumer that stops early (break) ends the stream here.
      if (ended) status.end();
      else stream.cancel();
    }
  }
}

/** ExecuteStream, continued through AwaitResult if it drops after a backgrounded answer (see Client.executeStream). */
export async function* executeAndFollow(
  deps: StreamDeps,
  request: ExecuteRequest,
  metadata: Metadata,
  options: ExecuteOptions,
): AsyncGenerator<StreamEvent> {
  const at = new ResumePoint(0, 0);
  let taskId: string | undefined;
  let failures = 0;
  for (;;) {
    const stream: ClientReadableStream<ExecuteStreamResponse> = deps.stub.executeStream(request, metadata);
    const cancel = () => stream.cancel();
    options.signal?.addEventListener('abort', cancel, { once: true });
    const status = endByStatus(stream);
    let ended = false;
    try {
      for await (const { event } of stream as AsyncIterable<ExecuteStreamResponse>) {
        failures = 0;
        if (!event) continue;
        if (event.$case === 'output') {
          const chunk = at.acceptOutput(Number(event.value.offset), event.value.text);
          if (chunk) yield { $case: 'output', value: chunk };
          continue;
        }
        if (event.$case === 'answer') {
          taskId = event.value.task!.taskId;
          at.version = Number(event.value.task!.version);
          ended = !event.value.backgrounded;
        }
        if (event.$case === 'update') {
          const update = at.accept(event.value);
          if (update?.kind === UpdateKind.UPDATE_KIND_TERMINAL) ended = true;
          if (update) yield { $case: 'update', value: update };
          continue;
        }
        yield event;
      }
      return;
    } catch (err) {
      const error = toClientError(err);
      const retryable = error instanceof UnavailableError && (taskId !== undefined || !!options.requestId);
      if (!retryable || ++failures >= deps.retry.attempts || options.signal?.aborted) throw error;
      await pause(backoffMs(deps.retry, failures), options.signal);
      if (taskId === undefined) continue;
      for await (const update of followTask(deps, { taskId, userId: request.userId }, at, options))
        yield { $case: 'update', value: update };
      return;
    } finally {
      options.signal?.removeEventListener('abort', cancel);
      if (ended) status.end();
      else stream.cancel();
    }
  }
}
