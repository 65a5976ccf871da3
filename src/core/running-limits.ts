import { CountsByKey } from './counts.js';
import { ResourceExhausted } from './errors.js';

/**
 * A place among the running calls: taken before a call stores anything,
 * freed when its run ends, or at once if none starts. It knows its limits and
 * user rather than holding a closure: one lives as long as each running task.
 */
export class Slot {
  private state: 'held' | 'handed' | 'freed' = 'held';

  constructor(
    private readonly limits: RunningLimits,
    private readonly userId: string,
  ) {}

  /** A run that started owns it now: only `release()` frees it, when the run ends. */
  handOver(): void {
    if (this.state === 'held') this.state = 'handed';
  }

  /** Frees it unless a run took it. */
  releaseIfHeld(): void {
    if (this.state === 'held') this.release();
  }

  release(): void {
    if (this.state === 'freed') return;
    this.state = 'freed';
    this.limits.free(this.userId);
  }
}

/**
 * How many tools run at once in this process, overall and per user. A call
 * beyond either limit is RESOURCE_EXHAUSTED at once rather than queued: the
 * caller (or the model) decides whether to retry.
 */
export class RunningLimits {
  private readonly perUser = new CountsByKey<string>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerUser: number,
  ) {}

  get running(): number {
    return this.perUser.total;
  }

  take(userId: string): Slot {
    if (this.perUser.total >= this.maxTotal) {
      throw new ResourceExhausted(
        `this replica runs ${this.perUser.total} tools, its limit (TASKSERVICE_MAX_RUNNING); retry later`,
      );
    }
    const mine = this.perUser.get(userId);
    if (mine >= this.maxPerUser) {
      throw new ResourceExhausted(
        `user_id "${userId}" has ${mine} tools running on this replica, ` +
          'the limit (TASKSERVICE_MAX_RUNNING_PER_USER); wait for one to finish',
      );
    }
    this.perUser.add(userId);
    return new Slot(this, userId);
  }

  /** Called by a Slot, once. */
  free(userId: string): void {
    this.perUser.remove(userId);
  }
}
