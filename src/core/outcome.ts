import type { NewTask } from './store.js';
import { FailureReason, type Outcome, type TaskRecord, TaskStatus } from './task.js';
import { FailedPrecondition } from './errors.js';
import { errorText } from './text.js';

/**
 * How a settled run becomes Execute's answer. Split from execute-flow.ts, which
 * decides when each applies.
 */

/** What Execute answers (the manager's result type). */
export interface ExecuteResult {
  backgrounded: boolean;
  /** The backgrounded task, or the settled outcome of an inline call. */
  task: TaskRecord;
  /** What the model reads. */
  text: string;
}

/**
 * The answer of an untracked call. Its task id is empty: nothing was stored,
 * so there is nothing a later GetResult could find.
 */
export function inlineAnswer(draft: NewTask, outcome: Outcome, startedAt: number): ExecuteResult {
  // Built field by field, not spread from a draft record: this runs once per inline call.
  const now = Date.now();
  const task: TaskRecord = {
    taskId: '',
    toolName: draft.toolName,
    userId: draft.userId,
    channelId: draft.channelId,
    platform: draft.platform,
    owner: draft.owner,
    status: outcome.status,
    createdAt: startedAt,
    updatedAt: now,
    finishedAt: now,
    version: 1,
  };
  if (outcome.status === TaskStatus.Completed) task.result = outcome.result;
  else {
    task.failureReason = outcome.reason;
    task.error = outcome.error;
  }
  return { backgrounded: false, task, text: outcomeText(task) };
}

/** The task as it stands once `outcome` is applied. */
export function withOutcome(task: TaskRecord, outcome: Outcome, finishedAt: number): TaskRecord {
  return {
    ...task,
    updatedAt: finishedAt,
    finishedAt,
    ...(outcome.status === TaskStatus.Completed
      ? { status: TaskStatus.Completed, result: outcome.result }
      : { status: TaskStatus.Failed, failureReason: outcome.reason, error: outcome.error }),
  };
}

export function outcomeText(task: TaskRecord): string {
  return task.status === TaskStatus.Completed ? (task.result ?? '') : errorText(task.error ?? '');
}

/** Cancelling an already-cancelled task is a no-op; any other ended task cannot be cancelled. */
export function alreadyEnded(task: TaskRecord): TaskRecord {
  if (task.failureReason === FailureReason.Cancelled) return task;
  throw new FailedPrecondition(`task ${task.taskId} already ${task.status}; only running tasks can be cancelled`);
}
