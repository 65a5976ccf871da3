import { StoreUnavailable, TaskNotFound } from './errors.js';
import type { Logger } from './logger.js';
import type { NewTask, TaskStore } from './store.js';
import { RerunningJob } from './rerunning-job.js';
import type { Outcome, TaskRecord } from './task.js';

/** A write the store missed: a finished task's outcome, or a record to take back. */
type Repair = { kind: 'finish'; outcome: Outcome } | { kind: 'discard'; draft: NewTask };

/**
 * Pending outcomes: writes the store missed while it was unreachable:
 * - outcomes of tasks that finished meanwhile;
 * - records whose create may have reached the store although the caller was
 *   answered UNAVAILABLE (the reply was lost): they are discarded, so no
 *   record appears for a refused request.
 * They are kept in memory, at most `max` (beyond that the oldest is dropped
 * and logged), and written as soon as the store answers again, oldest first.
 */
export class PendingOutcomes {
  private readonly pending = new Map<string, Repair>();
  private timer?: NodeJS.Timeout;
  /** A flush asked for during one runs once more after it: outcomes added meanwhile are written too. */
  private readonly flusher = new RerunningJob(() => this.writeAll());

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

  /** Whether a repair of this task waits here (its outcome, or the discard of its record). */
  has(taskId: string): boolean {
    return this.pending.has(taskId);
  }

  add(taskId: string, outcome: Outcome): void {
    this.enqueue(taskId, { kind: 'finish', outcome });
  }

  discard(draft: NewTask): void {
    this.enqueue(draft.taskId, { kind: 'discard', draft });
  }

  private enqueue(taskId: string, repair: Repair): void {
    if (this.max === 0) {
      this.logger.error({ taskId }, 'outcome lost: the store is unreachable and TASKSERVICE_PENDING_OUTCOMES_MAX is 0');
      return;
    }
    if (this.pending.size >= this.max) {
      const [oldest] = this.pending.keys();
      this.pending.delete(oldest);
      this.logger.error({ taskId: oldest, max: this.max }, 'too many pending outcomes: dropped the oldest');
    }
    this.pending.set(taskId, repair);
    this.schedule();
  }

  /** Tries to write every pending outcome now. */
  flush(): Promise<void> {
    return this.flusher.request();
  }

  private async writeAll(): Promise<void> {
    try {
      for (const [taskId, repair] of [...this.pending]) {
        try {
          if (repair.kind === 'discard') {
            await this.store.discard(repair.draft);
            this.pending.delete(taskId);
            continue;
          }
          const { applied, task } = await this.store.finish(taskId, repair.outcome);
          this.pending.delete(taskId);
          this.onStored(task, applied);
        } catch (err) {
          if (err instanceof TaskNotFound) this.pending.delete(taskId);
          else if (err instanceof StoreUnavailable) break;
          else throw err;
        }
      }
    } finally {
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
      this.flush().catch((err: unknown) => this.logger.error({ err }, 'writing pending outcomes failed'));
    }, this.retryMs);
    this.timer.unref();
  }
}
