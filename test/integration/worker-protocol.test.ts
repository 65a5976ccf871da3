import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { eventually } from '../helpers/core.js';
import { activeTimers } from '../helpers/resources.js';
import { RawWorker } from '../helpers/raw-worker.js';
import { call, expectCode, startTestServer, type TestServer } from '../helpers/server.js';

const TOOL = {
  name: 'raw_tool',
  description: 'answered by the test',
  parametersJsonSchema: '{"type":"object","properties":{"n":{"type":"integer"}}}',
  noBackground: false,
  concurrency: 0,
};
const exec = { userId: 'u', channelId: '', platform: '', requestId: '', toolName: 'raw_tool' };

/** ToolWorkerService.Connect over real gRPC, spoken by the test itself. */
describe('ToolWorkerService.Connect', () => {
  let server: TestServer;
  const workers: RawWorker[] = [];
  const connect = (options?: { answerPings?: boolean }) => {
    const worker = new RawWorker(server.address, options);
    workers.push(worker);
    return worker;
  };

  beforeEach(async () => {
    server = await startTestServer({
      TASKSERVICE_WORKER_PING_SECONDS: '0.1',
      TASKSERVICE_WORKER_TIMEOUT_SECONDS: '0.5',
    });
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) worker.close();
    await server.close();
  });

  it('registers a worker, runs its tool inline, and lists it with its worker count', async () => {
    const worker = connect();
    worker.register({ workerName: 'w', tools: [TOOL] });
    const registered = await worker.next('registered');
    expect(registered.workerId).to.be.a('string').and.not.empty;
    expect(registered).to.include({ pingIntervalSeconds: 0.1, timeoutSeconds: 0.5 });
    const execution = call(server.client.execute, server.client, { ...exec, argumentsJson: '{"n":1}' });
    const invocation = await worker.next('invocation');
    expect(invocation).to.include({ toolName: 'raw_tool', argumentsJson: '{"n":1}' });
    expect(invocation.origin).to.deep.include({ userId: 'u' });
    worker.result(invocation.taskId, 'from the worker');
    const response = await execution;
    expect(response).to.include({ backgrounded: false, text: 'from the worker' });
    const { tools } = await call(server.client.listTools, server.client, {});
    expect(tools.find((t) => t.name === 'raw_tool')).to.include({ source: 'worker', workers: 1 });
  });

  it('stores the output a worker sends for an invocation, in order, before its result', async () => {
    const worker = connect();
    worker.register({ tools: [TOOL] });
    await worker.next('registered');
    const execution = call(server.client.execute, server.client, {
      ...exec,
      argumentsJson: '{}',
      timeoutSeconds: 0.05,
    });
    const invocation = await worker.next('invocation');
    const { task } = await execution;
    const pieces = ['line 1\n', 'ünïcode €\n', 'last'];
    for (const text of pieces)
      worker.send({ message: { $case: 'output', value: { taskId: invocation.taskId, text } } });
    worker.result(invocation.taskId, 'done');
    await eventually(async () => {
      const got = await call(server.client.getResult, server.client, {
        taskId: task!.taskId,
        userId: 'u',
        outputOffset: '0',
      });
      return got.task?.status === TaskStatus.TASK_STATUS_COMPLETED && got.output?.text === pieces.join('');
    });
  });

  it('refuses a stream whose first message is not the registration', async () => {
    const worker = connect();
    worker.send({ message: { $case: 'pong', value: { sequence: '1' } } });
    const err = await worker.ended;
    expect(err?.code).to.equal(status.INVALID_ARGUMENT);
    expect(err?.details).to.contain('register').and.contain('first message');
  });

  it('refuses a malformed registration with INVALID_ARGUMENT naming the field', async () => {
    const worker = connect();
    worker.register({ tools: [{ ...TOOL, name: 'Not Valid' }] });
    const err = await worker.ended;
    expect(err?.code).to.equal(status.INVALID_ARGUMENT);
    expect(err?.details).to.contain('register.tools[0].name');
  });

  it('refuses a tool that would shadow a server tool with FAILED_PRECONDITION', async () => {
    const worker = connect();
    worker.register({ tools: [{ ...TOOL, name: 'echo' }] });
    const err = await worker.ended;
    expect(err?.code).to.equal(status.FAILED_PRECONDITION);
    expect(err?.details).to.contain('"echo" already exists');
  });

  it('turns away a connection that never registers', async () => {
    const worker = connect();
    const err = await worker.ended;
    expect(err?.code).to.equal(status.INVALID_ARGUMENT);
    expect(err?.details).to.contain('within 0.5 s');
  });

  it('answers UNAVAILABLE for a worker tool with no worker connected, naming the tool', async () => {
    const worker = connect();
    worker.register({ tools: [TOOL] });
    await worker.next('registered');
    worker.close();
    await eventually(async () => {
      const { tools } = await call(server.client.listTools, server.client, {});
      return tools.find((t) => t.name === 'raw_tool')?.workers === 0;
    });
    const err = await expectCode(
      call(server.client.execute, server.client, { ...exec, argumentsJson: '{}' }),
      status.UNAVAILABLE,
    );
    expect(err.details).to.contain('"raw_tool"').and.contain('no');
  });

  it('fails the tasks of a worker that stops answering pings WORKER_LOST, and ends its stream', async () => {
    const worker = connect({ answerPings: false });
    worker.register({ tools: [TOOL] });
    await worker.next('registered');
    const started = Date.now();
    const response = await call(server.client.execute, server.client, {
      ...exec,
      argumentsJson: '{}',
      timeoutSeconds: 5,
    });
    expect(Date.now() - started).to.be.below(2000);
    expect(response.task).to.deep.include({
      status: TaskStatus.TASK_STATUS_FAILED,
      failureReason: FailureReason.FAILURE_REASON_WORKER_LOST,
    });
    expect(response.task!.error).to.contain('keepalive');
    const err = await worker.ended;
    expect(err?.code).to.equal(status.UNAVAILABLE);
  });

  it('fails a backgrounded task WORKER_LOST when its worker disconnects, and sends it to no other worker', async () => {
    const first = connect();
    first.register({ workerName: 'first', tools: [TOOL] });
    await first.next('registered');
    const response = await call(server.client.execute, server.client, {
      ...exec,
      argumentsJson: '{}',
      timeoutSeconds: 0.1,
    });
    expect(response.backgrounded).to.equal(true);
    const second = connect();
    second.register({ workerName: 'second', tools: [TOOL] });
    await second.next('registered');
    first.close();
    const taskId = response.task!.taskId;
    await eventually(async () => {
      const { task } = await call(server.client.getResult, server.client, { taskId, userId: 'u' });
      return task?.status === TaskStatus.TASK_STATUS_FAILED;
    });
    const { task } = await call(server.client.getResult, server.client, { taskId, userId: 'u' });
    expect(task).to.deep.include({ failureReason: FailureReason.FAILURE_REASON_WORKER_LOST });
    expect(task!.error).to.contain('"first"');
    expect(second.messages.filter((m) => m.message?.$case === 'invocation')).to.have.length(0);
  });

  it('sends a cancellation to the worker when the task is cancelled', async () => {
    const worker = connect();
    worker.register({ tools: [TOOL] });
    await worker.next('registered');
    const response = await call(server.client.execute, server.client, {
      ...exec,
      argumentsJson: '{}',
      timeoutSeconds: 0.1,
    });
    await call(server.client.cancelTask, server.client, { taskId: response.task!.taskId, userId: 'u' });
    const cancellation = await worker.next('cancellation');
    expect(cancellation).to.deep.include({
      taskId: response.task!.taskId,
      reason: FailureReason.FAILURE_REASON_CANCELLED,
    });
  });

  it("asks the tool's question for the worker: the task waits, and the answer goes back to the worker", async () => {
    const worker = connect();
    worker.register({ tools: [TOOL] });
    await worker.next('registered');
    const execution = call(server.client.execute, server.client, { ...exec, argumentsJson: '{}', timeoutSeconds: 10 });
    const invocation = await worker.next('invocation');
    const schemaJson = '{"type":"object","properties":{"go":{"type":"boolean"}},"required":["go"]}';
    worker.send({
      message: { $case: 'inputRequest', value: { taskId: invocation.taskId, message: 'Go?', schemaJson } },
    });
    const response = await execution;
    expect(response.backgrounded, 'backgrounded at the question').to.equal(true);
    expect(response.task?.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    expect(response.task?.inputRequest).to.include({ message: 'Go?', schemaJson });
    const before = worker.messages.length;
    await call(server.client.provideInput, server.client, {
      taskId: invocation.taskId,
      userId: 'u',
      inputRequestId: response.task!.inputRequest!.id,
      responseJson: '{"go":true}',
    });
    const input = await worker.next('input', before);
    expect(input).to.deep.equal({
      taskId: invocation.taskId,
      outcome: { $case: 'responseJson', value: '{"go":true}' },
    });
    worker.result(invocation.taskId, 'went');
    await eventually(async () => {
      const { task } = await call(server.client.getResult, server.client, { taskId: invocation.taskId, userId: 'u' });
      return task?.status === TaskStatus.TASK_STATUS_COMPLETED && task.result === 'went';
    });
  });

  it('tells the worker why a question cannot be asked, and sends a cancellation while one waits', async () => {
    const worker = connect();
    worker.register({ tools: [TOOL] });
    await worker.next('registered');
    const execution = call(server.client.execute, server.client, { ...exec, argumentsJson: '{}', timeoutSeconds: 10 });
    const { taskId } = await worker.next('invocation');
    worker.send({
      message: { $case: 'inputRequest', value: { taskId, message: 'Go?', schemaJson: '"not a schema"' } },
    });
    const refused = await worker.next('input');
    expect(refused.outcome).to.deep.equal({
      $case: 'error',
      value: 'ctx.requestInput: schema must be a JSON Schema object, like {"type": "object", "properties": {...}}',
    });
    const schemaJson = '{"type":"object"}';
    worker.send({ message: { $case: 'inputRequest', value: { taskId, message: 'Go?', schemaJson } } });
    const response = await execution;
    expect(response.task?.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    await call(server.client.cancelTask, server.client, { taskId, userId: 'u' });
    expect(await worker.next('cancellation')).to.include({ taskId, reason: FailureReason.FAILURE_REASON_CANCELLED });
    expect(worker.messages.filter((m) => m.message?.$case === 'input')).to.have.length(1);
  });

  it('releases every session, timer and in-flight call when 20 workers with running tasks go away', async () => {
    // The baseline after a first call: the test client's channel keeps a timer of its own once connected.
    await call(server.client.listTools, server.client, {});
    const timersBefore = activeTimers();
    const many = Array.from({ length: 20 }, (_, i) => {
      const worker = connect();
      worker.register({ workerName: `w${i}`, tools: [{ ...TOOL, concurrency: 1 }] });
      return worker;
    });
    await Promise.all(many.map((w) => w.next('registered')));
    expect(server.app.workers.workerCount).to.equal(20);
    const responses = await Promise.all(
      many.map(() => call(server.client.execute, server.client, { ...exec, argumentsJson: '{}', timeoutSeconds: 0.1 })),
    );
    expect(responses.every((r) => r.backgrounded)).to.equal(true);
    for (const worker of many) worker.close();
    await eventually(() => server.app.workers.workerCount === 0);
    for (const { task } of responses) {
      await eventually(async () => {
        const { task: now } = await call(server.client.getResult, server.client, { taskId: task!.taskId, userId: 'u' });
        return now?.failureReason === FailureReason.FAILURE_REASON_WORKER_LOST;
      });
    }
    expect(server.app.manager.runningHere).to.equal(0);
    await eventually(() => activeTimers() <= timersBefore);
  });
});
