import type { TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import type { RetryPolicy } from './retry.js';

/* The options of the client's calls, in a file of their own so that the stream loops (streams.ts) share them. */

export interface ClientOptions {
  /** Bearer token, sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** TLS: true for the system roots, or PEM buffers (a private CA; a client certificate for mutual TLS). */
  tls?: boolean | { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** How UNAVAILABLE is retried on calls that are safe to repeat. */
  retry?: Partial<RetryPolicy>;
  /** The deadline of each unary call (ms); Execute gets its budget on top. Default 30 s. */
  callTimeoutMs?: number;
  /** The user_id calls are made for, unless a call names another. */
  userId?: string;
}

/** Who a call acts for and where its output belongs. */
export interface Scope {
  userId?: string;
  /** Stops waiting (the call is cancelled); the task itself is not cancelled. */
  signal?: AbortSignal;
}

export interface ExecuteOptions extends Scope {
  channelId?: string;
  platform?: string;
  /** The budget (seconds): past it the tool goes on in the background. Default: the tool's or server's. */
  budgetSeconds?: number;
  /**
   * @deprecated The old name of `budgetSeconds` (the proto field is `timeout_seconds`); read when
   * `budgetSeconds` is absent.
   */
  timeoutSeconds?: number;
  /** An idempotency key: a retry with the same key gets the same task, never a second run. Makes Execute retryable. */
  requestId?: string;
  /** Deliver the result to a chat channel when the task finishes. */
  redirect?: { channelId: string; platform: string; maxChars?: number };
  /** W3C trace context to send with the call (the tool receives it). */
  traceparent?: string;
  tracestate?: string;
}

export interface AwaitOptions extends Scope {
  /** Stop after this long even if the task still runs (the last update then has waitTimedOut). */
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  /** Resume after this Task.version (the last one seen): no state seen before is yielded again. */
  afterVersion?: number;
  /**
   * Also yield the task's output (UPDATE_KIND_OUTPUT updates) from this byte offset: 0 for all of it, or
   * the end of what an earlier stream yielded. Absent: no output.
   */
  outputOffset?: number;
}

export interface ListOptions extends Scope {
  status?: TaskStatus;
  toolName?: string;
  pageSize?: number;
  pageToken?: string;
}
