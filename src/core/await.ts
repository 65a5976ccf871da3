import { TaskNotFound } from './errors.js';
import type { TaskStore } from './store.js';
import { isTerminal, type TaskRecord } from './task.js';

export const UpdateKind = {
  Snapshot: 'snapshot',
  Progress: 'progress',
  Heartbeat: 'heartbeat',
  Terminal: 'terminal',
  WaitTimedOut: 'wait_timed_out',
  /** The task entered INPUT_REQUIRED, or left it (answered). */
  Input: 'input',
} as const;
export type UpdateKind = (typeof UpdateKind)[keyof typeof UpdateKind];

export interface TaskUpdate {
  kind: UpdateKind;
  task: TaskRecord;
}

export interface WatchOptions {
  /** Only this user's task is visible when set. */
  userId: string;
  timeoutMs: number;
  heartbeatMs: number;
  /** Ends the watch at once and releases everything (the client went away). */
  signal: AbortSignal;
  /** Bounds the first read of the task (epoch ms; a unary caller's deadline). */
  readDeadline?: number;
  /**
   * Resume: the version of the last state the watcher saw. A running task's
   * current state is sent at once only if newer, else the watch waits for the
   * next change; a finished task's terminal state is always sent.
   */
  afterVersion?: number;
}

/**
 * A task's snapshot, then its changes, then its terminal state. Subscribes
 * before reading, so a change between the two is never missed. Holds at most
 * one pending snapshot: a consumer that reads slowly gets the latest state,
 * not a backlog. Every listener and timer is released when the iteration
 * ends, returns early, or `signal` fires.
 */
export async function* watchTask(store: TaskStore, taskId: string, options: WatchOptions): AsyncGenerator<TaskUpdate> {
  const { signal } = options;
  let newest: TaskRecord | undefined;
  let deleted = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const poke = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const unsubscribe = store.subscribe(taskId, (task) => {
    if (task === null) deleted = true;
    else if (!newest || task.version > newest.version) newest = task;
    poke();
  });
  signal.addEventListener('abort', poke);
  try {
    const first = await store.get(taskId, options.readDeadline);
    if (!first || (options.userId && first.userId !== options.userId)) throw new TaskNotFound(taskId);
    let current = newest && newest.version > first.version ? newest : first;
    const deadline = Date.now() + options.timeoutMs;
    // A task that has already ended gets one message, not a snapshot and a copy of it.
    const seen = !isTerminal(current) && current.version <= (options.afterVersion ?? 0);
    if (!seen) yield { kind: isTerminal(current) ? UpdateKind.Terminal : UpdateKind.Snapshot, task: current };
    if (isTerminal(current)) return;
    let lastSent = Date.now();
    while (!isTerminal(current) && !signal.aborted) {
      // Expired or deleted while watched: end like a task that never existed, never hang.
      if (deleted) throw new TaskNotFound(taskId);
      if (newest && newest.version > current.version) {
        const statusChanged = newest.status !== current.status;
        current = newest;
        if (isTerminal(current)) break;
        yield { kind: statusChanged ? UpdateKind.Input : UpdateKind.Progress, task: current };
        lastSent = Date.now();
        continue;
      }
      const now = Date.now();
      if (now >= deadline) {
        yield { kind: UpdateKind.WaitTimedOut, task: current };
        return;
      }
      if (now >= lastSent + options.heartbeatMs) {
        yield { kind: UpdateKind.Heartbeat, task: current };
        lastSent = Date.now();
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(poke, Math.min(deadline, lastSent + options.heartbeatMs) - now);
      });
      clearTimeout(timer);
    }
    if (isTerminal(current) && !signal.aborted) yield { kind: UpdateKind.Terminal, task: current };
  } finally {
    clearTimeout(timer);
    unsubscribe();
    signal.removeEventListener('abort', poke);
  }
}
