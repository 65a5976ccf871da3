import { expect } from 'chai';
import { Redis } from 'ioredis';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import type { RedisKeys } from '../../src/store/redis/keys.js';
import { eventually } from '../helpers/core.js';
import { type Replica, type SharedRedisDeployment, startOnOneRedis, startSleep } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

const LEASE_S = 1;

/**
 * A Redis failover can lose the master's last writes: a task's finish among
 * them leaves the task RUNNING, owned by a live replica that no longer runs
 * it, which no lease sweep touches. Each replica's orphan check ends such
 * tasks: with the outcome it stored lately (the finish is written again),
 * else failed worker_lost. The rewind is made by hand here (the state a lost
 * finish leaves); test/faults/failover.test.ts makes real failovers.
 */
for (const shards of [1, 4]) {
  describe(`the orphan check (${shards} shard${shards > 1 ? 's' : ''})`, function () {
    this.timeout(30_000);
    let raw: Redis;
    let replica: Replica;
    let keys: RedisKeys;
    let deployment: SharedRedisDeployment | undefined;

    beforeEach(async () => {
      deployment = await startOnOneRedis(1, shards, { TASKSERVICE_LEASE_TTL_SECONDS: String(LEASE_S) });
      ({ raw, keys } = deployment);
      replica = deployment.replicas[0]!;
    });
    afterEach(() => deployment?.stop());

    const read = async (taskId: string) =>
      (await call(replica.client.getResult, replica.client, { taskId, userId: '' })).task!;
    /** Puts a task back as a lost finish leaves it: its hash as it was while running, in its owner's running set. */
    const rewind = async (taskId: string, snapshot: Record<string, string>) => {
      const k = keys.of(taskId);
      await raw.multi().del(k.task(taskId)).hset(k.task(taskId), snapshot).sadd(k.running('replica-0'), taskId).exec();
      await raw.zrem(k.expiring, taskId);
    };

    it('writes the outcome again when a finish it stored was lost', async () => {
      const { taskId } = (await startSleep(replica, 'u', 0.3)).task!;
      const snapshot = await raw.hgetall(keys.of(taskId).task(taskId));
      expect(snapshot.status).to.equal('running');
      await eventually(async () => (await read(taskId)).status === TaskStatus.TASK_STATUS_COMPLETED);
      const finished = await read(taskId);
      await rewind(taskId, snapshot);
      expect((await read(taskId)).status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
      await eventually(async () => (await read(taskId)).status === TaskStatus.TASK_STATUS_COMPLETED, {
        timeoutMs: 6 * 3 * LEASE_S * 1000,
        what: 'the lost finish written again',
      });
      expect((await read(taskId)).result).to.equal(finished.result);
      expect(await raw.sismember(keys.of(taskId).running('replica-0'), taskId)).to.equal(0);
    });

    it('fails worker_lost a task listed as its own that it never ran, and leaves its running tasks alone', async () => {
      const { taskId: live } = (await startSleep(replica, 'u', 60)).task!;
      const { taskId: lost } = (await startSleep(replica, 'u', 0.2)).task!;
      const snapshot = await raw.hgetall(keys.of(lost).task(lost));
      await eventually(async () => (await read(lost)).status === TaskStatus.TASK_STATUS_COMPLETED);
      // A task whose outcome this process no longer has: as if it had finished long ago.
      const orphan = snapshot.task_id!.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      const k = keys.of(orphan);
      await raw.hset(k.task(orphan), { ...snapshot, task_id: orphan });
      await raw.sadd(k.running('replica-0'), orphan);
      await eventually(async () => (await read(orphan)).status === TaskStatus.TASK_STATUS_FAILED, {
        timeoutMs: 6 * 3 * LEASE_S * 1000,
        what: 'the orphan failed',
      });
      expect(await read(orphan)).to.include({
        failureReason: FailureReason.FAILURE_REASON_WORKER_LOST,
        error: 'this replica no longer runs it: the store lost its end (a Redis failover?)',
      });
      expect((await read(live)).status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
    });
  });
}
