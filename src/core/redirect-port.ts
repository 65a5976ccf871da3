import type { RedirectTarget, TaskRecord } from './task.js';

/** How the core hands finished results to output redirect (src/redirect implements it). */
export interface RedirectPort {
  /** Throws InvalidArgument when the target cannot be delivered to (unknown platform, ...). */
  validateTarget(target: RedirectTarget): void;
  /**
   * Starts delivering a finished task's result: claims the delivery first,
   * unless `alreadyClaimed` (taken over from a lost instance). Never throws;
   * outcomes land in the store.
   */
  deliver(task: TaskRecord, alreadyClaimed?: boolean): void;
  /** Sends the question of a task that entered INPUT_REQUIRED to its redirect target, if any. Never throws. */
  deliverQuestion(task: TaskRecord): void;
  /** Waits for deliveries under way, up to the grace period. */
  close(): Promise<void>;
}

/** For a server with no platforms configured. */
export const noRedirects: RedirectPort = {
  validateTarget() {},
  deliver() {},
  deliverQuestion() {},
  async close() {},
};

/** A task that just ended goes to its redirect target, if it has one. */
export function deliverIfRedirected(redirects: RedirectPort, task: TaskRecord): void {
  if (task.redirect) redirects.deliver(task);
}
