/**
 * Domain errors. They know nothing of gRPC: src/grpc/status.ts maps each to
 * a status code. Messages say what to fix, because callers (and models) read them.
 */
export class DomainError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request field is malformed. `field` names it as the API spells it. */
export class InvalidArgument extends DomainError {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** No such task, or one the caller may not see: the two are indistinguishable on purpose. */
export class TaskNotFound extends DomainError {
  constructor(readonly taskId: string) {
    super(`task ${taskId} not found`);
  }
}

export class ToolNotFound extends DomainError {
  constructor(
    readonly toolName: string,
    readonly known: readonly string[],
  ) {
    super(`unknown tool "${toolName}"; known tools: ${known.join(', ')}`);
  }
}

/** The caller is authenticated but may not do this (act for that user). */
export class PermissionDenied extends DomainError {}

/** A limit was reached (running tools, open streams); retrying later may work. */
export class ResourceExhausted extends DomainError {}

/** The request is valid but the task's state does not allow it. */
export class FailedPrecondition extends DomainError {}

/** The service is shutting down or cannot reach what it needs; retrying elsewhere may work. */
export class Unavailable extends DomainError {}

/** The store could not be reached in time. */
export class StoreUnavailable extends Unavailable {
  constructor(cause: unknown) {
    super('task store unavailable', { cause });
  }
}
