import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger, silentLogger } from '../../src/core/logger.js';
import type { TaskRecord } from '../../src/core/task.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import type { RedisClient, ScriptedClient } from '../../src/store/redis/scripts.js';
import { eventually } from '../helpers/core.js';

/**
 * Just enough of an ioredis connection to drive RedisStore's resync: the
 * failure it guards against (each command of a read failing while Redis
 * restarts) cannot be produced on demand with a real server. The Redis store
 * itself is tested against real redis-servers in test/contract and test/redis.
 */
class ScriptedConnection extends EventEmitter {
  status = 'ready';
  /** What the commands of the next read answer, one [error, value] per command. */
  replies: [Error | null, unknown][] = [];
  /** The keys each read asked for: the commands sent in one synchronous run. */
  readonly reads: string[][] = [];
  private batch?: { keys: string[]; replies: [Error | null, unknown][] };

  /** What a read sends (bounded-commands.ts): its commands one by one, in one synchronous run. */
  sendCommand(command: { args: string[]; resolve(value: unknown): void; reject(err: Error): void }): void {
    this.hgetall(command.args[0]!).then(command.resolve, command.reject);
  }

  /** A read's command, auto-pipelined (readHashesAfterIssued): one read is the commands of one synchronous run. */
  hgetall(key: string): Promise<unknown> {
    if (!this.batch) {
      this.batch = { keys: [], replies: this.replies };
      this.reads.push(this.batch.keys);
      queueMicrotask(() => (this.batch = undefined));
    }
    const { keys, replies } = this.batch;
    const [err, value] = replies[keys.length] ?? [null, {}];
    keys.push(key);
    return err ? Promise.reject(err) : Promise.resolve(value);
  }

  async subscribe(): Promise<number> {
    return 1;
  }

  async ssubscribe(): Promise<number> {
    return 1;
  }

  async quit(): Promise<string> {
    return 'OK';
  }

  disconnect(): void {}
}

/** A RedisStore on scripted connections, with keys under `t:` (in `shards` shards, sharded events with several). */
function scriptedStore(safetyPollMs: number, logger: Logger = silentLogger, shards = 1) {
  const client = new ScriptedConnection();
  const subscriber = new ScriptedConnection();
  const store = new RedisStore(
    client as unknown as ScriptedClient,
    subscriber as unknown as RedisClient,
    {
      keys: new RedisKeys('t:', shards),
      instanceId: 'i',
      retentionMs: 60_000,
      commandTimeoutMs: 1000,
      safetyPollMs,
      shardedEvents: shards > 1,
    },
    logger,
  );
  return { client, subscriber, store };
}

describe('RedisStore resync', () => {
  it("re-reads every watched task when a Cluster's sharded subscribers have subscribed again", async () => {
    const { client, subscriber, store } = scriptedStore(60_000, silentLogger, 4);
    const keys = new RedisKeys('t:', 4);
    const seen: (TaskRecord | null)[] = [];
    store.subscribe('task-1', (task) => seen.push(task), { safetyPoll: false });
    store.subscribe('task-2', () => undefined, { safetyPoll: false });
    client.replies = [[null, { task_id: 'task-1', status: 'completed', version: '3' }]];
    subscriber.emit('subscribersReady');
    await eventually(() => client.reads.length === 1);
    expect(client.reads[0]).to.deep.equal([keys.of('task-1').task('task-1'), keys.of('task-2').task('task-2')]);
    await eventually(() => seen.length === 1);
    expect(seen[0]).to.include({ taskId: 'task-1' });
    await store.close();
  });

  it(
    'keeps watchers waiting when the re-read fails because Redis is restarting, ' + 'and reports a task really gone',
    async () => {
      // Each failed re-read is logged once it has been handled: wait for that, not for a guessed time.
      let failedResyncs = 0;
      const logger: Logger = {
        ...silentLogger,
        debug(_fields, message) {
          if (message?.startsWith('resync failed')) failedResyncs++;
        },
        child: () => logger,
      };
      const { client, subscriber, store } = scriptedStore(60_000, logger);
      const seen: (TaskRecord | null)[] = [];
      store.subscribe('task-1', (task) => seen.push(task));

      client.replies = [[new Error('Connection is closed.'), null]];
      subscriber.emit('ready');
      await eventually(() => failedResyncs === 1);
      client.replies = [
        [Object.assign(new Error('LOADING Redis is loading the dataset in memory'), { name: 'ReplyError' }), null],
      ];
      subscriber.emit('ready');
      await eventually(() => failedResyncs === 2);
      expect(seen, 'a failed read is not a deleted task').to.deep.equal([]);

      client.replies = [[null, {}]];
      subscriber.emit('ready');
      await eventually(() => seen.length > 0);
      expect(seen).to.deep.equal([null]);
      expect(failedResyncs).to.equal(2);
      await store.close();
    },
  );

  it(
    're-reads on its safety poll only the subscriptions that asked for it, ' + 'and every one after a reconnect',
    async () => {
      const { client, subscriber, store } = scriptedStore(30);
      const watcher = store.subscribe('watched', () => {});
      const runner = store.subscribe('running', () => {}, { safetyPoll: false });
      await eventually(() => client.reads.length >= 2);
      const polls = client.reads.splice(0);
      for (const keys of polls) expect(keys).to.deep.equal(['t:task:watched']);
      subscriber.emit('ready');
      await eventually(() => client.reads.some((keys) => keys.length === 2 && keys.includes('t:task:running')));
      watcher();
      watcher(); // idempotent: the poll count of another subscription must not drop
      runner();
      client.reads.length = 0;
      // A window of several polls in which nothing may be read (a slow machine only polls less).
      await sleep(80);
      expect(client.reads).to.deep.equal([]);
      await store.close();
    },
  );
});
