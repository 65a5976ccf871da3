import { StoreUnavailable } from './errors.js';
import type { Logger } from './logger.js';

/** A write in flight for one task, and what waits behind it (already merged). */
interface Lane<T> {
  waiting?: T;
  done: Promise<void>;
}

/**
 * Writes values to the store with at most one write in flight per task;
 * while one is in flight, later values wait merged into one (`merge`), so a
 * tool that reports thousands of times a second costs a bounded stream of
 * writes, in order. Progress keeps only the newest value; output joins the
 * pieces.
 */
export class SerialWriter<T> {
  private readonly lanes = new Map<string, Lane<T>>();

  constructor(
    private readonly what: string,
    private readonly write: (taskId: string, value: T) => Promise<void>,
    private readonly merge: (waiting: T, next: T) => T,
    private readonly logger: Logger,
  ) {}

  push(taskId: string, value: T): void {
    const lane = this.lanes.get(taskId);
    if (lane) {
      lane.waiting = lane.waiting === undefined ? value : this.merge(lane.waiting, value);
      return;
    }
    const fresh: Lane<T> = { done: Promise.resolve() };
    this.lanes.set(taskId, fresh);
    fresh.done = this.drain(taskId, value, fresh);
  }

  /** Resolves once every value pushed so far for the task has been written (or failed). */
  flushed(taskId: string): Promise<void> {
    return this.lanes.get(taskId)?.done ?? Promise.resolve();
  }

  private async drain(taskId: string, first: T, lane: Lane<T>): Promise<void> {
    let next: T | undefined = first;
    while (next !== undefined) {
      try {
        await this.write(taskId, next);
      } catch (err) {
        // An outage of the store is reported once by its own availability logging, not per task and write.
        if (err instanceof StoreUnavailable)
          this.logger.debug({ taskId }, `${this.what} write failed: store unavailable`);
        else this.logger.warn({ err, taskId }, `${this.what} write failed`);
      }
      next = lane.waiting;
      lane.waiting = undefined;
    }
    this.lanes.delete(taskId);
  }
}
