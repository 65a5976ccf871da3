import { expect } from 'chai';
import { Redis } from 'ioredis';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { eventually } from '../helpers/core.js';
import { type Replica, type SharedRedisDeployment, startOnOneRedis, startSleep } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

const SHARDS = 4;
const LEASE_S = 1;
const SWEEP_S = 0.3;

/**
 * Two replicas on one Redis with TASKSERVICE_REDIS_SHARDS=4: tasks spread over
 * the shards, listing merges them in order with stable pages, idempotent
 * retries find their claim on either replica, and the sweep of a dead
 * replica reaches its tasks in every shard, once each.
 */
describe('a sharded deployment (4 shards) on one Redis', function () {
  this.timeout(60_000);
  let raw: Redis;
  let replicas: Replica[];
  let keys: RedisKeys;
  let deployment: SharedRedisDeployment | undefined;

  beforeEach(async () => {
    deployment = await startOnOneRedis(2, SHARDS, {
      TASKSERVICE_LEASE_TTL_SECONDS: String(LEASE_S),
      TASKSERVICE_SWEEP_INTERVAL_SECONDS: String(SWEEP_S),
    });
    ({ raw, replicas, keys } = deployment);
  });
  afterEach(() => deployment?.stop());

  const start = (replica: Replica, user: string, seconds: number, requestId = '') =>
    startSleep(replica, user, seconds, requestId);

  it('spreads tasks over the shards and lists them newest first across shards, with stable pages', async () => {
    const [a, b] = replicas;
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await start(i % 2 ? a : b, 'lister', 30)).task!.taskId);
    const perShard = [0, 0, 0, 0];
    for (const id of ids) perShard[keys.shardOf(id)]!++;
    expect(
      perShard.every((n) => n > 5),
      `tasks per shard ${perShard}`,
    ).to.equal(true);
    for (const shard of keys.shards) expect(await raw.zcard(shard.userIndex('lister'))).to.equal(perShard[shard.index]);

    const listed: string[] = [];
    let pageToken = '';
    let inserted = 0;
    do {
      const page = await call(b.client.listTasks, b.client, {
        userId: 'lister',
        status: 0,
        toolName: '',
        pageSize: 7,
        pageToken,
      });
      listed.push(...page.tasks.map((t) => t.taskId));
      pageToken = page.nextPageToken;
      // New tasks while paging sort before every page already read: they never shift a later one.
      if (inserted++ < 3) await start(a, 'lister', 30);
    } while (pageToken);
    expect(listed, 'every task once, newest first').to.deep.equal([...ids].reverse());
  });

  it('finds the claim of a request id from either replica: one task, not two', async () => {
    const [a, b] = replicas;
    const first = await start(a, 'retrier', 30, 'req-1');
    const again = await start(b, 'retrier', 30, 'req-1');
    expect(again.task!.taskId).to.equal(first.task!.taskId);
    expect(keys.shardOf(first.task!.taskId)).to.equal(keys.shardOfClaim('retrier', 'req-1'));
  });

  it("fails a dead replica's tasks in every shard worker_lost, once each, and no other task", async () => {
    const [a, b] = replicas;
    const lost: string[] = [];
    for (let i = 0; i < 40; i++) lost.push((await start(a, 'victim', 60)).task!.taskId);
    const kept = (await start(b, 'survivor', 60)).task!.taskId;
    expect(new Set(lost.map((id) => keys.shardOf(id))).size).to.equal(SHARDS);
    a.child.kill('SIGKILL');
    const read = (id: string) => call(b.client.getResult, b.client, { taskId: id, userId: '' });
    await eventually(
      async () => (await Promise.all(lost.map(read))).every((r) => r.task!.status === TaskStatus.TASK_STATUS_FAILED),
      {
        timeoutMs: (LEASE_S + SWEEP_S + 4) * 1000,
        what: 'every lost task failed',
      },
    );
    for (const r of await Promise.all(lost.map(read))) {
      expect(r.task).to.include({
        status: TaskStatus.TASK_STATUS_FAILED,
        failureReason: FailureReason.FAILURE_REASON_WORKER_LOST,
      });
      expect(Number(r.task!.version), 'ended once: created, then failed').to.equal(2);
    }
    expect((await read(kept)).task!.status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
    // The dead replica is gone from every shard's lease table once its work there is done.
    await eventually(async () => {
      const members = await Promise.all(keys.shards.map((k) => raw.zrange(k.instances, '0', '-1')));
      return members.every((m) => !m.includes('replica-0'));
    });
  });
});
