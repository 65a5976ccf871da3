import { randomInt } from 'node:crypto';
import { FailedPrecondition, StoreUnavailable, TaskNotFound } from '../../core/errors.js';
import { newTaskId } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
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
} from '../../core/store.js';
import type { InputRequest, Outcome, Progress, RedirectTarget, TaskRecord } from '../../core/task.js';
import type { OutputPiece } from '../../core/run-output.js';
import { utf8Prefix } from '../../core/truncate.js';
import { noRedirect, redirectSettled } from '../errors.js';
import { BoundedCommands } from './bounded-commands.js';
import { hashFromFlat, initialFields, type TaskHash, taskFromHash } from './codec.js';
import { closeConnections } from './connect.js';
import { TaskEvents } from './events.js';
import { finishTask } from './finish.js';
import type { RedisKeys } from './keys.js';
import { Leases } from './leases.js';
import { listTasks } from './listing.js';
import { RedisRunPlaces } from './run-places.js';
import type { RedisClient, ScriptedClient } from './scripts.js';
import { WorkerDirectory } from './worker-directory.js';

export interface RedisStoreOptions {
  keys: RedisKeys;
  /** This process: the owner of the tasks it creates. */
  instanceId: string;
  retentionMs: number;
  /** Upper bound of any one call when the caller gave no earlier deadline. */
  commandTimeoutMs: number;
  /** Re-read every watched task this often, in case an event was lost. */
  safetyPollMs: number;
  /** Task events travel on sharded pub/sub (SPUBLISH/SSUBSCRIBE: a Cluster with several shards). */
  shardedEvents?: boolean;
  /** How often the running places Redis lists for this instance are checked against the ones it holds. */
  placesReconcileMs?: number;
}

/**
 * TaskStore on Redis: the task is the seed's hash `<prefix>task:<id>`, every
 * state change is one Lua script (atomic, server-timed, safe to run twice),
 * and every change is published on one events channel that each replica
 * subscribes to once. Key layout and scripts: docs/REDIS.md.
 *
 * Connections (both owned here, closed by close()): the command connection
 * has no offline queue, so a call made while Redis is unreachable fails at
 * once (UNAVAILABLE) instead of waiting to be replayed later; it is reached
 * only through BoundedCommands. The subscriber only listens (events.ts).
 * Listing is in listing.ts; the lease and sweep commands (`leases`), the
 * worker tables and inboxes (`workerDirectory`) and the running places
 * (`places`) share these connections.
 */
export class RedisStore implements TaskStore {
  private readonly commands: BoundedCommands;
  private readonly events: TaskEvents;
  /** The lease and sweep commands, for the housekeeper. */
  readonly leases: Leases;
  /** The worker tables and handoff inboxes, for the worker router. */
  readonly workerDirectory: WorkerDirectory;
  /** The running places every replica shares (the limits across replicas). */
  readonly places: RedisRunPlaces;
  private closing?: Promise<void>;

  constructor(
    private readonly client: ScriptedClient,
    private readonly subscriber: RedisClient,
    private readonly options: RedisStoreOptions,
    logger: Logger,
  ) {
    this.commands = new BoundedCommands(client, options.commandTimeoutMs);
    this.events = new TaskEvents(
      { client, subscriber },
      this.commands,
      options.keys,
      { safetyPollMs: options.safetyPollMs, sharded: options.shardedEvents ?? false },
      logger,
    );
    this.leases = new Leases(this.commands, options);
    this.workerDirectory = new WorkerDirectory(this.commands, this.events, options.keys, options.instanceId);
    this.places = new RedisRunPlaces(
      this.commands,
      options.keys,
      options.instanceId,
      logger,
      options.placesReconcileMs,
    );
  }

  get isAvailable(): boolean {
    return this.events.isAvailable;
  }

  /** Resolves once the events channel is subscribed (changes from then on are seen). */
  get subscribed(): Promise<void> {
    return this.events.subscribed;
  }

  /** Subscriptions open; tests use it to prove nothing leaks. */
  get listenerCount(): number {
    return this.events.listenerCount;
  }

  tasksRunningHere(): Promise<string[]> {
    return this.leases.runningHere();
  }

  async create(draft: NewTask, deadline?: number): Promise<CreateResult> {
    const { keys } = this.options;
    if (draft.requestId && keys.shardOf(draft.taskId) !== keys.shardOfClaim(draft.userId, draft.requestId)) {
      // Its claim would be looked for in another shard, and a retry would run the tool again.
      throw new Error(`task id ${draft.taskId} was not made by taskIdFor: it is not in its request id's shard`);
    }
    const [code, payload] = await this.commands.call(
      (c) =>
        c.createTask(
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
    const output = this.options.keys.of(draft.taskId).output(draft.taskId);
    await this.commands.call((c) =>
      c.discardTask(...this.ownedKeys(draft), output, draft.taskId, this.options.instanceId),
    );
  }

  /** The keys a running task of this instance lives in, in the order create and discard take them. */
  private ownedKeys(draft: NewTask): string[] {
    const { instanceId } = this.options;
    const keys = this.options.keys.of(draft.taskId);
    return [
      keys.task(draft.taskId),
      keys.allIndex,
      keys.userIndex(draft.userId),
      keys.request(draft.userId, draft.requestId ?? ''),
      keys.running(instanceId),
    ];
  }

  finish(taskId: string, outcome: Outcome, deadline?: number): Promise<FinishResult> {
    const guard = { runningOf: this.options.instanceId, onlyOwner: false };
    return finishTask(this.commands, this.options, taskId, outcome, guard, deadline);
  }

  async requestInput(taskId: string, request: InputRequest): Promise<TaskRecord> {
    const keys = this.options.keys.of(taskId);
    const [code, payload] = await this.commands.call((c) =>
      c.requestInput(keys.task(taskId), request.id, request.message, request.schemaJson, keys.events),
    );
    if (code === -1) throw new TaskNotFound(taskId);
    if (code === 0) throw new FailedPrecondition(`task ${taskId} is ${String(payload)}: it cannot wait for input now`);
    return taskFromHash(hashFromFlat(payload as string[]));
  }

  async provideInput(taskId: string, requestId: string, responseJson: string, deadline?: number) {
    const keys = this.options.keys.of(taskId);
    const [code, payload] = await this.commands.call(
      (c) => c.provideInput(keys.task(taskId), requestId, responseJson, keys.events),
      deadline,
    );
    if (code === -1) throw new TaskNotFound(taskId);
    return { applied: code === 1, task: taskFromHash(hashFromFlat(payload as string[])) };
  }

  async appendOutput(taskId: string, { offset, text, truncated }: OutputPiece): Promise<void> {
    const keys = this.options.keys.of(taskId);
    await this.commands.call((c) =>
      c.appendOutput(keys.task(taskId), keys.output(taskId), text, truncated ? '1' : '', keys.events, offset),
    );
  }

  async readOutput(taskId: string, offset: number, maxBytes: number, deadline?: number): Promise<string> {
    const key = this.options.keys.of(taskId).output(taskId);
    // GETRANGE's end is inclusive; one byte more shows whether the cut fell inside a character.
    const bytes = await this.commands.call((c) => c.getrangeBuffer(key, offset, offset + maxBytes), deadline);
    return utf8Prefix(bytes, maxBytes).toString('utf8');
  }

  async setProgress(taskId: string, progress: Progress): Promise<void> {
    const keys = this.options.keys.of(taskId);
    await this.commands.call((c) => c.setProgress(keys.task(taskId), progress.fraction, progress.message, keys.events));
  }

  async setRedirect(taskId: string, target: RedirectTarget, deadline?: number): Promise<TaskRecord> {
    const keys = this.options.keys.of(taskId);
    const [code, payload] = await this.commands.call(
      (c) => c.setRedirect(keys.task(taskId), target.channelId, target.platform, target.maxChars, keys.events),
      deadline,
    );
    if (code === -1) throw new TaskNotFound(taskId);
    if (code === -2) throw redirectSettled(taskId, String(payload));
    return taskFromHash(hashFromFlat(payload as string[]));
  }

  async claimDelivery(taskId: string): Promise<TaskRecord | undefined> {
    const { instanceId } = this.options;
    const keys = this.options.keys.of(taskId);
    const [code, payload] = await this.commands.call((c) =>
      c.claimDelivery(keys.task(taskId), keys.delivering(instanceId), keys.events, instanceId),
    );
    return code === 1 ? taskFromHash(hashFromFlat(payload as string[])) : undefined;
  }

  async updateDelivery(taskId: string, update: DeliveryUpdate): Promise<TaskRecord> {
    const { instanceId } = this.options;
    const keys = this.options.keys.of(taskId);
    const [code, payload] = await this.commands.call((c) =>
      c.updateDelivery(
        keys.task(taskId),
        keys.delivering(instanceId),
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

  async get(taskId: string, deadline?: number): Promise<TaskRecord | undefined> {
    const hash = (await this.commands.call(
      (c) => c.hgetall(this.options.keys.of(taskId).task(taskId)),
      deadline,
    )) as TaskHash;
    return hash.task_id ? taskFromHash(hash) : undefined;
  }

  /** A new task's id, in the shard its request-id claim (or, without one, chance) puts it. */
  taskIdFor(userId: string, requestId: string): string {
    const { keys } = this.options;
    if (keys.shards.length === 1) return newTaskId();
    const shard = requestId ? keys.shardOfClaim(userId, requestId) : randomInt(keys.shards.length);
    for (;;) {
      const id = newTaskId();
      if (keys.shardOf(id) === shard) return id;
    }
  }

  list(query: ListQuery): Promise<ListPage> {
    return listTasks(this.commands, this.options.keys, query);
  }

  subscribe(taskId: string, listener: TaskListener, options?: { safetyPoll?: boolean }): () => void {
    return this.events.subscribe(taskId, listener, options);
  }

  subscribeAll(listener: AnyTaskListener): () => void {
    return this.events.subscribeAll(listener);
  }

  watchAvailability(listener: (available: boolean) => void): () => void {
    return this.events.watchAvailability(listener);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.events.close();
      this.places.close();
      await closeConnections(this.subscriber, this.client);
    })();
    return this.closing;
  }
}
