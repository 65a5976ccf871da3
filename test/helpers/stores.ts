import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { silentLogger } from '../../src/core/logger.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { withScripts } from '../../src/store/redis/scripts.js';
import type { CountingStore } from '../../src/app.js';
import { eventually } from './eventually.js';

/** A store under test plus what the contract suite needs to drive it. */
export interface StoreUnderTest {
  store: CountingStore;
  /** Deletes tasks whose retention has passed, now. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

export type StoreFactory = (options: { retentionMs: number; instanceId?: string }) => Promise<StoreUnderTest>;

export const memoryFactory: StoreFactory = async ({ retentionMs }) => {
  const store = new MemoryStore({ retentionMs });
  return { store, sweep: async () => store.sweep(), close: () => store.close() };
};

/** A RedisStore on a fresh key prefix, so tests never see each other's keys. */
export function redisFactory(url: () => string, shards = 1): StoreFactory {
  return async ({ retentionMs, instanceId = 'test-instance' }) => {
    const store = redisStore(url(), { retentionMs, instanceId, shards });
    await eventually(() => store.isAvailable, { what: 'the Redis store to connect' });
    await store.subscribed;
    return { store, sweep: async () => void (await store.leases.sweepExpired()), close: () => store.close() };
  };
}

export function redisStore(
  url: string,
  options: { retentionMs?: number; instanceId?: string; prefix?: string; safetyPollMs?: number; shards?: number } = {},
): RedisStore {
  const client = withScripts(
    new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 }),
  );
  const subscriber = new Redis(url, { retryStrategy: () => 50 });
  return new RedisStore(
    client,
    subscriber,
    {
      keys: new RedisKeys(options.prefix ?? `t${randomBytes(4).toString('hex')}:`, options.shards),
      instanceId: options.instanceId ?? 'test-instance',
      retentionMs: options.retentionMs ?? 60_000,
      commandTimeoutMs: 2000,
      safetyPollMs: options.safetyPollMs ?? 5000,
    },
    silentLogger,
  );
}
