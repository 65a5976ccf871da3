import { expect } from 'chai';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { type AwaitResultResponse, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { eventually } from '../helpers/core.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';
import { type WorkerLanguage, WorkerProcess } from '../helpers/worker-process.js';

const exec = { userId: 'u', channelId: 'c', platform: '', requestId: '' };

/**
 * The worker libraries as real processes (test/fixtures/workers) serving
 * tools that this suite calls through Execute, over real gRPC.
 */
for (const language of ['python', 'python-async', 'go'] as WorkerLanguage[]) {
  describe(`a ${language} tool worker`, function () {
    this.timeout(30_000);
    const prefix = language.replace('-', '_');
    let server: TestServer;
    const workers: WorkerProcess[] = [];
    const startWorker = async (name: string, concurrency = 1) => {
      const worker = await WorkerProcess.start(language, { address: server.address, name, prefix, concurrency });
      workers.push(worker);
      return worker;
    };
    const execute = (tool: string, args: object, timeoutSeconds = 5) =>
      call(server.client.execute, server.client, {
        ...exec,
        toolName: `${prefix}_${tool}`,
        argumentsJson: JSON.stringify(args),
        timeoutSeconds,
      });
    const getTask = async (taskId: string) =>
      (await call(server.client.getResult, server.client, { taskId, userId: 'u' })).task!;

    beforeEach(async () => {
      // Short keepalive, so a frozen worker is noticed within the test.
      server = await startTestServer({
        TASKSERVICE_WORKER_PING_SECONDS: '0.25',
        TASKSERVICE_WORKER_TIMEOUT_SECONDS: '2',
      });
    });
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.kill()));
      await server.close();
    });

    it('answers inline through Execute, and ListTools shows the tool as a worker tool', async () => {
      await startWorker('w1');
      const response = await execute('echo', { text: 'hello' });
      expect(response.backgrounded).to.equal(false);
      expect(JSON.parse(response.text)).to.deep.equal({ text: 'hello', worker: 'w1' });
      const { tools } = await call(server.client.listTools, server.client, {});
      expect(tools.find((t) => t.name === `${prefix}_echo`)).to.include({ source: 'worker', workers: 1 });
      const schema = JSON.parse(tools.find((t) => t.name === `${prefix}_sleep`)!.parametersJsonSchema);
      expect(schema.required).to.deep.equal(['seconds']);
    });

    it("backgrounds a long call; AwaitResult streams the worker's progress, then its result", async () => {
      await startWorker('w1');
      const response = await execute('sleep', { seconds: 1, steps: 4 }, 0.2);
      expect(response.backgrounded).to.equal(true);
      const updates: AwaitResultResponse[] = [];
      for await (const m of server.client.awaitResult(
        { taskId: response.task!.taskId, userId: 'u' },
        { deadline: Date.now() + 15_000 },
      )) {
        updates.push(m);
      }
      const progress = updates
        .filter((u) => u.kind === UpdateKind.UPDATE_KIND_PROGRESS)
        .map((u) => u.task!.progress!.message);
      expect(progress.length).to.be.greaterThan(0);
      for (const message of progress) expect(message).to.match(/^step [1-4]\/4$/);
      const last = updates.at(-1)!;
      expect(last.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
      expect(JSON.parse(last.text)).to.deep.equal({ slept: 1, worker: 'w1' });
    });

    it("reports a tool error as FAILED / TOOL_ERROR with the worker's message", async () => {
      await startWorker('w1');
      const response = await execute('fail', { message: 'boom' });
      expect(response.task).to.deep.include({
        status: TaskStatus.TASK_STATUS_FAILED,
        failureReason: FailureReason.FAILURE_REASON_TOOL_ERROR,
      });
      expect(response.task!.error).to.contain('fixture failure: boom');
    });

    it('passes a cancel to the worker, which stops the tool', async () => {
      const worker = await startWorker('w1');
      const response = await execute('sleep', { seconds: 30 }, 0.2);
      const taskId = response.task!.taskId;
      await worker.line(new RegExp(`^INVOKED ${prefix}_sleep ${taskId}$`));
      await call(server.client.cancelTask, server.client, { taskId, userId: 'u' });
      const [, reason] = await worker.line(new RegExp(`^CANCELLED ${taskId} (\\S+)$`));
      expect(reason).to.match(/CANCELLED$/);
      expect((await getTask(taskId)).failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    });

    it('fails the task WORKER_LOST when the worker is killed mid-task, and does not run it again', async () => {
      const doomed = await startWorker('doomed');
      const response = await execute('sleep', { seconds: 30 }, 0.2);
      const taskId = response.task!.taskId;
      await doomed.line(new RegExp(`^INVOKED ${prefix}_sleep ${taskId}$`));
      const survivor = await startWorker('survivor');
      await doomed.kill('SIGKILL');
      await eventually(async () => (await getTask(taskId)).status === TaskStatus.TASK_STATUS_FAILED, 10_000);
      const task = await getTask(taskId);
      expect(task.failureReason).to.equal(FailureReason.FAILURE_REASON_WORKER_LOST);
      expect(task.error).to.contain('"doomed"');
      expect(survivor.count(/^INVOKED /)).to.equal(0);
    });

    it('fails the task WORKER_LOST when the worker freezes (SIGSTOP) and stops answering keepalives', async () => {
      const frozen = await startWorker('frozen');
      const response = await execute('sleep', { seconds: 30 }, 0.2);
      const taskId = response.task!.taskId;
      await frozen.line(new RegExp(`^INVOKED ${prefix}_sleep ${taskId}$`));
      frozen.child.kill('SIGSTOP');
      try {
        await eventually(async () => (await getTask(taskId)).status === TaskStatus.TASK_STATUS_FAILED, 10_000);
      } finally {
        frozen.child.kill('SIGCONT');
      }
      const task = await getTask(taskId);
      expect(task.failureReason).to.equal(FailureReason.FAILURE_REASON_WORKER_LOST);
      expect(task.error).to.contain('keepalive');
    });

    it('shares calls between two workers, one at a time on each', async () => {
      const a = await startWorker('a', 1);
      const b = await startWorker('b', 1);
      const results = await Promise.all([0, 1, 2, 3].map(() => execute('sleep', { seconds: 0.3, steps: 1 }, 10)));
      const byWorker = results.map((r) => JSON.parse(r.text).worker).sort();
      expect(byWorker).to.deep.equal(['a', 'a', 'b', 'b']);
      expect(a.count(/^INVOKED /)).to.equal(2);
      expect(b.count(/^INVOKED /)).to.equal(2);
      const { tools } = await call(server.client.listTools, server.client, {});
      expect(tools.find((t) => t.name === `${prefix}_sleep`)).to.include({ workers: 2 });
    });

    it('runs a no_background tool inline even past a short budget', async () => {
      await startWorker('w1');
      const response = await execute('exclusive', {}, 0.001);
      expect(response).to.include({ backgrounded: false, text: 'exclusive done' });
    });
  });
}
