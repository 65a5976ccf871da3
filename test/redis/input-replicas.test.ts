import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { eventually } from '../helpers/core.js';
import { RedisServer } from '../helpers/redis.js';
import { type Replica, startReplicas } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

const USER = 'asker';
const LEASE_S = 1;
const SWEEP_S = 0.3;

/**
 * Input-required across replicas on one Redis: a question asked by a tool on
 * A is answered through B and the tool resumes on A; a replica that dies
 * while its task waits leaves the task WORKER_LOST, once.
 */
describe('input-required across two replicas on one Redis', () => {
  let redis: RedisServer;
  let replicas: Replica[];

  beforeEach(async function () {
    this.timeout(60_000);
    redis = await RedisServer.start();
    replicas = await startReplicas(2, {
      REDIS_URL: redis.url,
      TASKSERVICE_REDIS_PREFIX: `i${randomBytes(3).toString('hex')}:`,
      TASKSERVICE_LEASE_TTL_SECONDS: String(LEASE_S),
      TASKSERVICE_SWEEP_INTERVAL_SECONDS: String(SWEEP_S),
    });
  });
  afterEach(async () => {
    await Promise.all((replicas ?? []).map((r) => r.stop()));
    await redis?.stop();
  });

  const ask = async (replica: Replica, question: string) => {
    const res = await call(replica.client.execute, replica.client, {
      toolName: 'ask',
      argumentsJson: JSON.stringify({ question }),
      userId: USER,
      channelId: '',
      platform: '',
      requestId: '',
      timeoutSeconds: 10,
    });
    expect(res.task?.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    return res.task!;
  };
  const read = (replica: Replica, taskId: string) =>
    call(replica.client.getResult, replica.client, { taskId, userId: USER });

  it('a question asked on A is answered through B, and the tool resumes on A', async () => {
    const [a, b] = replicas;
    const task = await ask(a, 'Ship it?');
    const seenOnB = await read(b, task.taskId);
    expect(seenOnB.task?.inputRequest?.message).to.equal('Ship it?');
    const answered = await call(b.client.provideInput, b.client, {
      taskId: task.taskId,
      userId: USER,
      inputRequestId: task.inputRequest!.id,
      responseJson: '{"answer":"yes"}',
    });
    expect(answered.task?.status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
    await eventually(async () => (await read(a, task.taskId)).task?.status === TaskStatus.TASK_STATUS_COMPLETED, {
      timeoutMs: 5000,
      what: 'the tool on A resumed and finished',
    });
    expect((await read(b, task.taskId)).text).to.equal('answer: yes');
    // The run was A's: only A logged the tool's end.
    expect(b.lines.some((l) => l.taskId === task.taskId && l.tool !== undefined)).to.equal(false);
  });

  it('fails a waiting task WORKER_LOST when its replica dies, once, and refuses the answer afterwards', async () => {
    const [a, b] = replicas;
    const task = await ask(a, 'Still there?');
    a.child.kill('SIGKILL');
    await eventually(async () => (await read(b, task.taskId)).task?.status === TaskStatus.TASK_STATUS_FAILED, {
      timeoutMs: (LEASE_S + SWEEP_S + 3) * 1000,
      what: 'the sweep ended the task of the dead replica',
    });
    const { task: ended } = await read(b, task.taskId);
    expect(ended?.failureReason).to.equal(FailureReason.FAILURE_REASON_WORKER_LOST);
    expect(ended?.inputRequest).to.equal(undefined);
    const version = ended!.updatedAt!.getTime();
    await new Promise((resolve) => setTimeout(resolve, 3 * SWEEP_S * 1000));
    expect((await read(b, task.taskId)).task!.updatedAt!.getTime(), 'no second transition').to.equal(version);
    const refused = await call(b.client.provideInput, b.client, {
      taskId: task.taskId,
      userId: USER,
      inputRequestId: task.inputRequest!.id,
      responseJson: '{"answer":"late"}',
    }).catch((err: { code: number }) => err);
    expect((refused as { code: number }).code).to.equal(status.FAILED_PRECONDITION);
  });
});
