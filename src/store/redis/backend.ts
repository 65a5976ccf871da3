import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/index.js';
import type { HandoffRequest } from '../../core/handoff.js';
import type { Logger } from '../../core/logger.js';
import type { LocalWorkers } from '../../core/worker-tools.js';
import { waitAtMost } from '../../core/wait-at-most.js';
import { connectRedis } from './connect.js';
import { Housekeeper, type OwedDelivery } from './housekeeper.js';
import { instrumentRedis, type RedisObserver } from './instrument.js';
import { RedisKeys } from './keys.js';
import { RedisStore } from './redis-store.js';
import { RedisWorkerRouter } from './worker-router.js';

/** What the backend reports to, and hands work back to. */
export interface RedisBackendHooks {
  /** The parent logger: each part logs as its own component. */
  logger: Logger;
  /** Times every command (metrics implement it). */
  observer: RedisObserver;
  /** A result this replica now owes: called only after start(). */
  deliver: OwedDelivery;
}

/**
 * The Redis side of one replica: the task store, the housekeeper (lease,
 * worker-lost and expiry sweeps) and the worker router (worker tables and
 * handoffs). Shutdown comes in two steps because the app's order needs them
 * apart: handoffs stop before the manager shuts down, the rest goes last.
 */
export interface RedisBackend {
  readonly store: RedisStore;
  readonly housekeeper: Housekeeper;
  readonly router: RedisWorkerRouter;
  /**
   * Waits for Redis, briefly: up to 5 s for the command connection, then up to
   * 5 s for the events subscription. Redis may still be away afterwards: the
   * replica serves anyway, answering UNAVAILABLE until it comes.
   */
  waitUntilConnected(): Promise<void>;
  /** Starts the housekeeper, then the router: publishing `local`'s workers, giving handoffs to `runHandedOff`. */
  start(local: LocalWorkers, runHandedOff: (request: HandoffRequest) => void): Promise<void>;
  /** Stops advertising this replica's workers and taking handoffs; what is in the inbox goes to runHandedOff. */
  stopHandoffs(): Promise<void>;
  /** Stops handoffs if not yet, gives up the lease (with nothing left running), closes the connections. Idempotent. */
  close(): Promise<void>;
}

const CONNECT_WAIT_MS = 5000;
const CONNECT_POLL_MS = 20;

/** Builds the whole Redis backend from configuration. The connections open at once; the duties wait for start(). */
export function createRedisBackend(
  config: Pick<Config, 'redis' | 'instanceId' | 'retentionSeconds'>,
  { logger, observer, deliver }: RedisBackendHooks,
): RedisBackend {
  const { redis, instanceId } = config;
  const leaseTtlMs = redis.leaseTtlSeconds * 1000;
  const { client, subscriber } = connectRedis(redis);
  instrumentRedis(client, observer);
  const store = new RedisStore(
    client,
    subscriber,
    {
      keys: new RedisKeys(redis.prefix, redis.shards),
      instanceId,
      retentionMs: config.retentionSeconds * 1000,
      commandTimeoutMs: redis.commandTimeoutSeconds * 1000,
      safetyPollMs: redis.safetyPollSeconds * 1000,
      shardedEvents: redis.mode === 'cluster' && redis.shards > 1,
      placesReconcileMs: Math.max(1000, 3 * leaseTtlMs),
    },
    logger.child({ component: 'redis' }),
  );
  const router = new RedisWorkerRouter(
    store.workerDirectory,
    { leaseTtlMs },
    logger.child({ component: 'worker-router' }),
  );
  const housekeeper = new Housekeeper(
    store.leases,
    store,
    { leaseTtlMs, sweepIntervalMs: redis.sweepIntervalSeconds * 1000, expirySweepMs: redis.expirySweepSeconds * 1000 },
    logger.child({ component: 'housekeeper' }),
    deliver,
  );
  let closing: Promise<void> | undefined;
  return {
    store,
    housekeeper,
    router,
    async waitUntilConnected() {
      const end = Date.now() + CONNECT_WAIT_MS;
      while (!store.isAvailable && Date.now() < end) await sleep(CONNECT_POLL_MS);
      await waitAtMost(store.subscribed, CONNECT_WAIT_MS);
    },
    async start(local, runHandedOff) {
      housekeeper.start();
      await router.start(local, runHandedOff);
    },
    stopHandoffs: () => router.close(),
    close() {
      closing ??= (async () => {
        await router.close();
        await housekeeper.close();
        await store.close();
      })();
      return closing;
    },
  };
}
