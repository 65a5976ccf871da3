import { expect } from 'chai';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { type AwaitResultResponse, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { RedisServer } from '../helpers/redis.js';
import { type Replica, startReplicas } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

const USER = 'output-reader';
const LEASE_S = 1;
const SWEEP_S = 0.3;
const ticks = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `tick ${from + i}\n`).join('');

/**
 * Output across replicas on one Redis: written by a tool on A, streamed and
 * resumed through B; a replica that serves a stream dies and the client
 * resumes on the other with nothing lost; a resumed stream on a finished and
 * on an expired task.
 */
describe('task output across two replicas on one Redis', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let replicas: Replica[];

  beforeEach(async () => {
    redis = await RedisServer.start();
    replicas = await startReplicas(2, {
      REDIS_URL: redis.url,
      TASKSERVICE_REDIS_PREFIX: `o${randomBytes(3).toString('hex')}:`,
      TASKSERVICE_LEASE_TTL_SECONDS: String(LEASE_S),
      TASKSERVICE_SWEEP_INTERVAL_SECONDS: String(SWEEP_S),
      TASKSERVICE_RETENTION_SECONDS: '2',
      TASKSERVICE_EXPIRY_SWEEP_SECONDS: '0.5',
    });
  });
  afterEach(async () => {
    await Promise.all((replicas ?? []).map((r) => r.stop()));
    await redis?.stop();
  });

  const tick = async (replica: Replica, count: number, interval: number) => {
    const res = await call(replica.client.execute, replica.client, {
      toolName: 'ticker',
      argumentsJson: JSON.stringify({ count, interval_seconds: interval }),
      userId: USER,
      channelId: '',
      platform: '',
      requestId: '',
      timeoutSeconds: 0.01,
    });
    expect(res.backgrounded).to.equal(true);
    return res.task!;
  };

  /** A stream through `replica` from (version, offset); reads until `stop` says so or the stream ends. */
  const stream = async (
    replica: Replica,
    taskId: string,
    from: { version: number; offset: number },
    stop: (seen: AwaitResultResponse[]) => boolean = () => false,
  ) => {
    const seen: AwaitResultResponse[] = [];
    const s = replica.client.awaitResult(
      { taskId, userId: USER, afterVersion: String(from.version), outputOffset: String(from.offset) },
      { deadline: Date.now() + 30_000 },
    );
    let error: (Error & { code?: number }) | undefined;
    try {
      for await (const m of s) {
        seen.push(m as AwaitResultResponse);
        if (stop(seen)) break;
      }
    } catch (err) {
      error = err as Error & { code?: number };
    } finally {
      s.cancel();
    }
    const states = seen.filter((m) => m.kind !== UpdateKind.UPDATE_KIND_OUTPUT);
    return {
      seen,
      error,
      output: seen.flatMap((m) => (m.output ? [m.output.text] : [])).join(''),
      version: Math.max(from.version, ...states.map((m) => Number(m.task!.version))),
      last: seen.at(-1),
    };
  };

  it('streams output written on A through B, and resumes it on B from where a stream on A stopped', async () => {
    const [a, b] = replicas;
    const task = await tick(a, 10, 0.08);
    const first = await stream(a, task.taskId, { version: 0, offset: 0 }, (seen) =>
      seen.some((m) => m.output?.text === 'tick 4\n'),
    );
    expect(first.output).to.equal(ticks(1, 4));
    const rest = await stream(b, task.taskId, { version: first.version, offset: Buffer.byteLength(first.output) });
    expect(first.output + rest.output).to.equal(ticks(1, 10));
    expect(rest.last!.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
    expect(rest.last!.task).to.include({ status: TaskStatus.TASK_STATUS_COMPLETED, result: 'ticked 10' });
    const got = await call(b.client.getResult, b.client, { taskId: task.taskId, userId: USER, outputOffset: '0' });
    expect(got.output!.text).to.equal(ticks(1, 10));
  });

  it('loses nothing when the replica serving the stream is killed: the client resumes on the other', async () => {
    const [a, b] = replicas;
    // The tool runs on B; the stream is served by A, which dies mid-stream.
    const task = await tick(b, 12, 0.08);
    const first = await stream(a, task.taskId, { version: 0, offset: 0 }, (seen) => {
      if (seen.some((m) => m.output?.text === 'tick 3\n')) a.child.kill('SIGKILL');
      return false;
    });
    expect(first.error?.code, 'the stream broke with UNAVAILABLE').to.equal(14);
    const rest = await stream(b, task.taskId, { version: first.version, offset: Buffer.byteLength(first.output) });
    expect(first.output + rest.output).to.equal(ticks(1, 12));
    expect(rest.last!.task).to.include({ status: TaskStatus.TASK_STATUS_COMPLETED });
  });

  it('keeps the output of a tool whose replica dies; the task fails WORKER_LOST with it', async () => {
    const [a, b] = replicas;
    const task = await tick(a, 50, 0.05);
    const first = await stream(b, task.taskId, { version: 0, offset: 0 }, (seen) => {
      if (seen.some((m) => m.output?.text === 'tick 3\n')) a.child.kill('SIGKILL');
      return false;
    });
    expect(first.last!.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
    expect(first.last!.task).to.include({
      status: TaskStatus.TASK_STATUS_FAILED,
      failureReason: FailureReason.FAILURE_REASON_WORKER_LOST,
    });
    expect(first.output.startsWith(ticks(1, 3))).to.equal(true);
    const got = await call(b.client.getResult, b.client, { taskId: task.taskId, userId: USER, outputOffset: '0' });
    expect(got.output!.text).to.equal(first.output);
  });

  it('resumes on a finished task with the rest of its output and its end; NOT_FOUND once expired', async () => {
    const [a, b] = replicas;
    const task = await tick(a, 4, 0.01);
    const all = await stream(b, task.taskId, { version: 0, offset: 0 });
    const at = Buffer.byteLength(ticks(1, 2));
    const again = await stream(b, task.taskId, { version: all.version, offset: at });
    expect(again.output).to.equal(ticks(3, 4));
    expect(again.seen.map((m) => m.kind)).to.deep.equal([
      UpdateKind.UPDATE_KIND_OUTPUT,
      UpdateKind.UPDATE_KIND_TERMINAL,
    ]);
    // Retention is 2 s: after it the task, its output with it, is gone.
    await new Promise((r) => setTimeout(r, 3500));
    const expired = await stream(a, task.taskId, { version: all.version, offset: at });
    expect(expired.error?.code).to.equal(5);
    const raw = new Redis(redis.url);
    try {
      expect(await raw.keys('*output*'), 'the output key went with the task').to.deep.equal([]);
    } finally {
      raw.disconnect();
    }
  });
});
