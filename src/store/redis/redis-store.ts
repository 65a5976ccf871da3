import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailable, TaskNotFound } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type {
  CreateResult,
  DeliveryUpdate,
  FinishResult,
  ListPage,
  ListQuery,
  NewTask,
  TaskListener,
  TaskStore,
} from '../../core/store.js';
import { type Outcome, type Progress, type RedirectTarget, type TaskRecord, TaskStatus } from '../../core/task.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { noRedirect, redirectSettled } from '../errors.js';
import { TaskListeners } from '../listeners.js';
import { hashFromFlat, initialFields, type TaskHash, taskFromHash } from './codec.js';
import type { RedisKeys } from './keys.js';
import { loadScripts } from './scripts.js';

export type RedisClient = Redis | Cluster;

export interface RedisStoreOptions {
  keys: RedisKeys;
  /** This process: the owner of the tasks it creates. */
  instanceId: string;
  retentionMs: number;
  /** Upper bound of any one call when the caller gave no earlier deadline. */
  commandTimeoutMs: number;
  /** Re-read every watched task this often, in case an event was lost. */
  safetyPollMs: number;
}

/** Script replies: [code, payload]. One place maps codes to outcomes. */
type Reply = [number, string[] | string | undefined];

const CURSOR_TAG = 'r1';

/** Commands the scripts register on the client (see scripts.ts). */
interface ScriptCommands {
  createTask(...args: (string | number)[]): Promise<Reply>;
  finishTask(...args: (string | number)[]): Promise<Reply>;
  setProgress(...args: (string | number)[]): Promise<number>;
  setRedirect(...args: (string | number)[]): Promise<Reply>;
  claimDelivery(...args: (string | number)[]): Promise<Reply>;
  updateDelivery(...args: (string | number)[]): Promise<Reply>;
  expireTask(...args: (string | number)[]): Promise<number>;
  discardTask(...args: (string | number)[]): Promise<number>;
  reclaimDelivery(...args: (string | number)[]): Promise<Reply>;
  dueExpired(...args: (string | number)[]): Promise<string[]>;
  renewLease(...args: (string | number)[]): Promise<number>;
  lapsedInstances(...args: (string | number)[]): Promise<string[]>;
  forgetInstance(...args: (string | number)[]): Promise<number>;
}

export type ScriptedClient = RedisClient & ScriptCommands;

/** Registers the Lua scripts as commands on a client. */
export function withScripts(client: RedisClient): ScriptedClient {
  for (const script of loadScripts()) {
    client.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
  return client as ScriptedClient;
}

/**
 * TaskStore on Redis: the task is the seed's hash `<prefix>task:<id>`, every
 * state change is one Lua script (atomic, server-timed, safe to run twice),
 * and every change is published on one events channel that each replica
 * subscribes to once. Key layout and scripts: docs/REDIS.md.
 *
 * Connections: `client` runs commands with no offline queue, so a call made
 * while Redis is unreachable fails at once (UNAVAILABLE) instead of waiting
 * to be replayed later; `subscriber` only listens.
 */
export class RedisStore implements TaskStore {
  private readonly listeners = new TaskListeners();
  /** Tasks re-read by the safety poll: how many of their subscriptions asked for it. */
  private readonly polled = new Map<string, number>();
  private readonly availability = new Set<(available: boolean) => void>();
  private readonly channels = new Map<string, (message: string) => void>();
  private readonly pollTimer: NodeJS.Timeout;
  private available = false;
  private closing?: Promise<void>;
  /** Resolves once the events channel is subscribed (changes from then on are seen). */
  readonly subscribed: Promise<void>;

  constructor(
    readonly client: ScriptedClient,
    private readonly subscriber: RedisClient,
    private readonly options: RedisStoreOptions,
    private readonly logger: Logger,
  ) {
    const { keys } = options;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === keys.events) this.onEvent(message);
      else this.channels.get(channel)?.(message);
    });
    // After a reconnect, events sent meanwhile are lost: re-read what is watched.
    subscriber.on('ready', () => void this.resync(this.listeners.taskIds()));
    client.on('ready', () => this.setAvailable(true));
    client.on('close', () => this.setAvailable(false));
    client.on('end', () => this.setAvailable(false));
    // ioredis logs unhandled 'error' events to the console; these are reported through availability.
    client.on('error', (err: Error) => this.logger.debug({ err: err.message }, 'redis client error'));
    subscriber.on('error', (err: Error) => this.logger.debug({ err: err.message }, 'redis subscriber error'));
    this.subscribed = subscriber.subscribe(keys.events).then(
      () => undefined,
      (err: unknown) => this.logger.warn({ err }, 'subscribe failed; will retry on reconnect'),
    );
    // Only what asked for it: re-reading every running task of a busy replica each time starved Redis (docs/PERFORMANCE.md).
    this.pollTimer = setInterval(() => void this.resync([...this.polled.keys()]), options.safetyPollMs);
    this.pollTimer.unref();
    if ((client as { status?: string }).status === 'ready') this.available = true;
  }

  get keys(): RedisKeys {
    return this.options.keys;
  }

  get isAvailable(): boolean {
    return this.available;
  }

  /** Subscriptions open; tests use it to prove nothing leaks. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  async create(draft: NewTask, deadline?: number): Promise<CreateResult> {
    const [code, payload] = await this.call(
      () =>
        this.client.createTask(
          ...this.ownedKeys(draft),
          draft.taskId,
          JSON.stringify(initialFields(draft)),
          draft.requestId ?? '',
          draft.startedAt ?? '',
        ),
      deadline,
    );
    if (code === 1) return { created: true, task: taskFromHash(hashFromFlat(payload as string[])) };
    const earlier = await this.get(payload as string, deadline);
    if (!earlier) throw new StoreUnavailable(new Error(`request id claimed by task ${String(payload)}, which is gone`));
    return { created: false, task: earlier };
  }

  async discard(draft: NewTask): Promise<void> {
    await this.call(() => this.client.discardTask(...this.ownedKeys(draft), draft.taskId, this.options.instanceId));
  }

  /** The keys a running task of this instance lives in, in the order create and discard take them. */
  private ownedKeys(draft: NewTask): string[] {
    const { keys, instanceId } = this.options;
    return [
      keys.task(draft.taskId),
      keys.allIndex,
      keys.userIndex(draft.userId),
      keys.request(draft.userId, draft.requestId ?? ''),
      keys.running(instanceId),
    ];
  }

  finish(taskId: string, outcome: Outcome, deadline?: number): Promise<FinishResult> {
    return this.finishAs(taskId, outcome, this.options.instanceId, { onlyOwner: false }, deadline);
  }

  /**
   * The finish script, also for the worker-lost sweep: `runningOf` is the
   * instance whose running set drops the id; with onlyOwner, the task must be
   * owned by it, and with whileLapsed, its lease must still have lapsed.
   */
  async finishAs(
    taskId: string,
    outcome: Outcome,
    runningOf: string,
    guard: { onlyOwner: boolean; whileLapsed?: boolean },
    deadline?: number,
  ): Promise<FinishResult> {
    const { keys, retentionMs } = this.options;
    const completed = outcome.status === TaskStatus.Completed;
    const [code, payload] = await this.call(
      () =>
        this.client.finishTask(
          keys.task(taskId),
          keys.running(runningOf),
          keys.expiring,
          keys.instances,
          keys.delivering(this.options.instanceId),
          taskId,
          outcome.status,
          completed ? outcome.result : outcome.error,
          completed ? '' : outcome.reason,
          retentionMs,
          keys.events,
          guard.onlyOwner ? runningOf : '',
          guard.whileLapsed ? '1' : '',
        ),
      deadline,
    );
    if (code === -1) throw new TaskNotFound(taskId);
    return { applied: code === 1, task: taskFromHash(hashFromFlat(payload as string[])) };
  }

  async setProgress(taskId: string, progress: Progress): Promise<void> {
    const { keys } = this.options;
    await this.call(() => this.client.setProgress(keys.task(taskId), progress.fraction, progress.message, keys.events));
  }

  async setRedirect(taskId: string, target: RedirectTarget, deadline?: number): Promise<TaskRecord> {
    const { keys } = this.options;
    const [code, payload] = await this.call(
      () => this.client.setRedirect(keys.task(taskId), target.channelId, target.platform, target.maxChars, keys.events),
      deadline,
    );
    if (code === -1) throw new TaskNotFound(taskId);
    if (code === -2) throw redirectSettled(taskId, String(payload));
    return taskFromHash(hashFromFlat(payload as string[]));
  }

  async claimDelivery(taskId: string): Promise<TaskRecord | undefined> {
    const { keys } = this.options;
    const { instanceId } = this.options;
    const [code, payload] = await this.call(() =>
      this.client.claimDelivery(keys.task(taskId), keys.delivering(instanceId), keys.events, instanceId),
    );
    return code === 1 ? taskFromHash(hashFromFlat(payload as string[])) : undefined;
  }

  async updateDelivery(taskId: string, update: DeliveryUpdate): Promise<TaskRecord> {
    const { keys } = this.options;
    const [code, payload] = await this.call(() =>
      this.client.updateDelivery(
        keys.task(taskId),
        keys.delivering(this.options.instanceId),
        update.state,
        update.attempts,
        update.lastError,
        update.deliveredAt ?? '',
        keys.events,
      ),
    );
    if (code === -1) throw noRedirect(taskId);
    return taskFromHash(hashFromFlat(payload as string[]));
  }

  /**
   * Takes over a delivery owed by a lapsed instance. Returns the task when
   * this instance now delivers it (already claimed: deliver without claiming).
   */
  async reclaimDelivery(taskId: string, lapsed: string): Promise<TaskRecord | undefined> {
    const { keys, instanceId } = this.options;
    const [code, payload] = await this.call(() =>
      this.client.reclaimDelivery(
        keys.task(taskId),
        keys.delivering(lapsed),
        keys.instances,
        keys.delivering(instanceId),
        taskId,
        lapsed,
        instanceId,
        keys.events,
      ),
    );
    return code === 1 ? taskFromHash(hashFromFlat(payload as string[])) : undefined;
  }

  async get(taskId: string, deadline?: number): Promise<TaskRecord | undefined> {
    const hash = (await this.call(() => this.client.hgetall(this.options.keys.task(taskId)), deadline)) as TaskHash;
    return hash.task_id ? taskFromHash(hash) : undefined;
  }

  async list(query: ListQuery): Promise<ListPage> {
    const { keys } = this.options;
    const index = query.userId ? keys.userIndex(query.userId) : keys.allIndex;
    let after = query.cursor ? decodeCursor(CURSOR_TAG, query.cursor, /^\d{13}:[A-Za-z0-9_-]{1,64}$/) : undefined;
    const tasks: TaskRecord[] = [];
    const batch = Math.min(Math.max(query.limit + 1, 50), 1000);
    // A page with filters may scan past many non-matching tasks; bound the
    // scan and hand back a cursor where it stopped (a short page is allowed).
    let budget = 20 * batch;
    while (budget > 0) {
      const members = (await this.call(
        () => this.client.zrange(index, after === undefined ? '-' : `(${after}`, '+', 'BYLEX', 'LIMIT', 0, batch),
        query.deadline,
      )) as string[];
      if (members.length === 0) return { tasks };
      budget -= members.length;
      const hashes = await this.readMany(members.map((m) => m.slice(14)), query.deadline);
      for (let i = 0; i < members.length; i++) {
        const hash = hashes[i];
        if (!hash?.task_id) continue; // expired between index and read; the sweep removes the entry
        const task = taskFromHash(hash);
        if (query.status && task.status !== query.status) continue;
        if (query.toolName && task.toolName !== query.toolName) continue;
        if (tasks.length === query.limit) return { tasks, nextCursor: encodeCursor(CURSOR_TAG, after!) };
        tasks.push(task);
        after = members[i];
      }
      if (members.length < batch) return { tasks };
      after = members.at(-1);
    }
    return { tasks, nextCursor: encodeCursor(CURSOR_TAG, after!) };
  }

  subscribe(taskId: string, listener: TaskListener, options: { safetyPoll?: boolean } = {}): () => void {
    const unsubscribe = this.listeners.add(taskId, listener);
    if (options.safetyPoll === false) return unsubscribe;
    this.polled.set(taskId, (this.polled.get(taskId) ?? 0) + 1);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      unsubscribe();
      const left = (this.polled.get(taskId) ?? 1) - 1;
      if (left > 0) this.polled.set(taskId, left);
      else this.polled.delete(taskId);
    };
  }

  /**
   * Listens to one more pub/sub channel on the store's subscriber connection
   * (resubscribed after reconnects). Resolves once subscribed; the returned
   * function stops listening.
   */
  async listen(channel: string, listener: (message: string) => void): Promise<() => void> {
    this.channels.set(channel, listener);
    await this.subscriber.subscribe(channel);
    return () => {
      if (this.channels.get(channel) !== listener) return;
      this.channels.delete(channel);
      this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** Called after the subscriber reconnects, when messages may have been missed. */
  onResubscribed(listener: () => void): () => void {
    this.subscriber.on('ready', listener);
    return () => this.subscriber.off('ready', listener);
  }

  watchAvailability(listener: (available: boolean) => void): () => void {
    this.availability.add(listener);
    return () => this.availability.delete(listener);
  }

  /** Deletes tasks whose retention has passed, with their index entries. Returns how many. */
  async sweepExpired(limit = 500): Promise<number> {
    const { keys } = this.options;
    const due = await this.call(() => this.client.dueExpired(keys.expiring, limit));
    if (due.length === 0) return 0;
    const hashes = await this.readMany(due);
    let removed = 0;
    for (let i = 0; i < due.length; i++) {
      const h = hashes[i] ?? {};
      removed += await this.call(() =>
        this.client.expireTask(
          keys.task(due[i]),
          keys.allIndex,
          keys.userIndex(h.user_id ?? ''),
          keys.request(h.user_id ?? '', h.request_id ?? ''),
          keys.expiring,
          due[i],
          h.list_key ?? '',
          keys.events,
        ),
      );
    }
    return removed;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.pollTimer);
      this.listeners.clear();
      this.availability.clear();
      this.channels.clear();
      // QUIT waits for an answer (the subscriber's even queues while Redis is
      // down): give it a moment, then drop the connections regardless.
      const quit = Promise.allSettled([this.subscriber.quit(), this.client.quit()]);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([quit, new Promise((resolve) => (timer = setTimeout(resolve, 500)))]);
      clearTimeout(timer);
      this.subscriber.disconnect();
      this.client.disconnect();
    })();
    return this.closing;
  }

  /** Runs one Redis call bounded by the command timeout, and by `deadline` (epoch ms) if given. */
  async call<T>(run: () => Promise<T>, deadline?: number): Promise<T> {
    const budget = Math.min(this.options.commandTimeoutMs, deadline === undefined ? Infinity : deadline - Date.now());
    if (budget <= 0) throw new StoreUnavailable(new Error('no time left before the call deadline'));
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis call took longer than ${Math.round(budget)} ms`)), budget);
        }),
      ]);
    } catch (err) {
      throw isLogicError(err) ? err : new StoreUnavailable(err);
    } finally {
      clearTimeout(timer);
    }
  }

  private async readMany(taskIds: string[], deadline?: number): Promise<(TaskHash | undefined)[]> {
    if (taskIds.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const id of taskIds) pipeline.hgetall(this.options.keys.task(id));
    const results = await this.call(() => pipeline.exec(), deadline);
    if (!results) throw new StoreUnavailable(new Error('the pipeline was not run'));
    return results.map(([err, value]) => {
      // A command that failed because Redis was going away or loading says nothing about the
      // task: reading it as "missing" once ended every watcher NOT_FOUND across a Redis restart.
      if (err && !isLogicError(err)) throw new StoreUnavailable(err);
      return err ? undefined : (value as TaskHash);
    });
  }

  private onEvent(message: string): void {
    const space = message.indexOf(' ');
    const taskId = message.slice(0, space);
    if (!this.listeners.has(taskId)) return;
    const body = message.slice(space + 1);
    this.listeners.notify(taskId, body === '-' ? null : taskFromHash(JSON.parse(body) as TaskHash));
  }

  /** Re-reads these tasks and tells their listeners, in case an event about them was lost. */
  private async resync(ids: string[]): Promise<void> {
    if (ids.length === 0 || !this.available) return;
    try {
      const hashes = await this.readMany(ids);
      ids.forEach((id, i) => {
        const hash = hashes[i];
        const task = hash?.task_id ? taskFromHash(hash) : null;
        this.listeners.notify(id, task);
      });
    } catch (err) {
      this.logger.debug({ err }, 'resync failed; the next poll retries');
    }
  }

  private setAvailable(available: boolean): void {
    if (available === this.available) return;
    this.available = available;
    this.logger.warn({ available }, available ? 'redis reachable' : 'redis unreachable');
    for (const listener of [...this.availability]) listener(available);
  }
}

/** Errors from a script's own logic (bugs) stay themselves; anything else means Redis is not there. */
function isLogicError(err: unknown): boolean {
  if (!(err instanceof Error) || err.name !== 'ReplyError') return false;
  return !/^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|NOSCRIPT|BUSY)/.test(err.message);
}
