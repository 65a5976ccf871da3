import type { TaskListener, TaskStore } from './store.js';
import type { TaskRecord } from './task.js';

/** One task's shared state and its watches' listeners, while at least one watch holds it. */
interface Entry {
  listeners: Set<TaskListener>;
  /** The newest state heard of: from the shared read and every event since its subscription. */
  newest?: TaskRecord;
  /** The task was deleted (expired), or the shared read did not find it. */
  gone: boolean;
  /** Whether the shared read has returned: from then on `newest` (or `gone`) is the current state. */
  known: boolean;
  /** The shared read in flight. */
  reading?: Promise<void>;
  unsubscribe: () => void;
}

/** What one watch holds of its task: its listener's place, the shared state; `leave` when the watch ends. */
export interface WatchedTask {
  /**
   * The task's current state, for a watch that subscribed to the task before asking: the state the shared read
   * and the events since have made known, or one read shared with the other watches that ask meanwhile. With a
   * `deadline` (a unary caller's), a read of its own when nothing is known yet.
   */
  current(deadline?: number): Promise<TaskRecord | undefined>;
  /**
   * The task as a write of it returned (its create), for a watch that joined before the write was sent: it
   * stands for the shared read, since every change after the write reaches the shared state.
   */
  seed(task: TaskRecord): void;
  leave(): void;
}

/**
 * The watches of a task on this replica, sharing one subscription to the store and one first read: ten streams
 * on one task were ten subscriptions and ten reads of the same state. The first watch of a task subscribes
 * here, then reads the task; later watches start from that read and the changes heard since, with no read of
 * theirs. Each watch's listener hears every change from the moment it joins.
 *
 * Nothing is missed that a watch's own subscription and read would have seen: the shared subscription was made
 * before the shared read was sent, so every change after that read reaches the shared state, and a watch's
 * listener is in place before it asks, so every change after it asks reaches the watch. (Events lost while the
 * store's event connection is down are lost to every subscription alike; the store re-reads the subscribed tasks
 * once it is back, and the shared state and every watch catch up together.) The state is shared, as an event
 * is: no watch changes a TaskRecord it is given.
 */
export class WatchedTasks {
  private readonly byTask = new Map<string, Entry>();

  constructor(private readonly store: TaskStore) {}

  /** Tasks watched (leak checks). */
  get size(): number {
    return this.byTask.size;
  }

  /** Watches open, over all tasks (leak checks). */
  get watches(): number {
    let n = 0;
    for (const entry of this.byTask.values()) n += entry.listeners.size;
    return n;
  }

  /** Adds a watch of the task, with a listener of its own that hears every later change (null: deleted). */
  join(taskId: string, listener: TaskListener): WatchedTask {
    const entry = this.byTask.get(taskId) ?? this.open(taskId);
    entry.listeners.add(listener);
    return {
      current: (deadline) => this.current(taskId, entry, deadline),
      seed: (task) => {
        heard(entry, task);
        entry.known = true;
      },
      leave: () => {
        if (!entry.listeners.delete(listener) || entry.listeners.size > 0) return;
        entry.unsubscribe();
        this.byTask.delete(taskId);
      },
    };
  }

  private open(taskId: string): Entry {
    const entry: Entry = { listeners: new Set(), gone: false, known: false, unsubscribe: () => undefined };
    entry.unsubscribe = this.store.subscribe(taskId, (task) => {
      if (task === null) entry.gone = true;
      else heard(entry, task);
      for (const listener of entry.listeners) listener(task);
    });
    this.byTask.set(taskId, entry);
    return entry;
  }

  private async current(taskId: string, entry: Entry, deadline?: number): Promise<TaskRecord | undefined> {
    if (!entry.known) {
      // The shared read has no deadline of its own; a caller that has one reads for itself.
      if (deadline !== undefined) return this.store.get(taskId, deadline);
      entry.reading ??= this.read(taskId, entry);
      await entry.reading;
    }
    return entry.gone ? undefined : entry.newest;
  }

  private async read(taskId: string, entry: Entry): Promise<void> {
    try {
      const task = await this.store.get(taskId);
      if (!task) entry.gone = true;
      else heard(entry, task);
      entry.known = true;
    } finally {
      // A failed read is not kept: the next watch to ask reads again.
      entry.reading = undefined;
    }
  }
}

/** A state of the task from any source (read, write, event): kept if newer than the newest so far. */
function heard(entry: Entry, task: TaskRecord): void {
  if (!entry.newest || task.version > entry.newest.version) entry.newest = task;
}
