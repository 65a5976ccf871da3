import { randomBytes } from 'node:crypto';
import { RedisServer } from './redis.js';
import { RedisCluster } from './redis-cluster.js';

/**
 * Which store the integration suite runs against, from TEST_STORE:
 * `memory` (default), `redis` (one real redis-server) or `cluster` (a real
 * 3-master Redis Cluster). The servers start once per mocha run (root hooks
 * below) and stop at its end; a missing redis-server fails the run.
 */
export const TEST_STORE = (process.env.TEST_STORE ?? 'memory') as 'memory' | 'redis' | 'cluster';
if (!['memory', 'redis', 'cluster'].includes(TEST_STORE)) throw new Error(`TEST_STORE=${TEST_STORE}: use memory, redis or cluster`);

let single: RedisServer | undefined;
let cluster: RedisCluster | undefined;

/** Environment for a TaskService on the chosen store, with a key prefix of its own. */
export function storeEnv(): Record<string, string> {
  const tag = randomBytes(4).toString('hex');
  if (TEST_STORE === 'redis') return { REDIS_URL: single!.url, TASKSERVICE_REDIS_PREFIX: `t${tag}:` };
  if (TEST_STORE === 'cluster') return { TASKSERVICE_REDIS_CLUSTER_NODES: cluster!.addresses, TASKSERVICE_REDIS_PREFIX: `{t${tag}}:` };
  return {};
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    if (TEST_STORE === 'redis') single = await RedisServer.start();
    if (TEST_STORE === 'cluster') cluster = await RedisCluster.start();
  },
  async afterAll() {
    await single?.stop();
    await cluster?.stop();
  },
};
