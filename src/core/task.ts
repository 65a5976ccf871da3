/**
 * The task model. Statuses stay the seed's three plain strings (they are
 * stored and shown to models as they are); why a task failed is a separate,
 * closed set of reasons.
 */
export const TaskStatus = {
  Running: 'running',
  Completed: 'completed',
  Failed: 'failed',
  /** The tool asked a question and waits for an answer; not terminal. */
  InputRequired: 'input_required',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const FailureReason = {
  ToolError: 'tool_error',
  Cancelled: 'cancelled',
  HardTimeout: 'hard_timeout',
  WorkerLost: 'worker_lost',
  Shutdown: 'shutdown',
  InputTimeout: 'input_timeout',
} as const;
export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

export const DeliveryState = {
  Pending: 'pending',
  Delivering: 'delivering',
  Delivered: 'delivered',
  Failed: 'failed',
} as const;
export type DeliveryState = (typeof DeliveryState)[keyof typeof DeliveryState];

/** Who asked: the task is visible only to this user when callers name one. */
export interface Origin {
  userId: string;
  channelId: string;
  platform: string;
}

export interface Progress {
  /** 0..1 */
  fraction: number;
  message: string;
  updatedAt: number;
}

/** Where a finished task's result goes. maxChars 0 = the platform's limit. */
export interface RedirectTarget {
  channelId: string;
  platform: string;
  maxChars: number;
}

export interface RedirectState extends RedirectTarget {
  state: DeliveryState;
  attempts: number;
  lastError: string;
  deliveredAt?: number;
}

/** A question a running tool asked (ctx.requestInput); the task waits in INPUT_REQUIRED. */
export interface InputRequest {
  /** Unique within the task's life: an answer names it, so a late answer to an old question is refused. */
  id: string;
  message: string;
  /** The JSON Schema the answer must match, as JSON text. */
  schemaJson: string;
  requestedAt: number;
}

/** The answer to a question, kept with the task until the tool that asked has it. */
export interface InputAnswer {
  requestId: string;
  responseJson: string;
}

/**
 * One question of a task's life, kept after it is answered so that a stream
 * resumed after the fact still replays the INPUT_REQUIRED episode it missed
 * (see watchTask). Versions are the task's versions at the two transitions.
 */
export interface InputEpisode {
  request: InputRequest;
  askedVersion: number;
  /** Absent while the question waits. */
  answeredVersion?: number;
}

/** The newest episodes a task keeps; a tool asking more questions than this loses the oldest from replay. */
export const INPUT_LOG_MAX = 16;

/** A tracked task as the store holds it. Times are epoch milliseconds. */
export interface TaskRecord extends Origin {
  taskId: string;
  toolName: string;
  status: TaskStatus;
  failureReason?: FailureReason;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  result?: string;
  error?: string;
  requestId?: string;
  progress?: Progress;
  redirect?: RedirectState;
  /** Set only while the task is INPUT_REQUIRED. */
  inputRequest?: InputRequest;
  /** The last answer given (internal: how the answer reaches the replica that runs the tool). */
  inputAnswer?: InputAnswer;
  /** The instance whose process runs the tool. */
  owner: string;
  /** Grows by one with every stored change; orders snapshots of one task. */
  version: number;
  /** Bytes of output stored (UTF-8, the truncation marker included); absent while none. */
  outputBytes?: number;
  /** The output reached its limit and ends with the truncation marker. */
  outputTruncated?: boolean;
  /** The task's questions, oldest first (internal: replayed to resumed streams). */
  inputLog?: InputEpisode[];
  /** The call's arguments (JSON), kept only where the server may show them (TASKSERVICE_LOG_TOOL_ARGUMENTS). */
  argumentsJson?: string;
}

/** How a run ended. */
export type Outcome =
  | { status: typeof TaskStatus.Completed; result: string }
  | { status: typeof TaskStatus.Failed; reason: FailureReason; error: string };

export function isTerminal(task: Pick<TaskRecord, 'status'>): boolean {
  return task.status === TaskStatus.Completed || task.status === TaskStatus.Failed;
}

/**
 * A deep copy, so that nobody outside a store can change what it holds.
 * Field by field in one order, absent fields left out (as the Redis codec
 * builds records): a spread copy of a record whose fields were added in
 * varying orders came out as a slow dictionary-mode object, and a page of
 * ListTasks makes fifty.
 */
export function cloneTask(task: TaskRecord): TaskRecord {
  const copy: TaskRecord = {
    taskId: task.taskId,
    toolName: task.toolName,
    status: task.status,
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    userId: task.userId,
    channelId: task.channelId,
    platform: task.platform,
    owner: task.owner,
    version: task.version,
  };
  if (task.failureReason !== undefined) copy.failureReason = task.failureReason;
  if (task.finishedAt !== undefined) copy.finishedAt = task.finishedAt;
  if (task.result !== undefined) copy.result = task.result;
  if (task.error !== undefined) copy.error = task.error;
  if (task.requestId !== undefined) copy.requestId = task.requestId;
  if (task.progress) copy.progress = { ...task.progress };
  if (task.redirect) copy.redirect = { ...task.redirect };
  if (task.inputRequest) copy.inputRequest = { ...task.inputRequest };
  if (task.inputAnswer) copy.inputAnswer = { ...task.inputAnswer };
  if (task.outputBytes !== undefined) copy.outputBytes = task.outputBytes;
  if (task.outputTruncated) copy.outputTruncated = true;
  if (task.inputLog) copy.inputLog = task.inputLog.map((e) => ({ ...e, request: { ...e.request } }));
  if (task.argumentsJson !== undefined) copy.argumentsJson = task.argumentsJson;
  return copy;
}
