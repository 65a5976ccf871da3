import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { DeliveryState, FailureReason } from '../../gen/ts/taskmanager/v1/task.js';
import { eventually } from '../helpers/core.js';
import { deliverySettled, Receiver } from '../helpers/receiver.js';
import { RedisServer } from '../helpers/redis.js';
import { type Replica, startReplicas } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

const figure = (text: string) => console.log(`      FIGURE: ${text}`);

/** Redirect delivery with several replicas: once, even when replicas race or die. */
describe('redirect delivery across replicas', function () {
  this.timeout(60_000);
  const receiver = new Receiver();
  let redis: RedisServer;
  let raw: Redis;
  let replicas: Replica[];
  const exec = { userId: 'd', channelId: '', platform: '', requestId: '' };

  beforeEach(async () => {
    const base = await receiver.start();
    redis = await RedisServer.start();
    raw = new Redis(redis.url);
    replicas = await startReplicas(3, {
      REDIS_URL: redis.url,
      TASKSERVICE_REDIS_PREFIX: `d${randomBytes(3).toString('hex')}:`,
      TASKSERVICE_LEASE_TTL_SECONDS: '2',
      TASKSERVICE_SWEEP_INTERVAL_SECONDS: '0.5',
      TASKSERVICE_REDIRECT_TIMEOUT_SECONDS: '10',
      TASKSERVICE_PLATFORMS: JSON.stringify({
        chat: { kind: 'webhook', url: `${base}/{channel_id}` },
        stream: { kind: 'redis-stream', url: redis.url, stream_prefix: 'test:deliveries:' },
      }),
    });
  });
  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    raw.disconnect();
    await redis.stop();
    await receiver.close();
    receiver.reset();
  });

  const redirectOf = async (replica: Replica, taskId: string) =>
    (await call(replica.client.getResult, replica.client, { taskId, userId: '' })).task!.redirect;

  it('delivers once when three replicas race to deliver the same results', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await call(replicas[0].client.execute, replicas[0].client, {
        ...exec,
        toolName: 'echo',
        argumentsJson: `{"text":"r${i}"}`,
        requestId: `race-${i}`,
      });
      ids.push(res.task!.taskId);
    }
    // The tasks have finished: each SetOutputRedirect starts a delivery at once, on all three replicas.
    await Promise.all(
      ids.flatMap((taskId) =>
        replicas.map((r) =>
          call(r.client.setOutputRedirect, r.client, {
            taskId,
            userId: '',
            channelId: `c-${taskId}`,
            platform: 'chat',
            maxChars: 0,
          }),
        ),
      ),
    );
    await eventually(
      async () => (await Promise.all(ids.map((id) => redirectOf(replicas[1], id)))).every(deliverySettled),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    const perTask = ids.map((id) => receiver.received.filter((x) => x.body.task_id === id).length);
    expect(new Set(perTask)).to.deep.equal(new Set([1]));
    figure(
      `3 replicas racing to deliver 20 finished results: ${receiver.received.length} deliveries received (1 per task)`,
    );
  });

  it('resumes on another replica a delivery whose replica was killed mid-send (at most one duplicate)', async () => {
    const [a, b] = replicas;
    receiver.statuses = [{ status: 200, delayMs: 8000 }]; // the first send hangs until its replica is dead
    const res = await call(a.client.execute, a.client, {
      ...exec,
      toolName: 'echo',
      argumentsJson: '{"text":"survives"}',
      requestId: 'crash-1',
      redirect: { channelId: 'crash', platform: 'chat', maxChars: 0 },
    });
    await eventually(() => receiver.received.length === 1);
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await eventually(async () => deliverySettled(await redirectOf(b, res.task!.taskId)), 10_000);
    const redirect = (await redirectOf(b, res.task!.taskId))!;
    expect(redirect.deliveryState).to.equal(DeliveryState.DELIVERY_STATE_DELIVERED);
    expect(receiver.received).to.have.length(2);
    figure(
      `replica killed mid-delivery: resumed by a survivor and delivered ${Date.now() - killedAt} ms ` +
        `after the kill; sends received: 2 (1 duplicate, across the crash)`,
    );
  });

  it('delivers the failure of a task whose replica died, once, from a survivor', async () => {
    const [a] = replicas;
    const res = await call(a.client.execute, a.client, {
      ...exec,
      toolName: 'sleep',
      argumentsJson: '{"seconds":60}',
      timeoutSeconds: 0.05,
      redirect: { channelId: 'lost', platform: 'chat', maxChars: 0 },
    });
    a.child.kill('SIGKILL');
    await eventually(async () => deliverySettled(await redirectOf(replicas[1], res.task!.taskId)), 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.received).to.have.length(1);
    expect(receiver.received[0].body).to.include({
      task_id: res.task!.taskId,
      status: 'failed',
      failure_reason: 'worker_lost',
    });
    const task = (
      await call(replicas[1].client.getResult, replicas[1].client, { taskId: res.task!.taskId, userId: '' })
    ).task!;
    expect(task.failureReason).to.equal(FailureReason.FAILURE_REASON_WORKER_LOST);
  });

  it('appends a delivery to the platform/channel Redis Stream, once, for any consumer to read', async () => {
    const res = await call(replicas[2].client.execute, replicas[2].client, {
      ...exec,
      toolName: 'echo',
      argumentsJson: '{"text":"to the stream"}',
      requestId: 'stream-1',
      redirect: { channelId: 'room-9', platform: 'stream', maxChars: 0 },
    });
    await eventually(async () => deliverySettled(await redirectOf(replicas[0], res.task!.taskId)));
    const entries = (await raw.xrange('test:deliveries:stream:room-9', '-', '+')) as [string, string[]][];
    expect(entries).to.have.length(1);
    const fields = Object.fromEntries(
      entries[0][1].reduce<[string, string][]>((acc, v, i, all) => (i % 2 ? acc : [...acc, [v, all[i + 1]]]), []),
    );
    expect(fields).to.include({ task_id: res.task!.taskId, tool_name: 'echo', status: 'completed', truncated: '0' });
    expect(fields.text).to.equal(`[echo] task ${res.task!.taskId} completed:\nto the stream`);
  });
});
