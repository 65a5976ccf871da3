import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../../config/index.js';
import { waitAtMost } from '../../core/wait-at-most.js';
import { type RedisClient, type ScriptedClient, withScripts } from './scripts.js';

/** The longest wait between two reconnect attempts (ms). */
export const RECONNECT_BACKOFF_MAX_MS = 1000;

const backoff = (attempt: number) => Math.min(50 * 2 ** attempt, RECONNECT_BACKOFF_MAX_MS);

/**
 * The two connections a RedisStore needs, from configuration.
 *
 * Commands: no offline queue and no resend after a reconnect
 * (maxRetriesPerRequest 0), so a call made while Redis is unreachable fails
 * at once and nothing is replayed behind the caller's back; reconnects retry
 * forever with a capped backoff, so the process recovers on its own.
 * Subscriber: queues its SUBSCRIBE until connected and resubscribes after
 * every reconnect.
 */
export function connectRedis(config: RedisConfig): { client: ScriptedClient; subscriber: RedisClient } {
  const common: RedisOptions = {
    connectTimeout: 2000,
    retryStrategy: backoff,
    ...(config.password && { password: config.password }),
    ...(config.tls && { tls: {} }),
  };
  // Auto-pipelining: the commands of concurrent calls issued in one tick go out in one write;
  // a write(2) per command was the largest single cost of a background task (bench/, docs/PERFORMANCE.md).
  const commands: RedisOptions = {
    ...common,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: true,
  };
  const listening: RedisOptions = {
    ...common,
    enableOfflineQueue: true,
    autoResubscribe: true,
    maxRetriesPerRequest: null,
  };
  switch (config.mode) {
    case 'single':
      return { client: withScripts(new Redis(config.url!, commands)), subscriber: new Redis(config.url!, listening) };
    case 'sentinel': {
      const sentinel = { sentinels: config.nodes, name: config.sentinelMaster! };
      return {
        client: withScripts(new Redis({ ...commands, ...sentinel })),
        subscriber: new Redis({ ...listening, ...sentinel }),
      };
    }
    case 'cluster': {
      // Several shards: task events on sharded pub/sub, so each stays on its shard's node.
      const sharded = config.shards > 1;
      return {
        client: withScripts(
          new Cluster(config.nodes, {
            enableOfflineQueue: false,
            enableAutoPipelining: true,
            redisOptions: commands,
            clusterRetryStrategy: backoff,
          }),
          sharded,
        ),
        subscriber: new Cluster(config.nodes, {
          enableOfflineQueue: true,
          redisOptions: listening,
          shardedSubscribers: sharded,
        }),
      };
    }
    default:
      throw new Error('connectRedis needs a Redis configuration');
  }
}

/** How long close waits for Redis to answer QUIT. */
const QUIT_GRACE_MS = 500;

/**
 * Closes connections: QUIT waits for an answer (the subscriber's even queues
 * while Redis is down), so give it a moment, then drop them regardless.
 */
export async function closeConnections(...connections: RedisClient[]): Promise<void> {
  await waitAtMost(Promise.allSettled(connections.map((c) => c.quit())), QUIT_GRACE_MS);
  for (const c of connections) c.disconnect();
}
