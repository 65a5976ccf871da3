import type { Cancellation } from './cancellation.js';
import { TaskNotFound } from './errors.js';
import type { TaskStore } from './store.js';
import { cloneTask, type InputRequest, isTerminal, type TaskRecord, TaskStatus } from './task.js';
import type { WatchedTasks } from './watched-tasks.js';

export const UpdateKind = {
  Snapshot: 'snapshot',
  Progress: 'progress',
  Heartbeat: 'heartbeat',
  Terminal: 'terminal',
  WaitTimedOut: 'wait_timed_out',
  /** The task entered INPUT_REQUIRED, or left it (answered). */
  Input: 'input',
  /** The tool wrote output (TaskUpdate.output). */
  Output: 'output',
} as const;
export type UpdateKind = (typeof UpdateKind)[keyof typeof UpdateKind];

/** A piece of a task's output at its byte offset (UTF-8). */
export interface OutputChunk {
  offset: number;
  text: string;
}

export interface TaskUpdate {
  kind: UpdateKind;
  /**
   * The task's state. On Output updates: the last state sent, or the current
   * one when none was sent yet (which may be the final one: output goes before
   * the terminal update).
   */
  task: TaskRecord;
  /** Only on Output updates. */
  output?: OutputChunk;
}

export interface WatchOptions {
  /** Only this user's task is visible when set. */
  userId: string;
  timeoutMs: number;
  heartbeatMs: number;
  /** Ends the watch at once and releases everything (the client went away). */
  signal: Cancellation;
  /** Bounds the first read of the task (epoch ms; a unary caller's deadline). */
  readDeadline?: number;
  /**
   * Resume: the version of the last state the watcher saw. Nothing already
   * seen is sent again; status changes since then are replayed, the current
   * state follows if newer, and a finished task's terminal state is always sent.
   */
  afterVersion?: number;
  /** Also send the task's output from this byte offset. Undefined: no output. */
  outputOffset?: number;
  /** Where the watches of one task share a subscription and the first read; without it, the watch has its own. */
  shared?: WatchedTasks;
}

/** Output is sent in messages of at most this much, read from the store one at a time as the reader pulls. */
export const OUTPUT_CHUNK_BYTES = 64 * 1024;

/**
 * A task's snapshot, then its changes and output, then its terminal state.
 * Subscribes before reading, so a change between the two is never missed.
 *
 * What the watcher is promised, also across resumes (afterVersion,
 * outputOffset): every status change once, in order (the task keeps its
 * questions, so an INPUT_REQUIRED episode that came and went between two
 * reads is replayed from its log); progress possibly coalesced (only the
 * newest state is held, so a slow reader costs no backlog); every output byte
 * once, in order, read from the store a chunk at a time as the reader pulls;
 * the terminal state last, always. Every listener and timer is released when
 * the iteration ends, returns early, or `signal` fires.
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
  const listener = (task: TaskRecord | null) => {
    if (task === null) deleted = true;
    else if (!newest || task.version > newest.version) newest = task;
    poke();
  };
  const shared = options.shared?.join(taskId, listener);
  const unsubscribe = shared ? shared.leave : store.subscribe(taskId, listener);
  signal.addEventListener('abort', poke);
  try {
    const first = await (shared ? shared.current(options.readDeadline) : store.get(taskId, options.readDeadline));
    if (!first || (options.userId && first.userId !== options.userId)) throw new TaskNotFound(taskId);
    const stream = new StreamPosition(store, options, newest && newest.version > first.version ? newest : first);
    const opened = stream.catchUp(stream.latest, true);
    if (Array.isArray(opened)) for (const update of opened) yield update;
    else yield* opened;
    if (isTerminal(stream.latest)) return;
    const deadline = Date.now() + options.timeoutMs;
    let lastSent = Date.now();
    while (!signal.aborted) {
      // Expired or deleted while watched: end like a task that never existed, never hang.
      if (deleted) throw new TaskNotFound(taskId);
      if (newest && newest.version > stream.latest.version) {
        // `newest` moves on while the reader is being served.
        const target = newest;
        const due = stream.catchUp(target, false);
        if (Array.isArray(due)) for (const update of due) yield update;
        else yield* due;
        if (isTerminal(target)) return;
        lastSent = Date.now();
        continue;
      }
      const now = Date.now();
      if (now >= deadline) {
        yield { kind: UpdateKind.WaitTimedOut, task: stream.latest };
        return;
      }
      if (now >= lastSent + options.heartbeatMs) {
        yield { kind: UpdateKind.Heartbeat, task: stream.latest };
        lastSent = Date.now();
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(poke, Math.min(deadline, lastSent + options.heartbeatMs) - now);
      });
      clearTimeout(timer);
    }
  } finally {
    clearTimeout(timer);
    unsubscribe();
    signal.removeEventListener('abort', poke);
  }
}

/** What one watch has sent: the version and status the watcher knows, and how far into the output it is. */
class StreamPosition {
  private sentVersion: number;
  private sentStatus: TaskStatus;
  private sent?: TaskRecord;
  private outputAt?: number;

  constructor(
    private readonly store: TaskStore,
    private readonly options: WatchOptions,
    /** The newest state read (catchUp moves it on). */
    public latest: TaskRecord,
  ) {
    this.sentVersion = options.afterVersion ?? 0;
    this.sentStatus = statusAt(latest, this.sentVersion);
    this.outputAt = options.outputOffset;
  }

  /** Everything the watcher has not seen of `target`: missed status changes, the state, output, in that order. */
  catchUp(target: TaskRecord, opening: boolean): TaskUpdate[] | AsyncGenerator<TaskUpdate> {
    this.latest = target;
    // Without output to send, what is due is known at once: no generator per change and stream for it.
    if (this.outputAt === undefined) return this.states(target, opening, true);
    return this.statesAndOutput(target, opening);
  }

  /** The output goes after the state, except after a terminal one: that goes last. */
  private async *statesAndOutput(target: TaskRecord, opening: boolean): AsyncGenerator<TaskUpdate> {
    for (const update of this.states(target, opening, false)) yield update;
    yield* this.output(target);
    if (isTerminal(target)) yield this.send(UpdateKind.Terminal, target);
  }

  /** The status changes the watcher missed, then `target`'s state if newer (a terminal one only if `terminal`). */
  private states(target: TaskRecord, opening: boolean, terminal: boolean): TaskUpdate[] {
    const due: TaskUpdate[] = [];
    // A fresh watch starts from the current state; only a resumed one has history to replay.
    const fresh = opening && this.sentVersion === 0;
    if (!fresh)
      for (const missed of replayedStates(target, this.sentVersion)) due.push(this.send(UpdateKind.Input, missed));
    if (isTerminal(target)) {
      if (terminal) due.push(this.send(UpdateKind.Terminal, target));
    } else if (target.version > this.sentVersion) {
      // The state when the stream opened is its snapshot, resumed or not; replayed changes came before it.
      due.push(this.send(opening ? UpdateKind.Snapshot : this.changeKind(target), target));
    }
    return due;
  }

  private changeKind(target: TaskRecord): UpdateKind {
    return target.status === this.sentStatus ? UpdateKind.Progress : UpdateKind.Input;
  }

  private send(kind: UpdateKind, task: TaskRecord): TaskUpdate {
    this.sent = task;
    this.sentVersion = task.version;
    this.sentStatus = task.status;
    return { kind, task };
  }

  /** The output from where the watcher is up to what `target` counts, a chunk per pull. */
  private async *output(target: TaskRecord): AsyncGenerator<TaskUpdate> {
    if (this.outputAt === undefined) return;
    const end = target.outputBytes ?? 0;
    while (this.outputAt < end && !this.options.signal.aborted) {
      const text = await this.store.readOutput(target.taskId, this.outputAt, OUTPUT_CHUNK_BYTES);
      // Gone meanwhile (expired): nothing more to read.
      if (text.length === 0) return;
      const offset = this.outputAt;
      this.outputAt += Buffer.byteLength(text, 'utf8');
      yield { kind: UpdateKind.Output, task: this.sent ?? target, output: { offset, text } };
    }
  }
}

/**
 * The INPUT_REQUIRED episodes of `task` after version `after` and before its
 * current state, as the states the watcher missed: the question's state, then
 * the answered one. Fields other than status and the question are the current ones.
 */
function replayedStates(task: TaskRecord, after: number): TaskRecord[] {
  const states: TaskRecord[] = [];
  for (const { request, askedVersion, answeredVersion } of task.inputLog ?? []) {
    if (askedVersion > after && askedVersion < task.version) {
      states.push(stateAt(task, askedVersion, TaskStatus.InputRequired, request));
    }
    if (answeredVersion !== undefined && answeredVersion > after && answeredVersion < task.version) {
      states.push(stateAt(task, answeredVersion, TaskStatus.Running));
    }
  }
  return states;
}

function stateAt(task: TaskRecord, version: number, status: TaskStatus, request?: InputRequest): TaskRecord {
  const state = cloneTask(task);
  state.version = version;
  state.status = status;
  delete state.result;
  delete state.error;
  delete state.failureReason;
  delete state.finishedAt;
  if (request) state.inputRequest = { ...request };
  else delete state.inputRequest;
  return state;
}

/** The task's status as a watcher that saw version `version` last knew it. */
function statusAt(task: TaskRecord, version: number): TaskStatus {
  if (version === 0 || version >= task.version) return task.status;
  const open = task.inputLog?.some(
    (e) => e.askedVersion <= version && (e.answeredVersion === undefined || e.answeredVersion > version),
  );
  return open ? TaskStatus.InputRequired : TaskStatus.Running;
}
