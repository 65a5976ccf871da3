import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { DeliveryState, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import type { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { TRUNCATION_MARKER } from '../../src/redirect/format.js';
import { eventually } from '../helpers/core.js';
import { deliverySettled, Receiver } from '../helpers/receiver.js';
import { call, expectCode, startTestServer, type TestServer } from '../helpers/server.js';

describe('Output redirect to a webhook', () => {
  const receiver = new Receiver();
  let server: TestServer;
  let client: TaskServiceClient;
  const exec = {
    toolName: 'sleep',
    argumentsJson: '{"seconds":0.3}',
    userId: 'u',
    channelId: '',
    platform: '',
    requestId: '',
    timeoutSeconds: 0.01,
  };

  before(async () => {
    const base = await receiver.start();
    server = await startTestServer({
      TASKSERVICE_PLATFORMS: JSON.stringify({
        chat: { url: `${base}/hooks/{channel_id}`, max_chars: 200, headers: { 'x-token': 't0ken' } },
      }),
      TASKSERVICE_REDIRECT_BACKOFF_SECONDS: '0.05',
    });
    client = server.client;
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });
  beforeEach(() => receiver.reset());

  const delivery = async (taskId: string) =>
    (await call(client.getResult, client, { taskId, userId: '' })).task!.redirect!;
  const settledDelivery = async (taskId: string) => {
    await eventually(async () => deliverySettled(await delivery(taskId)));
    return delivery(taskId);
  };

  it('delivers the question of a task waiting for input once, then its result, each with its kind', async () => {
    const asked = await call(client.execute, client, {
      ...exec,
      toolName: 'ask',
      argumentsJson: '{"question":"Approve the refund?"}',
      timeoutSeconds: 10,
      redirect: { channelId: 'support', platform: 'chat', maxChars: 0 },
    });
    const task = asked.task!;
    expect(task.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    await eventually(() => receiver.received.length === 1);
    const question = receiver.received[0]!;
    expect(question.url).to.equal('/hooks/support');
    expect(question.body).to.include({
      kind: 'question',
      task_id: task.taskId,
      status: 'input_required',
      input_request_id: task.inputRequest!.id,
    });
    expect(question.body.text).to.contain('Approve the refund?').and.contain(task.inputRequest!.id);
    // The result's delivery has not begun: the question is a message of its own.
    expect((await delivery(task.taskId)).deliveryState).to.equal(DeliveryState.DELIVERY_STATE_PENDING);
    await call(client.provideInput, client, {
      taskId: task.taskId,
      userId: 'u',
      inputRequestId: task.inputRequest!.id,
      responseJson: '{"answer":"yes"}',
    });
    const settled = await settledDelivery(task.taskId);
    expect(settled.deliveryState).to.equal(DeliveryState.DELIVERY_STATE_DELIVERED);
    expect(receiver.received).to.have.length(2);
    expect(receiver.received[1]!.body).to.include({ kind: 'result', status: 'completed' });
    expect(receiver.received[1]!.body.text).to.contain('answer: yes');
  });

  it('delivers a finished task once to the channel set with SetOutputRedirect, and shows it as delivered', async () => {
    const { task } = await call(client.execute, client, exec);
    const set = await call(client.setOutputRedirect, client, {
      taskId: task!.taskId,
      userId: 'u',
      channelId: 'room/1#é',
      platform: 'chat',
      maxChars: 0,
    });
    expect(set.task!.redirect!.deliveryState).to.equal(DeliveryState.DELIVERY_STATE_PENDING);
    const redirect = await settledDelivery(task!.taskId);
    expect(redirect).to.include({ deliveryState: DeliveryState.DELIVERY_STATE_DELIVERED, attempts: 1, lastError: '' });
    expect(redirect.deliveredAt).to.be.instanceOf(Date);
    expect(receiver.received).to.have.length(1);
    const [got] = receiver.received;
    expect(got.url).to.equal('/hooks/room%2F1%23%C3%A9');
    expect(got.headers['x-token']).to.equal('t0ken');
    expect(got.body).to.include({
      platform: 'chat',
      channel_id: 'room/1#é',
      task_id: task!.taskId,
      status: 'completed',
      truncated: false,
    });
    expect(got.body.text).to.equal(`[sleep] task ${task!.taskId} completed:\nslept 0.3 s`);
  });

  it('takes the redirect on Execute, and truncates to max_chars with a marker', async () => {
    const { task } = await call(client.execute, client, {
      ...exec,
      toolName: 'echo',
      argumentsJson: JSON.stringify({ text: '字'.repeat(500) }),
      requestId: 'stored-echo', // stored, so the redirect has a task to follow
      redirect: { channelId: 'c2', platform: 'chat', maxChars: 50 },
    });
    await settledDelivery(task!.taskId);
    const text = receiver.received[0].body.text as string;
    expect([...text].length).to.equal(50);
    expect(text.endsWith(TRUNCATION_MARKER)).to.equal(true);
    expect(receiver.received[0].body.truncated).to.equal(true);
  });

  it('delivers at once when the task had already finished', async () => {
    const { task } = await call(client.execute, client, { ...exec, argumentsJson: '{"seconds":0.05}' });
    await eventually(
      async () =>
        (await call(client.getResult, client, { taskId: task!.taskId, userId: '' })).task!.status ===
        TaskStatus.TASK_STATUS_COMPLETED,
    );
    await call(client.setOutputRedirect, client, {
      taskId: task!.taskId,
      userId: '',
      channelId: 'late',
      platform: 'chat',
      maxChars: 0,
    });
    expect((await settledDelivery(task!.taskId)).deliveryState).to.equal(DeliveryState.DELIVERY_STATE_DELIVERED);
    expect(receiver.received.map((r) => r.body.channel_id)).to.deep.equal(['late']);
  });

  it('retries a failing receiver and records the attempts', async () => {
    receiver.statuses = [500, 503];
    const { task } = await call(client.execute, client, {
      ...exec,
      redirect: { channelId: 'c3', platform: 'chat', maxChars: 0 },
    });
    const redirect = await settledDelivery(task!.taskId);
    expect(redirect).to.include({ deliveryState: DeliveryState.DELIVERY_STATE_DELIVERED, attempts: 3 });
    expect(receiver.received).to.have.length(3);
  });

  it("gives up on a 4xx without retrying, and leaves the task's own result alone", async () => {
    receiver.statuses = [404];
    const { task } = await call(client.execute, client, {
      ...exec,
      redirect: { channelId: 'c4', platform: 'chat', maxChars: 0 },
    });
    const redirect = await settledDelivery(task!.taskId);
    expect(redirect).to.include({ deliveryState: DeliveryState.DELIVERY_STATE_FAILED, attempts: 1 });
    expect(redirect.lastError).to.contain('HTTP 404');
    const after = await call(client.getResult, client, { taskId: task!.taskId, userId: '' });
    expect(after.task!.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
    expect(after.text).to.equal('slept 0.3 s');
  });

  it('refuses to change the target after delivery, but accepts the same target again', async () => {
    const { task } = await call(client.execute, client, {
      ...exec,
      redirect: { channelId: 'c5', platform: 'chat', maxChars: 0 },
    });
    await settledDelivery(task!.taskId);
    const same = { taskId: task!.taskId, userId: 'u', channelId: 'c5', platform: 'chat', maxChars: 0 };
    expect((await call(client.setOutputRedirect, client, same)).task!.redirect!.channelId).to.equal('c5');
    const err = await expectCode(
      call(client.setOutputRedirect, client, { ...same, channelId: 'elsewhere' }),
      status.FAILED_PRECONDITION,
    );
    expect(err.details).to.contain('already delivered');
    expect(receiver.received).to.have.length(1);
  });

  it('lets the model redirect with the redirect_task meta-tool', async () => {
    const { task } = await call(client.execute, client, exec);
    const res = await call(client.execute, client, {
      ...exec,
      toolName: 'redirect_task',
      argumentsJson: JSON.stringify({ task_id: task!.taskId, channel_id: 'from-model', platform: 'chat' }),
    });
    expect(JSON.parse(res.text).message).to.contain('from-model');
    await settledDelivery(task!.taskId);
    expect(receiver.received.map((r) => r.body.channel_id)).to.deep.equal(['from-model']);
  });
});
