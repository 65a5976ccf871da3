/**
 * The TypeScript client of TaskService, published as `@taskservice/client`
 * (clients/typescript): `import { Client } from '@taskservice/client'`.
 * README "Client developers: TypeScript" shows it in use.
 */
export { Client, TaskHandle } from './client.js';
export { VERSION } from './version.js';
export type {
  AwaitOptions,
  ClientOptions,
  ExecuteOptions,
  Execution,
  ListOptions,
  ServerInfo,
  Scope,
  StreamEvent,
  Task,
  TaskUpdate,
  ToolInfo,
} from './client.js';
export {
  CancelledError,
  DeadlineExceededError,
  FailedPreconditionError,
  failureName,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  TaskFailedError,
  TaskServiceError,
  UnauthenticatedError,
  UnavailableError,
} from './errors.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { DeliveryState, FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
export { UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
