import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import {
  DomainError,
  FailedPrecondition,
  InvalidArgument,
  PermissionDenied,
  ResourceExhausted,
  TaskNotFound,
  ToolNotFound,
  Unavailable,
} from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** The one place a thrown value becomes a gRPC status. */
const CODES: [new (...args: never[]) => DomainError, status][] = [
  [InvalidArgument, status.INVALID_ARGUMENT],
  [TaskNotFound, status.NOT_FOUND],
  [ToolNotFound, status.NOT_FOUND],
  [FailedPrecondition, status.FAILED_PRECONDITION],
  [PermissionDenied, status.PERMISSION_DENIED],
  [ResourceExhausted, status.RESOURCE_EXHAUSTED],
  [Unavailable, status.UNAVAILABLE],
];

/**
 * Domain errors keep their message (it says what to fix) and carry their
 * class in the `error-reason` trailer for programs. Anything else is a bug:
 * INTERNAL with a generic message; the cause is logged, never sent.
 */
export function toServiceError(err: unknown, logger: Logger): Partial<ServiceError> {
  const metadata = new Metadata();
  for (const [type, code] of CODES) {
    if (err instanceof type) {
      metadata.set('error-reason', err.name);
      return { code, details: err.message, metadata };
    }
  }
  logger.error({ err }, 'unexpected error while handling a call');
  return { code: status.INTERNAL, details: 'internal error; see the server log', metadata };
}
