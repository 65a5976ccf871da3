import type { AnyTaskListener, TaskListener } from '../core/store.js';
import type { TaskRecord } from '../core/task.js';

/**
 * Who listens to which task, for a store. Nearly every task has exactly one
 * listener (the manager's, for as long as the task runs), so a single one is
 * kept as it is and only a second makes an array: a Set per task cost about
 * 150 bytes for each of 100,000 running tasks.
 */
export class TaskListeners {
  private readonly byTask = new Map<string, TaskListener | TaskListener[]>();
  /** Listeners to every task (the console's feed): rare, and each one makes every change decoded. */
  private readonly everyTask = new Set<AnyTaskListener>();
  private count = 0;

  /** Listeners held, over all tasks (leak checks). */
  get size(): number {
    return this.count + this.everyTask.size;
  }

  /** Adds a listener to every task's changes; the returned function removes it. */
  addEvery(listener: AnyTaskListener): () => void {
    const own = (taskId: string, task: TaskRecord | null) => listener(taskId, task);
    this.everyTask.add(own);
    return () => void this.everyTask.delete(own);
  }

  /** The tasks that have listeners. */
  taskIds(): string[] {
    return [...this.byTask.keys()];
  }

  /** The task has listeners of its own, or someone listens to every task. */
  has(taskId: string): boolean {
    return this.everyTask.size > 0 || this.byTask.has(taskId);
  }

  /** Adds a listener; the returned function removes it (once, however often it is called). */
  add(taskId: string, listener: TaskListener): () => void {
    const current = this.byTask.get(taskId);
    if (current === undefined) this.byTask.set(taskId, listener);
    else if (Array.isArray(current)) current.push(listener);
    else this.byTask.set(taskId, [current, listener]);
    this.count++;
    let added = true;
    return () => {
      if (!added) return;
      added = false;
      this.remove(taskId, listener);
    };
  }

  /**
   * Tells the task's listeners, each its own copy when `copy` is given. A
   * listener added or removed meanwhile does not change who is told this time.
   */
  notify(taskId: string, task: TaskRecord | null, copy?: (task: TaskRecord) => TaskRecord): void {
    if (this.everyTask.size > 0)
      for (const listener of [...this.everyTask]) listener(taskId, task && copy ? copy(task) : task);
    const current = this.byTask.get(taskId);
    if (current === undefined) return;
    if (!Array.isArray(current)) {
      current(task && copy ? copy(task) : task);
      return;
    }
    for (const listener of [...current]) listener(task && copy ? copy(task) : task);
  }

  clear(): void {
    this.byTask.clear();
    this.everyTask.clear();
    this.count = 0;
  }

  private remove(taskId: string, listener: TaskListener): void {
    const current = this.byTask.get(taskId);
    if (current === listener) {
      this.byTask.delete(taskId);
      this.count--;
    } else if (Array.isArray(current)) {
      const i = current.indexOf(listener);
      if (i < 0) return;
      current.splice(i, 1);
      if (current.length === 1) this.byTask.set(taskId, current[0]);
      this.count--;
    }
  }
}
