import { StoreUnavailable } from './errors.js';
import type { Logger } from './logger.js';
import type { TaskStore } from './store.js';
import type { Progress } from './task.js';

/**
 * Writes tool progress to the store with at most one write in flight per
 * task; while one is in flight only the newest value waits. A tool may report
 * progress thousands of times a second and the store sees a bounded stream.
 */
export class ProgressWriter {
  private readonly waiting = new Map<string, Progress | undefined>();

  constructor(
    private readonly store: TaskStore,
    private readonly logger: Logger,
  ) {}

  push(taskId: string, progress: Progress): void {
    if (this.waiting.has(taskId)) {
      this.waiting.set(taskId, progress);
      return;
    }
    this.waiting.set(taskId, undefined);
    void this.write(taskId, progress);
  }

  private async write(taskId: string, progress: Progress): Promise<void> {
    let next: Progress | undefined = progress;
    while (next) {
      try {
        await this.store.setProgress(taskId, next);
      } catch (err) {
        // Progress is advisory: a lost update is replaced by the next one. An outage of the store
        // is reported once by its own availability logging, not once per running task and tick.
        if (err instanceof StoreUnavailable) this.logger.debug({ taskId }, 'progress write failed: store unavailable');
        else this.logger.warn({ err, taskId }, 'progress write failed');
      }
      next = this.waiting.get(taskId);
      if (next) this.waiting.set(taskId, undefined);
    }
    this.waiting.delete(taskId);
  }
}
