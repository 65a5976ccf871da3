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
    /** Retries a write the store could not take (StoreUnavailable); absent: a failed write is dropped. */
    private readonly retry?: { attempts: number; delayMs: number },
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
    let failures = 0;
    while (next !== undefined) {
      try {
        await this.write(taskId, next);
        failures = 0;
      } catch (err) {
        const unavailable = err instanceof StoreUnavailable;
        if (unavailable && this.retry && ++failures < this.retry.attempts) {
          // Written again, with whatever came meanwhile, once the store may be back.
          await new Promise((resolve) => setTimeout(resolve, this.retry!.delayMs));
          lane.waiting = lane.waiting === undefined ? next : this.merge(next, lane.waiting);
        } else if (unavailable) {
          // An outage is reported once by the store's own availability logging, not per task and write.
          this.logger[this.retry ? 'warn' : 'debug']({ taskId }, `${this.what} write dropped: store unavailable`);
        } else {
          this.logger.warn({ err, taskId }, `${this.what} write failed`);
        }
      }
      next = lane.waiting;
      lane.waiting = undefined;
    }
    this.lanes.delete(taskId);
  }
}
