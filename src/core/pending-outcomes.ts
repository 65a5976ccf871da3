import { StoreUnavailable, TaskNotFound } from './errors.js';
import type { Logger } from './logger.js';
import type { TaskStore } from './store.js';
import type { Outcome, TaskRecord } from './task.js';

/**
 * Outcomes of tasks that finished while the store was unreachable. They are
 * kept in memory, at most `max` (beyond that the oldest is dropped and
 * logged: its task will be failed as worker_lost by the lease sweep once the
 * lease of this replica lapses, or stay running until it does), and written
 * as soon as the store answers again, oldest first.
 */
export class PendingOutcomes {
  private readonly pending = new Map<string, Outcome>();
  private timer?: NodeJS.Timeout;
  private flushing = false;

  constructor(
    private readonly store: TaskStore,
    private readonly max: number,
    private readonly retryMs: number,
    private readonly onStored: (task: TaskRecord, applied: boolean) => void,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  add(taskId: string, outcome: Outcome): void {
    if (this.max === 0) {
      this.logger.error({ taskId }, 'outcome lost: the store is unreachable and buffering is off');
      return;
    }
    if (this.pending.size >= this.max) {
      const [oldest] = this.pending.keys();
      this.pending.delete(oldest);
      this.logger.error({ taskId: oldest, max: this.max }, 'outcome buffer full: dropped the oldest outcome');
    }
    this.pending.set(taskId, outcome);
    this.schedule();
  }

  /** Tries to write every buffered outcome now. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (const [taskId, outcome] of [...this.pending]) {
        try {
          const { applied, task } = await this.store.finish(taskId, outcome);
          this.pending.delete(taskId);
          this.onStored(task, applied);
        } catch (err) {
          if (err instanceof TaskNotFound) this.pending.delete(taskId);
          else if (err instanceof StoreUnavailable) break;
          else throw err;
        }
      }
    } finally {
      this.flushing = false;
      if (this.pending.size > 0) this.schedule();
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) => this.logger.error({ err }, 'flushing buffered outcomes failed'));
    }, this.retryMs);
    this.timer.unref();
  }
}
