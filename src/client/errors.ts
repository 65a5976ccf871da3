import { type ServiceError, status } from '@grpc/grpc-js';
import { FailureReason, type Task } from '../../gen/ts/taskmanager/v1/task.js';

/**
 * A call the server refused or could not answer. `code` is the gRPC status;
 * the subclass says which, so callers can `catch (e) { if (e instanceof NotFoundError) ... }`.
 * The message is the server's: it says what to fix.
 */
export class TaskServiceError extends Error {
  /** The server's `error-reason` trailer (the domain error's class), when it sent one. */
  readonly reason: string;

  constructor(
    readonly code: status,
    readonly details: string,
    reason = '',
  ) {
    super(`${codeName(code)}: ${details}`);
    this.name = new.target.name;
    this.reason = reason;
  }

  get codeName(): string {
    return codeName(this.code);
  }
}

/** grpc-js's name of a status code ("NOT_FOUND"), or the number when it has none. */
function codeName(code: status): string {
  // A numeric enum maps numbers back to names.
  return (status as unknown as Record<number, string | undefined>)[code] ?? String(code);
}

export class InvalidArgumentError extends TaskServiceError {}
export class NotFoundError extends TaskServiceError {}
export class PermissionDeniedError extends TaskServiceError {}
export class UnauthenticatedError extends TaskServiceError {}
export class ResourceExhaustedError extends TaskServiceError {}
export class FailedPreconditionError extends TaskServiceError {}
export class UnavailableError extends TaskServiceError {}
export class DeadlineExceededError extends TaskServiceError {}
export class CancelledError extends TaskServiceError {}

const BY_CODE: Partial<Record<status, new (code: status, details: string, reason?: string) => TaskServiceError>> = {
  [status.INVALID_ARGUMENT]: InvalidArgumentError,
  [status.NOT_FOUND]: NotFoundError,
  [status.PERMISSION_DENIED]: PermissionDeniedError,
  [status.UNAUTHENTICATED]: UnauthenticatedError,
  [status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [status.FAILED_PRECONDITION]: FailedPreconditionError,
  [status.UNAVAILABLE]: UnavailableError,
  [status.DEADLINE_EXCEEDED]: DeadlineExceededError,
  [status.CANCELLED]: CancelledError,
};

/** The typed error for a grpc-js failure (anything else is returned as is). */
export function toClientError(err: unknown): unknown {
  const e = err as Partial<ServiceError>;
  if (typeof e?.code !== 'number') return err;
  const reason = e.metadata?.get('error-reason')[0];
  const Type = BY_CODE[e.code as status] ?? TaskServiceError;
  return new Type(e.code, e.details ?? e.message ?? '', typeof reason === 'string' ? reason : '');
}

/** Waiting for a task's result found that it failed (tool error, cancelled, timed out, worker lost...). */
export class TaskFailedError extends Error {
  readonly reason: FailureReason;

  constructor(readonly task: Task) {
    super(`task ${task.taskId} (${task.toolName}) failed: ${failureName(task.failureReason)}: ${task.error}`);
    this.name = 'TaskFailedError';
    this.reason = task.failureReason;
  }
}

/** "tool_error", "cancelled", ... as the server's text answers spell it. */
export function failureName(reason: FailureReason): string {
  return FailureReason[reason]?.replace(/^FAILURE_REASON_/, '').toLowerCase() ?? String(reason);
}
