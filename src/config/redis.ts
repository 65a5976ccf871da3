import type { EnvReader } from './env-reader.js';
import { ConfigError, type RedisConfig } from './types.js';

/**
 * True when the prefix holds a non-empty `{hash tag}`, so all keys share one
 * slot (src/store/redis/keys.ts builds the keys; the rule lives here, where
 * the prefix is checked, so that config needs nothing from a store).
 */
/** TASKSERVICE_REDIS_SHARDS when unset in Cluster mode (docs/REDIS.md, "Shards"). */
export const CLUSTER_DEFAULT_SHARDS = 12;

export function hasHashTag(prefix: string): boolean {
  return /\{[^}]+\}/.test(prefix);
}

/** Where task state lives: one of REDIS_URL, Cluster seeds or Sentinels, or none (memory). */
export function readRedis(r: EnvReader): RedisConfig {
  const url = r.text('REDIS_URL');
  const cluster = r.hosts('TASKSERVICE_REDIS_CLUSTER_NODES');
  const sentinels = r.hosts('TASKSERVICE_REDIS_SENTINELS');
  const chosen = [
    url && 'REDIS_URL',
    cluster.length && 'TASKSERVICE_REDIS_CLUSTER_NODES',
    sentinels.length && 'TASKSERVICE_REDIS_SENTINELS',
  ];
  if (chosen.filter(Boolean).length > 1) throw new ConfigError(`set only one of ${chosen.filter(Boolean).join(', ')}`);
  const mode: RedisConfig['mode'] = url
    ? 'single'
    : cluster.length
      ? 'cluster'
      : sentinels.length
        ? 'sentinel'
        : 'none';
  const sentinelMaster = r.text('TASKSERVICE_REDIS_SENTINEL_MASTER');
  if (mode === 'sentinel' && !sentinelMaster) {
    throw new ConfigError(
      'TASKSERVICE_REDIS_SENTINEL_MASTER must name the master set when TASKSERVICE_REDIS_SENTINELS is set',
    );
  }
  const prefix = r.text('TASKSERVICE_REDIS_PREFIX');
  if (mode === 'cluster' && !hasHashTag(prefix)) {
    throw new ConfigError(
      `TASKSERVICE_REDIS_PREFIX="${prefix}" needs a hash tag in Redis Cluster, e.g. "{sg}:", ` +
        'so that the keys one script touches share a slot',
    );
  }
  return {
    mode,
    url,
    nodes: mode === 'cluster' ? cluster : sentinels,
    sentinelMaster,
    password: r.text('TASKSERVICE_REDIS_PASSWORD'),
    tls: r.bool('TASKSERVICE_REDIS_TLS'),
    prefix,
    // A Cluster spreads a deployment over its masters only with several shards; 12 splits evenly over
    // 2, 3, 4, 6 or 12 masters that hold equal slot ranges. Elsewhere one shard keeps today's keys.
    shards:
      mode === 'cluster' && r.raw('TASKSERVICE_REDIS_SHARDS') === undefined
        ? CLUSTER_DEFAULT_SHARDS
        : r.integer('TASKSERVICE_REDIS_SHARDS'),
    commandTimeoutSeconds: r.seconds('TASKSERVICE_REDIS_COMMAND_TIMEOUT_SECONDS'),
    leaseTtlSeconds: r.seconds('TASKSERVICE_LEASE_TTL_SECONDS'),
    sweepIntervalSeconds: r.seconds('TASKSERVICE_SWEEP_INTERVAL_SECONDS'),
    expirySweepSeconds: r.seconds('TASKSERVICE_EXPIRY_SWEEP_SECONDS'),
    safetyPollSeconds: r.seconds('TASKSERVICE_SAFETY_POLL_SECONDS'),
  };
}
