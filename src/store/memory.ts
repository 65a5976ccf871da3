import { FailedPrecondition, TaskNotFound } from '../core/errors.js';
import type {
  CreateResult,
  DeliveryUpdate,
  FinishResult,
  ListPage,
  ListQuery,
  NewTask,
  TaskListener,
  AnyTaskListener,
  TaskStore,
} from '../core/store.js';
import {
  cloneTask,
  DeliveryState,
  INPUT_LOG_MAX,
  type InputRequest,
  isTerminal,
  type Outcome,
  type Progress,
  type RedirectTarget,
  type TaskRecord,
  TaskStatus,
} from '../core/task.js';
import type { OutputPiece } from '../core/run-output.js';
import { utf8Prefix } from '../core/truncate.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { noRedirect, redirectSettled } from './errors.js';
import { TaskListeners } from './listeners.js';

export interface MemoryStoreOptions {
  /** How long a finished task stays readable. */
  retentionMs: number;
  /** How often expired tasks are removed; default min(retention, 60 s). */
  sweepIntervalMs?: number;
  now?: () => number;
}

interface Entry {
  /** Insertion order: newest first listing walks it backwards. */
  seq: number;
  task: TaskRecord;
  expiresAt?: number;
  /**
   * The task's output: its first `task.outputBytes` bytes, in a buffer that
   * doubles when full, so neither an append nor a read copies what is stored.
   */
  output?: Buffer;
}

const CURSOR_TAG = 'mem1';

/**
 * The zero-dependency TaskStore for a single instance. Every method runs to
 * completion without awaiting, so each change is atomic by construction.
 * Subscribers are called synchronously with a copy of the new version.
 */
export class MemoryStore implements TaskStore {
  private readonly entries = new Map<string, Entry>();
  /** Both indexes are sorted by seq, oldest first. */
  private all: Entry[] = [];
  private byUser = new Map<string, Entry[]>();
  private readonly requestIds = new Map<string, string>();
  private readonly listeners = new TaskListeners();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly now: () => number;
  private seq = 0;

  constructor(private readonly options: MemoryStoreOptions) {
    this.now = options.now ?? Date.now;
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? Math.min(options.retentionMs, 60_000));
    this.sweepTimer.unref();
  }

  /** Tasks held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  /** Subscriptions open; tests use it to prove nothing leaks. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  async create(draft: NewTask): Promise<CreateResult> {
    // Creating the same task again returns it, as a retried Redis script does.
    const existing = this.entries.get(draft.taskId);
    if (existing) return { created: true, task: cloneTask(existing.task) };
    const requestKey = draft.requestId ? `${draft.userId}\u0000${draft.requestId}` : undefined;
    const claimedBy = requestKey && this.requestIds.get(requestKey);
    const earlier = claimedBy ? this.entries.get(claimedBy) : undefined;
    if (earlier) return { created: false, task: cloneTask(earlier.task) };

    const now = this.now();
    const task: TaskRecord = {
      taskId: draft.taskId,
      toolName: draft.toolName,
      status: TaskStatus.Running,
      createdAt: draft.startedAt ?? now,
      updatedAt: now,
      userId: draft.userId,
      channelId: draft.channelId,
      platform: draft.platform,
      owner: draft.owner,
      version: 1,
    };
    if (draft.requestId) task.requestId = draft.requestId;
    if (draft.argumentsJson !== undefined) task.argumentsJson = draft.argumentsJson;
    if (draft.progress) task.progress = { ...draft.progress };
    if (draft.redirect) task.redirect = pendingRedirect(draft.redirect);
    const entry: Entry = { seq: ++this.seq, task };
    this.entries.set(task.taskId, entry);
    this.all.push(entry);
    const userIndex = this.byUser.get(task.userId);
    if (userIndex) userIndex.push(entry);
    else this.byUser.set(task.userId, [entry]);
    if (requestKey) this.requestIds.set(requestKey, task.taskId);
    return { created: true, task: cloneTask(task) };
  }

  async discard(draft: NewTask): Promise<void> {
    const entry = this.entries.get(draft.taskId);
    if (!entry || isTerminal(entry.task) || entry.task.owner !== draft.owner) return;
    this.entries.delete(draft.taskId);
    if (draft.requestId) this.requestIds.delete(`${draft.userId}\u0000${draft.requestId}`);
    const live = (e: Entry) => e !== entry;
    this.all = this.all.filter(live);
    const userIndex = this.byUser.get(draft.userId);
    if (userIndex) this.byUser.set(draft.userId, userIndex.filter(live));
  }

  async finish(taskId: string, outcome: Outcome): Promise<FinishResult> {
    const entry = this.mustGet(taskId);
    if (isTerminal(entry.task)) return { applied: false, task: cloneTask(entry.task) };
    const now = this.now();
    const task = entry.task;
    task.status = outcome.status;
    task.finishedAt = now;
    delete task.inputRequest;
    if (outcome.status === TaskStatus.Completed) task.result = outcome.result;
    else {
      task.failureReason = outcome.reason;
      task.error = outcome.error;
    }
    entry.expiresAt = now + this.options.retentionMs;
    return { applied: true, task: this.changed(entry) };
  }

  async requestInput(taskId: string, request: InputRequest): Promise<TaskRecord> {
    const entry = this.mustGet(taskId);
    if (entry.task.status !== TaskStatus.Running) {
      throw new FailedPrecondition(`task ${taskId} is ${entry.task.status}: it cannot wait for input now`);
    }
    const task = entry.task;
    task.status = TaskStatus.InputRequired;
    task.inputRequest = { ...request };
    // The version changed() is about to give it.
    const log = [...(task.inputLog ?? []), { request: { ...request }, askedVersion: task.version + 1 }];
    task.inputLog = log.slice(-INPUT_LOG_MAX);
    return this.changed(entry);
  }

  async provideInput(taskId: string, requestId: string, responseJson: string): Promise<FinishResult> {
    const entry = this.mustGet(taskId);
    const task = entry.task;
    if (task.status !== TaskStatus.InputRequired || task.inputRequest?.id !== requestId) {
      return { applied: false, task: cloneTask(task) };
    }
    task.status = TaskStatus.Running;
    delete task.inputRequest;
    task.inputAnswer = { requestId, responseJson };
    const episode = task.inputLog?.at(-1);
    if (episode?.request.id === requestId) episode.answeredVersion = task.version + 1;
    return { applied: true, task: this.changed(entry) };
  }

  async appendOutput(taskId: string, { offset, text, truncated }: OutputPiece): Promise<void> {
    const entry = this.entries.get(taskId);
    if (!entry || isTerminal(entry.task)) return;
    const stored = entry.task.outputBytes ?? 0;
    const bytes = Buffer.from(text, 'utf8');
    if (offset + bytes.length <= stored) return;
    const fresh = offset < stored ? bytes.subarray(stored - offset) : bytes;
    const needed = stored + fresh.length;
    if (!entry.output || entry.output.length < needed) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * (entry.output?.length ?? 0), 4096));
      entry.output?.copy(grown, 0, 0, stored);
      entry.output = grown;
    }
    fresh.copy(entry.output, stored);
    entry.task.outputBytes = needed;
    if (truncated) entry.task.outputTruncated = true;
    this.changed(entry);
  }

  async readOutput(taskId: string, offset: number, maxBytes: number): Promise<string> {
    const entry = this.entries.get(taskId);
    if (!entry?.output || this.expired(entry)) return '';
    const stored = entry.output.subarray(0, entry.task.outputBytes ?? 0);
    return utf8Prefix(stored.subarray(offset), maxBytes).toString('utf8');
  }

  async setProgress(taskId: string, progress: Progress): Promise<void> {
    const entry = this.entries.get(taskId);
    if (!entry || isTerminal(entry.task)) return;
    entry.task.progress = { ...progress };
    this.changed(entry);
  }

  async setRedirect(taskId: string, target: RedirectTarget): Promise<TaskRecord> {
    const entry = this.mustGet(taskId);
    const current = entry.task.redirect;
    if (current && current.state !== DeliveryState.Pending) {
      if (sameTarget(current, target)) return cloneTask(entry.task);
      throw redirectSettled(taskId, current.state);
    }
    entry.task.redirect = pendingRedirect(target);
    return this.changed(entry);
  }

  async claimDelivery(taskId: string): Promise<TaskRecord | undefined> {
    const entry = this.entries.get(taskId);
    const redirect = entry?.task.redirect;
    if (!entry || !redirect || !isTerminal(entry.task) || redirect.state !== DeliveryState.Pending) return undefined;
    redirect.state = DeliveryState.Delivering;
    return this.changed(entry);
  }

  async updateDelivery(taskId: string, update: DeliveryUpdate): Promise<TaskRecord> {
    const entry = this.mustGet(taskId);
    const redirect = entry.task.redirect;
    if (!redirect) throw noRedirect(taskId);
    Object.assign(redirect, update);
    return this.changed(entry);
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const entry = this.entries.get(taskId);
    return entry && !this.expired(entry) ? cloneTask(entry.task) : undefined;
  }

  async list(query: ListQuery): Promise<ListPage> {
    const index = query.userId ? (this.byUser.get(query.userId) ?? []) : this.all;
    const before = query.cursor ? Number(decodeCursor(CURSOR_TAG, query.cursor, /^[1-9][0-9]{0,15}$/)) : Infinity;
    const tasks: TaskRecord[] = [];
    let i = firstBelow(index, before);
    let last: Entry | undefined;
    for (; i >= 0; i--) {
      const entry = index[i];
      if (!this.matches(entry, query)) continue;
      if (tasks.length === query.limit) {
        // One more match exists, so there is a next page.
        return { tasks, nextCursor: encodeCursor(CURSOR_TAG, String(last!.seq)) };
      }
      tasks.push(cloneTask(entry.task));
      last = entry;
    }
    return { tasks };
  }

  subscribe(taskId: string, listener: TaskListener): () => void {
    return this.listeners.add(taskId, listener);
  }

  subscribeAll(listener: AnyTaskListener): () => void {
    return this.listeners.addEvery(listener);
  }

  /** Always reachable: nothing to report. */
  watchAvailability(): () => void {
    return () => {};
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.listeners.clear();
  }

  /** Drops expired tasks from the map and both indexes. */
  sweep(): void {
    let removed = 0;
    for (const [taskId, entry] of this.entries) {
      if (!this.expired(entry)) continue;
      this.entries.delete(taskId);
      const { requestId, userId } = entry.task;
      if (requestId) this.requestIds.delete(`${userId}\u0000${requestId}`);
      this.listeners.notify(taskId, null);
      removed++;
    }
    if (removed === 0) return;
    const live = (e: Entry) => this.entries.get(e.task.taskId) === e;
    this.all = this.all.filter(live);
    for (const [userId, index] of this.byUser) {
      const kept = index.filter(live);
      if (kept.length) this.byUser.set(userId, kept);
      else this.byUser.delete(userId);
    }
  }

  private matches(entry: Entry, query: ListQuery): boolean {
    if (this.expired(entry)) return false;
    if (query.status && entry.task.status !== query.status) return false;
    return !query.toolName || entry.task.toolName === query.toolName;
  }

  private expired(entry: Entry): boolean {
    return entry.expiresAt !== undefined && entry.expiresAt <= this.now();
  }

  private mustGet(taskId: string): Entry {
    const entry = this.entries.get(taskId);
    if (!entry || this.expired(entry)) throw new TaskNotFound(taskId);
    return entry;
  }

  /** Stamps a change and tells the task's subscribers. */
  private changed(entry: Entry): TaskRecord {
    entry.task.version++;
    entry.task.updatedAt = this.now();
    this.listeners.notify(entry.task.taskId, entry.task, cloneTask);
    return cloneTask(entry.task);
  }
}

function pendingRedirect(target: RedirectTarget) {
  return { ...target, state: DeliveryState.Pending, attempts: 0, lastError: '' };
}

function sameTarget(a: RedirectTarget, b: RedirectTarget): boolean {
  return a.channelId === b.channelId && a.platform === b.platform && a.maxChars === b.maxChars;
}

/** Index of the newest entry with seq < `before`, or -1. */
function firstBelow(index: Entry[], before: number): number {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (index[mid].seq < before) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
