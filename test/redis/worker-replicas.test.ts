import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { type AwaitResultResponse, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { eventually } from '../helpers/core.js';
import { RawWorker } from '../helpers/raw-worker.js';
import { RedisServer } from '../helpers/redis.js';
import { RedisCluster } from '../helpers/redis-cluster.js';
import { call, expectCode, startTestServer, type TestServer } from '../helpers/server.js';

const TOOL = {
  name: 'far_tool',
  description: 'answered by a worker on the other replica',
  parametersJsonSchema: '{"type":"object","properties":{"n":{"type":"integer"}},"additionalProperties":false}',
  noBackground: false,
  concurrency: 0,
};
const exec = { userId: 'u', channelId: '', platform: '', requestId: '', toolName: 'far_tool' };

const NO_STORE = {
  REDIS_URL: '',
  TASKSERVICE_REDIS_CLUSTER_NODES: '',
  TASKSERVICE_REDIS_SENTINELS: '',
  TASKSERVICE_REDIS_SENTINEL_MASTER: '',
};

/** Where the two replicas keep their state: one redis-server, or a 3-master Cluster (MULTI and MGET in one slot). */
const BACKENDS = {
  redis: async () => {
    const redis = await RedisServer.start();
    return {
      env: (tag: string) => ({ REDIS_URL: redis.url, TASKSERVICE_REDIS_PREFIX: `${tag}:` }),
      stop: () => redis.stop(),
    };
  },
  cluster: async () => {
    const cluster = await RedisCluster.start();
    return {
      env: (tag: string) => ({
        TASKSERVICE_REDIS_CLUSTER_NODES: cluster.addresses,
        TASKSERVICE_REDIS_PREFIX: `{${tag}}:`,
      }),
      stop: () => cluster.stop(),
    };
  },
};

for (const [backend, startBackend] of Object.entries(BACKENDS)) {
  /** A worker connected to replica B serves calls made on replica A. */
  describe(`workers across replicas (${backend})`, () => {
    let redis: Awaited<ReturnType<typeof startBackend>>;
    let a: TestServer;
    let b: TestServer;
    let worker: RawWorker;

    before(async function () {
      this.timeout(30_000);
      redis = await startBackend();
    });
    after(() => redis.stop());

    beforeEach(async () => {
      // This suite brings its own Redis: clear whatever TEST_STORE chose.
      const env = {
        ...NO_STORE,
        ...redis.env(`w${randomBytes(3).toString('hex')}`),
        TASKSERVICE_LEASE_TTL_SECONDS: '1',
      };
      a = await startTestServer({ ...env, TASKSERVICE_INSTANCE_ID: 'replica-a' });
      b = await startTestServer({ ...env, TASKSERVICE_INSTANCE_ID: 'replica-b' });
      worker = new RawWorker(b.address);
      worker.register({ workerName: 'on-b', tools: [TOOL] });
      await worker.next('registered');
      await eventually(async () => {
        const { tools } = await call(a.client.listTools, a.client, {});
        return tools.find((t) => t.name === 'far_tool')?.workers === 1;
      });
    });
    afterEach(async () => {
      worker?.close();
      await Promise.all([a?.close(), b?.close()]);
    });

    it("lists the other replica's worker tool, validates on the calling replica, and answers inline", async () => {
      const { tools } = await call(a.client.listTools, a.client, {});
      expect(tools.find((t) => t.name === 'far_tool')).to.include({
        source: 'worker',
        workers: 1,
        description: TOOL.description,
      });
      const bad = await expectCode(
        call(a.client.execute, a.client, { ...exec, argumentsJson: '{"n":"x"}' }),
        status.INVALID_ARGUMENT,
      );
      expect(bad.details).to.contain('n');
      const execution = call(a.client.execute, a.client, { ...exec, argumentsJson: '{"n":2}' });
      const invocation = await worker.next('invocation');
      expect(invocation).to.include({ toolName: 'far_tool', argumentsJson: '{"n":2}' });
      worker.result(invocation.taskId, 'two, from B');
      const response = await execution;
      expect(response).to.include({ backgrounded: false, text: 'two, from B' });
      expect(response.task?.taskId).to.equal(invocation.taskId);
    });

    it("backgrounds a long call; A's AwaitResult sees the worker's progress and result", async () => {
      const response = await call(a.client.execute, a.client, { ...exec, argumentsJson: '{}', timeoutSeconds: 0.2 });
      expect(response.backgrounded).to.equal(true);
      const taskId = response.task!.taskId;
      const updates: AwaitResultResponse[] = [];
      const watching = (async () => {
        for await (const m of a.client.awaitResult({ taskId, userId: 'u' }, { deadline: Date.now() + 10_000 }))
          updates.push(m);
      })();
      await worker.next('invocation');
      await eventually(() => updates.length > 0);
      worker.send({ message: { $case: 'progress', value: { taskId, fraction: 0.5, message: 'half way' } } });
      await eventually(() => updates.some((u) => u.kind === UpdateKind.UPDATE_KIND_PROGRESS));
      worker.result(taskId, 'finished on B');
      await watching;
      expect(updates.find((u) => u.kind === UpdateKind.UPDATE_KIND_PROGRESS)!.task!.progress).to.include({
        fraction: 0.5,
        message: 'half way',
      });
      expect(updates.at(-1)).to.deep.include({ kind: UpdateKind.UPDATE_KIND_TERMINAL, text: 'finished on B' });
    });

    it('passes a cancel made on A to the worker on B', async () => {
      const response = await call(a.client.execute, a.client, { ...exec, argumentsJson: '{}', timeoutSeconds: 0.2 });
      const taskId = response.task!.taskId;
      await worker.next('invocation');
      await call(a.client.cancelTask, a.client, { taskId, userId: 'u' });
      const cancellation = await worker.next('cancellation');
      expect(cancellation).to.deep.include({ taskId, reason: FailureReason.FAILURE_REASON_CANCELLED });
    });

    it('fails a handed-off task WORKER_LOST when its worker on B disconnects', async () => {
      const response = await call(a.client.execute, a.client, { ...exec, argumentsJson: '{}', timeoutSeconds: 0.2 });
      const taskId = response.task!.taskId;
      await worker.next('invocation');
      worker.close();
      await eventually(async () => {
        const { task } = await call(a.client.getResult, a.client, { taskId, userId: 'u' });
        return task?.status === TaskStatus.TASK_STATUS_FAILED;
      });
      const { task } = await call(a.client.getResult, a.client, { taskId, userId: 'u' });
      expect(task).to.deep.include({ failureReason: FailureReason.FAILURE_REASON_WORKER_LOST });
    });

    it('answers UNAVAILABLE on A once the only worker, on B, is gone', async () => {
      worker.close();
      await eventually(async () => {
        const { tools } = await call(a.client.listTools, a.client, {});
        return tools.find((t) => t.name === 'far_tool')?.workers === 0;
      });
      const err = await expectCode(
        call(a.client.execute, a.client, { ...exec, argumentsJson: '{}' }),
        status.UNAVAILABLE,
      );
      expect(err.details).to.contain('"far_tool"');
    });
  });
}
