import { randomBytes } from 'node:crypto';
import { RedisServer } from './redis.js';
import { RedisCluster } from './redis-cluster.js';
import { RedisSentinel, SENTINEL_MASTER } from './redis-sentinel.js';

/**
 * Which store the integration suite runs against, from TEST_STORE:
 * `memory` (default), `redis` (one real redis-server), `cluster` (a real
 * 3-master Redis Cluster) or `sentinel` (a real master found through a real Sentinel). The servers start once
 * per mocha run (root hooks below) and stop at its end; a missing redis-server fails the run.
 */
export const TEST_STORE = (process.env.TEST_STORE ?? 'memory') as 'memory' | 'redis' | 'cluster' | 'sentinel';
if (!['memory', 'redis', 'cluster', 'sentinel'].includes(TEST_STORE)) {
  throw new Error(`TEST_STORE=${TEST_STORE}: use memory, redis, cluster or sentinel`);
}

/**
 * The servers, kept on globalThis rather than in module variables: mocha
 * loads this file through require() (.mocharc.json), and a test file that
 * imports an ES-module-only package (the MCP SDK) is loaded with import(),
 * which makes a second instance of this module. Both must see one set of servers.
 */
const servers = ((globalThis as Record<symbol, unknown>)[Symbol.for('taskservice.test-store')] ??= {}) as {
  single?: RedisServer;
  cluster?: RedisCluster;
  sentinel?: RedisSentinel;
};

/** Environment for a TaskService on the chosen store, with a key prefix of its own. */
export function storeEnv(): Record<string, string> {
  return {
    ...storeLocation(),
    ...(process.env.TEST_REDIS_SHARDS && { TASKSERVICE_REDIS_SHARDS: process.env.TEST_REDIS_SHARDS }),
  };
}

function storeLocation(): Record<string, string> {
  const tag = randomBytes(4).toString('hex');
  if (TEST_STORE === 'redis') return { REDIS_URL: servers.single!.url, TASKSERVICE_REDIS_PREFIX: `t${tag}:` };
  if (TEST_STORE === 'cluster')
    return { TASKSERVICE_REDIS_CLUSTER_NODES: servers.cluster!.addresses, TASKSERVICE_REDIS_PREFIX: `{t${tag}}:` };
  if (TEST_STORE === 'sentinel') {
    return {
      TASKSERVICE_REDIS_SENTINELS: servers.sentinel!.address,
      TASKSERVICE_REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
      TASKSERVICE_REDIS_PREFIX: `t${tag}:`,
    };
  }
  return {};
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    if (TEST_STORE === 'redis') servers.single = await RedisServer.start();
    if (TEST_STORE === 'cluster') servers.cluster = await RedisCluster.start();
    if (TEST_STORE === 'sentinel') servers.sentinel = await RedisSentinel.start();
  },
  async afterAll() {
    await servers.single?.stop();
    await servers.cluster?.stop();
    await servers.sentinel?.stop();
  },
};
