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

/** What kind of refusal a domain error is: each front door (gRPC, MCP, the console) maps the kind to its own code. */
export type ErrorKind =
  'not_found' | 'unknown_tool' | 'invalid' | 'denied' | 'precondition' | 'exhausted' | 'unavailable';

const KINDS: [new (...args: never[]) => DomainError, ErrorKind][] = [
  [TaskNotFound, 'not_found'],
  [ToolNotFound, 'unknown_tool'],
  [InvalidArgument, 'invalid'],
  [PermissionDenied, 'denied'],
  [FailedPrecondition, 'precondition'],
  [ResourceExhausted, 'exhausted'],
  [Unavailable, 'unavailable'],
];

/** The kind of a domain error; undefined for anything else (a bug: never shown to the caller as it is). */
export function errorKind(err: unknown): ErrorKind | undefined {
  if (!(err instanceof DomainError)) return undefined;
  return KINDS.find(([type]) => err instanceof type)?.[1];
}
