import { FailedPrecondition } from '../core/errors.js';

/**
 * The domain errors both stores raise, each message written once: callers
 * (and tests) must read the same words whichever store answered.
 */

/** The task's redirect can no longer change: its delivery has begun (`state` is how far it got). */
export function redirectSettled(taskId: string, state: string): FailedPrecondition {
  return new FailedPrecondition(`the result of task ${taskId} is already ${state}; its redirect can no longer change`);
}

/** A delivery update for a task that has no redirect to deliver. */
export function noRedirect(taskId: string): FailedPrecondition {
  return new FailedPrecondition(`task ${taskId} has no output redirect`);
}
