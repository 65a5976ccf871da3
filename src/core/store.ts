import type { OutputPiece } from './run-output.js';
import type {
  InputRequest,
  Origin,
  Outcome,
  Progress,
  RedirectState,
  RedirectTarget,
  TaskRecord,
  TaskStatus,
} from './task.js';

export interface NewTask extends Origin {
  taskId: string;
  toolName: string;
  owner: string;
  requestId?: string;
  redirect?: RedirectTarget;
  progress?: Progress;
  /** When the tool started (epoch ms); the store's clock when absent. */
  startedAt?: number;
  /** The call's arguments, kept only where the server may show them (TASKSERVICE_LOG_TOOL_ARGUMENTS). */
  argumentsJson?: string;
}

export interface CreateResult {
  /** False when (userId, requestId) was already claimed: `task` is that earlier task. */
  created: boolean;
  task: TaskRecord;
}

export interface FinishResult {
  /** True for exactly one caller per task: the one whose outcome was stored. */
  applied: boolean;
  task: TaskRecord;
}

export interface ListQuery {
  /** Empty: all users. */
  userId: string;
  status?: TaskStatus;
  toolName?: string;
  limit: number;
  /** Opaque, from a previous page's nextCursor. */
  cursor?: string;
  /** The caller's deadline (see TaskStore). */
  deadline?: number;
}

export interface ListPage {
  tasks: TaskRecord[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export type DeliveryUpdate = Pick<RedirectState, 'state' | 'attempts' | 'lastError'> & { deliveredAt?: number };

/** Called with each new version of a task, or with null once the task is deleted (expired). */
export type TaskListener = (task: TaskRecord | null) => void;
/** Hears every task's changes: the task's id, and its new state (null: deleted). */
export type AnyTaskListener = (taskId: string, task: TaskRecord | null) => void;

/**
 * Where task state lives. Implementations make every state change atomic: a
 * running task turns terminal exactly once whoever tries, and every change is
 * announced to the task's subscribers. Errors: TaskNotFound, InvalidArgument
 * (bad cursor), FailedPrecondition, StoreUnavailable.
 *
 * `deadline` (epoch ms), where a method takes one, is the deadline of the
 * call being served: past it the answer is worthless, so a store that waits
 * on I/O gives up then (StoreUnavailable). Background work passes none.
 */
export interface TaskStore {
  /**
   * The id for a new task, when the store places tasks by their id (the
   * sharded Redis layout): the same (userId, requestId) must land where its
   * claim is. Absent: any fresh id (ids.ts).
   */
  taskIdFor?(userId: string, requestId: string): string;
  /**
   * The ids of the unfinished tasks the store lists as run by this process,
   * when it keeps such a list (Redis): the orphan check (orphans.ts) ends
   * those nothing here runs.
   */
  tasksRunningHere?(): Promise<string[]>;
  /** Creates a RUNNING task, or returns the task that already holds (userId, requestId). */
  create(task: NewTask, deadline?: number): Promise<CreateResult>;
  /**
   * Deletes a running task of `draft` that was never reported to anyone: its
   * create may have reached the store while the answer was lost. Only the
   * owner's running task goes; anything else is left alone.
   */
  discard(draft: NewTask): Promise<void>;
  /** running or input_required -> terminal, once. Later calls get applied=false and the stored task. */
  finish(taskId: string, outcome: Outcome, deadline?: number): Promise<FinishResult>;
  /**
   * running -> input_required with the tool's question. FailedPrecondition when the task is not running
   * (ended meanwhile, or already waiting).
   */
  requestInput(taskId: string, request: InputRequest): Promise<TaskRecord>;
  /**
   * input_required -> running with the answer kept in `inputAnswer`, atomically: of concurrent answers to
   * one question exactly one applies. Not applied (the task as it is) when the task does not wait for
   * question `requestId` (another question, answered already, or ended).
   */
  provideInput(taskId: string, requestId: string, responseJson: string, deadline?: number): Promise<FinishResult>;
  /**
   * Appends a piece to a running task's output (ignored once terminal). The
   * piece says where it starts; what of it is stored already is not stored
   * again, so a write retried after a lost reply appends nothing twice.
   * `truncated` marks the output as cut (the writer, which bounds it, appended the marker).
   */
  appendOutput(taskId: string, piece: OutputPiece): Promise<void>;
  /**
   * At most `maxBytes` of the task's output from byte `offset`, cut at a
   * character boundary; empty past the end or for a task without output.
   */
  readOutput(taskId: string, offset: number, maxBytes: number, deadline?: number): Promise<string>;
  /** Latest progress of a running task; ignored once terminal. */
  setProgress(taskId: string, progress: Progress): Promise<void>;
  /** Sets or replaces the redirect target; FailedPrecondition once delivery has begun. */
  setRedirect(taskId: string, target: RedirectTarget, deadline?: number): Promise<TaskRecord>;
  /**
   * Claims a finished task's pending delivery for one deliverer (pending -> delivering).
   * Returns the task when this caller won the claim, undefined otherwise.
   */
  claimDelivery(taskId: string): Promise<TaskRecord | undefined>;
  updateDelivery(taskId: string, update: DeliveryUpdate): Promise<TaskRecord>;
  get(taskId: string, deadline?: number): Promise<TaskRecord | undefined>;
  list(query: ListQuery): Promise<ListPage>;
  /**
   * Calls `listener` with every later version of the task. Returns the
   * unsubscribe function. `safetyPoll: false`: the subscriber can afford to
   * hear of a change late if its event is lost (a store may re-read polled
   * tasks every few seconds; it re-reads every subscription after a reconnect).
   */
  subscribe(taskId: string, listener: TaskListener, options?: { safetyPoll?: boolean }): () => void;
  /**
   * Calls `listener` with every change of every task this store announces (creation is not announced: the
   * newest tasks are found by listing). Every change is then decoded here, so it is for rare listeners (the
   * operators' console); an event lost while the store reconnects is not replayed. Returns the unsubscribe.
   */
  subscribeAll(listener: AnyTaskListener): () => void;
  /**
   * Tells `listener` whenever the store becomes reachable or unreachable
   * (health reports it). Stores that cannot become unreachable never call it.
   */
  watchAvailability(listener: (available: boolean) => void): () => void;
  /** Releases timers and connections; idempotent. */
  close(): Promise<void>;
}
