import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type ErrorKind, errorKind } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** The one place a thrown value becomes a gRPC status. */
const CODES: Record<ErrorKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  unknown_tool: status.NOT_FOUND,
  precondition: status.FAILED_PRECONDITION,
  denied: status.PERMISSION_DENIED,
  exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
};

/**
 * Domain errors keep their message (it says what to fix) and carry their
 * class in the `error-reason` trailer for programs. Anything else is a bug:
 * INTERNAL with a generic message; the cause is logged, never sent.
 */
export function toServiceError(err: unknown, logger: Logger): Partial<ServiceError> {
  const metadata = new Metadata();
  const kind = errorKind(err);
  if (kind) {
    metadata.set('error-reason', (err as Error).name);
    return { code: CODES[kind], details: (err as Error).message, metadata };
  }
  logger.error({ err }, 'unexpected error while handling a call');
  return { code: status.INTERNAL, details: 'internal error; see the server log', metadata };
}
