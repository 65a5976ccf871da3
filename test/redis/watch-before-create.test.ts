import { expect } from 'chai';
import { newTaskId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/logger.js';
import type { TaskRecord } from '../../src/core/task.js';
import type { RedisConfig } from '../../src/config/index.js';
import { connectRedis } from '../../src/store/redis/connect.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { eventually } from '../helpers/core.js';
import { RedisServer } from '../helpers/redis.js';

/**
 * ExecuteStream subscribes to its task before the record is written, so that no change is missed. On the
 * production connections (auto-pipelined commands) the store's re-read of watched tasks goes out at once while
 * the create waits for the loop's next turn: the re-read finds no record. Taken for a deletion, that ended the
 * stream NOT_FOUND for a task that was running (found by the bad-input fuzz, about once in 100,000 requests).
 */
describe('Redis store: a task watched before its record is written', function () {
  this.timeout(20_000);
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis?.stop());

  it('is not reported deleted by a re-read that overtakes its create', async () => {
    const config = { mode: 'single', url: redis.url, nodes: [], tls: false } as unknown as RedisConfig;
    const { client, subscriber } = connectRedis(config);
    const store = new RedisStore(
      client,
      subscriber,
      {
        keys: new RedisKeys('wbc:', 1),
        instanceId: 'i1',
        retentionMs: 60_000,
        commandTimeoutMs: 2000,
        safetyPollMs: 60_000,
      },
      silentLogger,
    );
    try {
      await eventually(() => store.isAvailable, { what: 'the Redis store to connect' });
      await store.subscribed;
      for (let round = 0; round < 20; round++) {
        const taskId = newTaskId();
        const heard: (TaskRecord | null)[] = [];
        const unsubscribe = store.subscribe(taskId, (task) => heard.push(task));
        const created = store.create({
          taskId,
          toolName: 'echo',
          owner: 'i1',
          userId: 'u',
          channelId: '',
          platform: '',
        });
        // What the subscriber does after a reconnect: re-read every watched task, sent now, ahead of the create.
        subscriber.emit('ready');
        await created;
        await eventually(() => heard.length > 0, { what: 'the re-read to report' });
        unsubscribe();
        expect(heard, `round ${round}`).to.have.length(1);
        expect(heard[0], `round ${round}: the task as created, not "deleted"`).to.include({ taskId, version: 1 });
      }
    } finally {
      await store.close();
    }
  });
});
