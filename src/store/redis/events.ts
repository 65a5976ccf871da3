import type { Logger } from '../../core/logger.js';
import type { AnyTaskListener, TaskListener } from '../../core/store.js';
import { TaskListeners } from '../listeners.js';
import type { BoundedCommands } from './bounded-commands.js';
import { type TaskHash, taskFromHash } from './codec.js';
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './scripts.js';

/** The two connections, as events and watching see them. */
export interface EventConnections {
  /** Runs the commands: watched for availability only. */
  client: RedisClient;
  /** Only listens: the events channel, and any other channel asked for (listen). */
  subscriber: RedisClient;
}

/**
 * Task events and watching. Every change of a task comes as one message on
 * the events channel, which this replica subscribes to once; a message is
 * decoded only when someone here listens to its task. Since messages sent
 * while the subscriber reconnects are lost, every watched task is read again
 * after a reconnect, and the subscriptions that asked for it on a safety poll
 * too. Also tells whether the command connection is up (availability).
 */
export class TaskEvents {
  private readonly listeners = new TaskListeners();
  /** Tasks re-read by the safety poll: how many of their subscriptions asked for it. */
  private readonly polled = new Map<string, number>();
  private readonly availability = new Set<(available: boolean) => void>();
  private readonly channels = new Map<string, (message: string) => void>();
  private readonly subscriber: RedisClient;
  /** Every shard's events channel. */
  private readonly eventChannels: Set<string>;
  private readonly pollTimer: NodeJS.Timeout;
  private available = false;
  /** Resolves once the events channel is subscribed (changes from then on are seen). */
  readonly subscribed: Promise<void>;

  constructor(
    { client, subscriber }: EventConnections,
    private readonly commands: BoundedCommands,
    private readonly keys: RedisKeys,
    { safetyPollMs, sharded }: { safetyPollMs: number; sharded: boolean },
    private readonly logger: Logger,
  ) {
    this.subscriber = subscriber;
    const onMessage = (channel: string, message: string) => {
      if (this.eventChannels.has(channel)) this.onEvent(message);
      else this.channels.get(channel)?.(message);
    };
    subscriber.on('message', onMessage);
    // Sharded pub/sub (a Cluster with several shards): each shard's channel is subscribed on its own node.
    subscriber.on('smessage', onMessage);
    // After a reconnect, events sent meanwhile are lost: re-read what is watched.
    const resyncWatched = () => void this.resync(this.listeners.taskIds());
    subscriber.on('ready', resyncWatched);
    // A Cluster's sharded subscribers (one per node) reconnect on their own, after a failover moved a
    // shard's channel for one: ioredis says 'subscribersReady' once they have subscribed again.
    if (sharded) subscriber.on('subscribersReady', resyncWatched);
    client.on('ready', () => this.setAvailable(true));
    client.on('close', () => this.setAvailable(false));
    client.on('end', () => this.setAvailable(false));
    // ioredis logs unhandled 'error' events to the console; these are reported through availability.
    client.on('error', (err: Error) => this.logger.debug({ err: err.message }, 'redis client error'));
    subscriber.on('error', (err: Error) => this.logger.debug({ err: err.message }, 'redis subscriber error'));
    this.eventChannels = new Set(keys.shards.map((shard) => shard.events));
    const subscribing = sharded
      ? Promise.all([...this.eventChannels].map((channel) => subscriber.ssubscribe(channel)))
      : subscriber.subscribe(...this.eventChannels);
    this.subscribed = subscribing.then(
      () => undefined,
      (err: unknown) => this.logger.warn({ err }, 'subscribe failed; will retry on reconnect'),
    );
    // Only what asked for it: re-reading every running task of a busy replica each time starved
    // Redis (docs/PERFORMANCE.md).
    this.pollTimer = setInterval(() => void this.resync([...this.polled.keys()]), safetyPollMs);
    this.pollTimer.unref();
    if ((client as { status?: string }).status === 'ready') this.available = true;
  }

  get isAvailable(): boolean {
    return this.available;
  }

  /** Subscriptions open (leak checks). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** See TaskStore.subscribe. */
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

  /** See TaskStore.subscribeAll. Not re-read after a reconnect: what is missed meanwhile stays missed. */
  subscribeAll(listener: AnyTaskListener): () => void {
    return this.listeners.addEvery(listener);
  }

  /**
   * Listens to one more pub/sub channel on the subscriber connection
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

  /** See TaskStore.watchAvailability. */
  watchAvailability(listener: (available: boolean) => void): () => void {
    this.availability.add(listener);
    return () => this.availability.delete(listener);
  }

  /** Stops the safety poll and forgets every listener; the connections are the store's to close. */
  close(): void {
    clearInterval(this.pollTimer);
    this.listeners.clear();
    this.availability.clear();
    this.channels.clear();
  }

  private onEvent(message: string): void {
    const space = message.indexOf(' ');
    const taskId = message.slice(0, space);
    if (!this.listeners.has(taskId)) return;
    const body = message.slice(space + 1);
    this.listeners.notify(taskId, body === '-' ? null : taskFromHash(JSON.parse(body) as TaskHash));
  }

  /**
   * Re-reads these tasks and tells their listeners, in case an event about them was lost. The reads queue
   * behind the commands already issued: a task subscribed to before its create was issued must be found, not
   * reported deleted (see readHashesAfterIssued).
   */
  private async resync(ids: string[]): Promise<void> {
    if (ids.length === 0 || !this.available) return;
    try {
      const hashes = await this.commands.readHashesAfterIssued(ids.map((id) => this.keys.of(id).task(id)));
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
