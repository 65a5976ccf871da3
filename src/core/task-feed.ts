import { type Caller, mayActFor } from './caller.js';
import type { Logger } from './logger.js';
import type { TaskStore } from './store.js';
import type { TaskRecord } from './task.js';

/** Hears each task a follower may see, whenever it changes (and once when it is found new). */
export type FeedListener = (task: TaskRecord) => void;
/** Hears that changes may have been missed (the store was unreachable): what the follower shows is to be read again. */
export type ResyncListener = () => void;

export interface TaskFeedOptions {
  /** How often the newest tasks are listed to find new ones (the store does not announce creation). */
  pollMs: number;
  /** How many of the newest tasks each page of a poll reads. */
  pageSize: number;
  /** At most this many pages per poll: more new tasks than fit are heard of at their next change. */
  maxPages: number;
}

interface Follower {
  caller: Caller;
  listener: FeedListener;
  resync: ResyncListener;
}

/**
 * Every task change a caller may see, for the operators' console: the store's changes of every task, and the
 * tasks found new by listing the newest ones (the store announces changes, not creation). One store subscription
 * and one poll per replica however many consoles follow; the first follower starts them, the last one stops them.
 * A follower hears only tasks of users its caller may act for.
 */
export class TaskFeed {
  private readonly followers = new Set<Follower>();
  private unsubscribe?: () => void;
  private unwatchAvailability?: () => void;
  /** The store was unreachable since the last resync: its changes of that time are lost to the subscription. */
  private lost = false;
  private timer?: NodeJS.Timeout;
  /** The ids of the last poll's pages; undefined until the first poll has read one. */
  private known?: Set<string>;
  private polling = false;

  constructor(
    private readonly store: TaskStore,
    private readonly options: TaskFeedOptions,
    private readonly logger: Logger,
  ) {}

  /** Followers now (leak checks). */
  get size(): number {
    return this.followers.size;
  }

  /** Starts hearing changes; the returned function stops (once, however often it is called). */
  follow(caller: Caller, listener: FeedListener, resync: ResyncListener = () => undefined): () => void {
    const follower = { caller, listener, resync };
    this.followers.add(follower);
    if (this.followers.size === 1) this.start();
    return () => {
      if (!this.followers.delete(follower)) return;
      if (this.followers.size === 0) this.stop();
    };
  }

  private start(): void {
    this.unsubscribe = this.store.subscribeAll((_taskId, task) => {
      if (task) this.tell(task);
    });
    // Changes announced while the store was unreachable are not replayed: followers read again once it is back.
    this.unwatchAvailability = this.store.watchAvailability((available) => {
      if (!available) this.lost = true;
      else if (this.lost) {
        this.lost = false;
        this.resyncFollowers();
      }
    });
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
    void this.poll();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unwatchAvailability?.();
    this.unwatchAvailability = undefined;
    this.lost = false;
    clearInterval(this.timer);
    this.timer = undefined;
    this.known = undefined;
  }

  /**
   * Lists the newest tasks and tells of those the last poll did not see (the first poll only learns them). Reads
   * page after page until it reaches a task the last poll saw, so a burst of creations is heard of in full, up to
   * `maxPages` pages.
   */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const before = this.known;
      const seen: TaskRecord[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < this.options.maxPages; page++) {
        const listed = await this.store.list({ userId: '', limit: this.options.pageSize, cursor });
        seen.push(...listed.tasks);
        cursor = listed.nextCursor;
        if (!before || !cursor || listed.tasks.some((t) => before.has(t.taskId))) break;
      }
      if (!this.timer) return;
      this.known = new Set(seen.map((t) => t.taskId));
      // Oldest first, so that a console inserting at the top ends with the newest there.
      if (before) for (const task of seen.reverse()) if (!before.has(task.taskId)) this.tell(task);
    } catch (err) {
      this.logger.debug({ err }, 'console feed: listing the newest tasks failed; the next poll retries');
    } finally {
      this.polling = false;
    }
  }

  private resyncFollowers(): void {
    this.forEachFollower(({ resync }) => resync());
  }

  private tell(task: TaskRecord): void {
    this.forEachFollower(({ caller, listener }) => {
      if (mayActFor(caller, task.userId)) listener(task);
    });
  }

  /** Calls `call` with each follower; one that throws is logged, and the others still hear. */
  private forEachFollower(call: (follower: Follower) => void): void {
    for (const follower of [...this.followers]) {
      try {
        call(follower);
      } catch (err) {
        this.logger.error({ err }, 'console feed: a follower failed');
      }
    }
  }
}
