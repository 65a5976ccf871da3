import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { type AwaitResultResponse, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { eventually } from '../helpers/core.js';
import { RedisServer } from '../helpers/redis.js';
import { type Replica, startReplicas } from '../helpers/replicas.js';
import { call, watchTask } from '../helpers/server.js';

/** Three replicas on one Redis behave as one service. */
describe('three replicas on one Redis', () => {
  let redis: RedisServer;
  let replicas: Replica[];
  const exec = { userId: 'multi', channelId: '', platform: '', requestId: '' };

  before(async function () {
    this.timeout(60_000);
    redis = await RedisServer.start();
    replicas = await startReplicas(3, {
      REDIS_URL: redis.url,
      TASKSERVICE_REDIS_PREFIX: `r${randomBytes(3).toString('hex')}:`,
    });
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await redis.stop();
  });

  const awaitAll = async (replica: Replica, taskId: string) => {
    const out: AwaitResultResponse[] = [];
    for await (const m of replica.client.awaitResult({ taskId, userId: 'multi' }, { deadline: Date.now() + 20_000 }))
      out.push(m);
    return out;
  };

  it('answers GetResult, ListTasks and AwaitResult for a task on any replica', async () => {
    const [a, b, c] = replicas;
    const res = await call(a.client.execute, a.client, {
      ...exec,
      toolName: 'sleep',
      argumentsJson: '{"seconds":1}',
      timeoutSeconds: 0.05,
    });
    const id = res.task!.taskId;
    const fromB = await call(b.client.getResult, b.client, { taskId: id, userId: 'multi' });
    expect(fromB.task?.status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
    const listed = await call(c.client.listTasks, c.client, {
      userId: 'multi',
      status: 0,
      toolName: '',
      pageSize: 10,
      pageToken: '',
    });
    expect(listed.tasks.map((t) => t.taskId)).to.include(id);
    const updates = await awaitAll(c, id);
    expect(updates[0].kind).to.equal(UpdateKind.UPDATE_KIND_SNAPSHOT);
    expect(
      updates.some((u) => u.kind === UpdateKind.UPDATE_KIND_PROGRESS),
      'progress crosses replicas',
    ).to.equal(true);
    expect(updates.at(-1)).to.deep.include({ kind: UpdateKind.UPDATE_KIND_TERMINAL, text: 'slept 1 s' });
    const viaOther = await call(b.client.getResult, b.client, { taskId: id, userId: 'someone-else' }).catch((e) => e);
    expect(viaOther.code).to.equal(5);
  });

  it("cancels on replica B a tool that runs on replica A, and every replica's watchers see it", async () => {
    const [a, b, c] = replicas;
    const res = await call(a.client.execute, a.client, {
      ...exec,
      toolName: 'sleep',
      argumentsJson: '{"seconds":60}',
      timeoutSeconds: 0.05,
    });
    const id = res.task!.taskId;
    const watchers = [watchTask(a.client, id, 'multi', 20_000), watchTask(c.client, id, 'multi', 20_000)];
    await eventually(() => watchers.every((w) => w.started)); // both subscribed: they hear the cancel live
    const cancelled = await call(b.client.cancelTask, b.client, { taskId: id, userId: 'multi' });
    expect(cancelled.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    for (const updates of await Promise.all(watchers.map((w) => w.done)))
      expect(updates.at(-1)!.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    await eventually(() =>
      a.lines.some((l) => l.msg === 'stopped a tool: its task was ended elsewhere' && l.taskId === id),
    );
  });

  it('runs one tool for the same request_id sent to two replicas', async () => {
    const [a, b] = replicas;
    const req = {
      ...exec,
      toolName: 'sleep',
      argumentsJson: '{"seconds":0.5}',
      timeoutSeconds: 0.05,
      requestId: `rid-${Date.now()}`,
    };
    const [first, second] = await Promise.all([
      call(a.client.execute, a.client, req),
      call(b.client.execute, b.client, req),
    ]);
    expect(second.task!.taskId).to.equal(first.task!.taskId);
  });
});
