import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keySlot, RedisKeys } from '../../src/store/redis/keys.js';
import { eventually } from '../helpers/core.js';
import { RedisCluster } from '../helpers/redis-cluster.js';
import type { RedisServer } from '../helpers/redis.js';
import { type Replica, startReplicas } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

/** Background tasks in the sharded run: about 1,000 per master, so ±15% is several standard deviations. */
const TASKS = 3000;
/**
 * Distinct user ids. A user's running places are counted in one shard chosen by user id, so commands placed
 * by user spread as the users do: 1,000 users put 333 ± 15 on each master (64 would put 21 ± 4).
 */
const USERS = 1000;
const IN_FLIGHT = 64;
/**
 * How long each task's `sleep` runs; the budget is 1 ms. Long enough that a loaded machine does not answer it
 * inline: a replica's event loop stalled past the sleep runs its due 50 ms timers, the tools', before its due
 * 1 ms ones, the budgets' (Node runs one duration's list of timers at a time).
 */
const TOOL_SECONDS = 0.5;
const TOLERANCE = 0.15;

/** The slot a key lives in: its hash tag's when it has one. */
function slotOf(key: string): number {
  const tag = /\{([^}]+)\}/.exec(key)?.[1];
  return keySlot(tag ?? key);
}

/**
 * A real 3-master Redis Cluster, two replicas on the default 12 shards: the
 * tasks' keys and the scripts that change them spread evenly over the
 * masters (issue 19: within ±15% of an even share). With one shard (the
 * layout before shards), one master holds every task.
 */
describe('a sharded deployment on a 3-master Redis Cluster', function () {
  this.timeout(60_000);
  let cluster: RedisCluster;
  let masters: RedisServer[];
  let admins: Redis[];
  let replicas: Replica[] = [];
  /** Which master (index in `masters`) holds a slot. */
  let masterOf: (slot: number) => number;

  before(async () => {
    cluster = await RedisCluster.start();
    masters = await cluster.masters();
    expect(masters).to.have.length(3);
    admins = masters.map((m) => new Redis(m.port, '127.0.0.1'));
    const slots = (await admins[0]!.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    masterOf = (slot) => {
      const owner = slots.find(([from, to]) => slot >= from && slot <= to)!;
      return masters.findIndex((m) => m.port === Number(owner[2][1]));
    };
  });
  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    replicas = [];
  });
  after(async () => {
    for (const admin of admins ?? []) admin.disconnect();
    await cluster?.stop();
  });

  /** `count` backgrounded `sleep` tasks through the replicas in turn, `IN_FLIGHT` at a time; their ids. */
  async function run(count: number): Promise<string[]> {
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < count) {
          const i = next++;
          const replica = replicas[i % replicas.length]!;
          const answer = await call(replica.client.execute, replica.client, {
            toolName: 'sleep',
            argumentsJson: JSON.stringify({ seconds: TOOL_SECONDS }),
            userId: `spread-user-${i % USERS}`,
            channelId: '',
            platform: '',
            requestId: '',
            timeoutSeconds: 0.001,
          });
          expect(answer.backgrounded, `backgrounded, not answered inline: ${answer.text}`).to.equal(true);
          ids.push(answer.task!.taskId);
        }
      }),
    );
    return ids;
  }

  /** Until no replica's running set, in any shard, holds a task. */
  async function allFinished(keys: RedisKeys): Promise<void> {
    const running = keys.shards.flatMap((k) => replicas.map((_, i) => k.running(`replica-${i}`)));
    await eventually(
      async () => {
        for (const key of running) if ((await admins[masterOf(slotOf(key))]!.scard(key)) > 0) return false;
        return true;
      },
      { timeoutMs: 20_000, what: 'every task finished' },
    );
  }

  const evalshaCalls = async (admin: Redis) =>
    Number(/cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);

  function expectEven(what: string, perMaster: number[]): void {
    const total = perMaster.reduce((a, b) => a + b, 0);
    for (const n of perMaster) {
      expect(Math.abs(n / (total / perMaster.length) - 1), `${what} per master: ${perMaster.join(', ')}`).to.be.below(
        TOLERANCE,
      );
    }
  }

  it(`spreads ${TASKS} tasks' keys and scripts within ±15% of an even third on each master (12 shards)`, async () => {
    const prefix = '{spread}:';
    const keys = new RedisKeys(prefix, 12);
    replicas = await startReplicas(2, {
      REDIS_URL: '',
      TASKSERVICE_REDIS_CLUSTER_NODES: cluster.addresses,
      TASKSERVICE_REDIS_PREFIX: prefix,
      TASKSERVICE_MAX_RUNNING_PER_USER: '100000',
    });
    await Promise.all(admins.map((a) => a.config('RESETSTAT')));

    const ids = await run(TASKS);
    await allFinished(keys);

    const taskKeys = masters.map(() => 0);
    for (const id of ids) taskKeys[masterOf(slotOf(keys.of(id).task(id)))]!++;
    expectEven('tasks', taskKeys);
    expectEven('keys (DBSIZE)', await Promise.all(admins.map((a) => a.dbsize())));
    expectEven('evalsha calls', await Promise.all(admins.map(evalshaCalls)));
  });

  it('puts every task on one master with one shard (the layout before shards)', async () => {
    const prefix = '{single}:';
    replicas = await startReplicas(2, {
      REDIS_URL: '',
      TASKSERVICE_REDIS_CLUSTER_NODES: cluster.addresses,
      TASKSERVICE_REDIS_PREFIX: prefix,
      TASKSERVICE_REDIS_SHARDS: '1',
    });
    const ids = await run(300);
    await allFinished(new RedisKeys(prefix, 1));
    const perMaster = await Promise.all(
      admins.map(async (admin) => {
        let found = 0;
        let cursor = '0';
        do {
          const [nextCursor, batch] = await admin.scan(cursor, 'MATCH', `${prefix}task:*`, 'COUNT', 1000);
          found += batch.length;
          cursor = nextCursor;
        } while (cursor !== '0');
        return found;
      }),
    );
    const home = masterOf(keySlot('single'));
    expect(perMaster[home], `task keys per master: ${perMaster.join(', ')}`).to.equal(ids.length);
    expect(perMaster.reduce((a, b) => a + b, 0)).to.equal(ids.length);
  });
});
