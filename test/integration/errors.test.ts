import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { call, expectCode, startTestServer, type TestServer } from '../helpers/server.js';

/** Every error the API promises, with its code and a message that says what to fix. */
describe('TaskService error codes', () => {
  let server: TestServer;
  let client: TaskServiceClient;
  let aliceTask: string;
  const missing = '00000000-0000-4000-8000-000000000000';
  const exec = { toolName: '', argumentsJson: '', userId: '', channelId: '', platform: '', requestId: '' };

  before(async () => {
    server = await startTestServer({ TASKSERVICE_PLATFORMS: '{"chat": {"url": "http://127.0.0.1:9/hook"}}' });
    client = server.client;
    const res = await call(client.execute, client, {
      ...exec,
      toolName: 'sleep',
      argumentsJson: '{"seconds":30}',
      timeoutSeconds: 0.01,
      userId: 'alice',
    });
    aliceTask = res.task!.taskId;
  });
  after(() => server.close());

  const cases: [string, () => Promise<unknown>, number, RegExp][] = [
    [
      'Execute of an unknown tool',
      () => call(client.execute, client, { ...exec, toolName: 'nope' }),
      status.NOT_FOUND,
      /unknown tool "nope"; known tools: ask, cancel_task, check_task, echo/,
    ],
    [
      'Execute without a tool name',
      () => call(client.execute, client, exec),
      status.INVALID_ARGUMENT,
      /tool_name: is required/,
    ],
    [
      'Execute with arguments that are not an object',
      () => call(client.execute, client, { ...exec, toolName: 'echo', argumentsJson: '"hi"' }),
      status.INVALID_ARGUMENT,
      /arguments_json: must be a JSON object/,
    ],
    [
      'Execute with arguments failing the schema',
      () => call(client.execute, client, { ...exec, toolName: 'sleep', argumentsJson: '{"seconds":"x"}' }),
      status.INVALID_ARGUMENT,
      /field "seconds" must be number/,
    ],
    [
      'Execute with a negative budget',
      () =>
        call(client.execute, client, { ...exec, toolName: 'echo', argumentsJson: '{"text":"x"}', timeoutSeconds: -1 }),
      status.INVALID_ARGUMENT,
      /timeout_seconds/,
    ],
    [
      'Execute with a user id holding key syntax',
      () => call(client.execute, client, { ...exec, toolName: 'echo', argumentsJson: '{"text":"x"}', userId: 'a:b' }),
      status.INVALID_ARGUMENT,
      /user_id: must be/,
    ],
    [
      'Execute with a redirect to an unknown platform',
      () =>
        call(client.execute, client, {
          ...exec,
          toolName: 'echo',
          argumentsJson: '{"text":"x"}',
          redirect: { channelId: 'c', platform: 'irc', maxChars: 0 },
        }),
      status.INVALID_ARGUMENT,
      /"irc" is not configured; configured platforms: chat/,
    ],
    [
      'GetResult of a malformed id',
      () => call(client.getResult, client, { taskId: 'bad id!', userId: '' }),
      status.INVALID_ARGUMENT,
      /task_id: must be/,
    ],
    [
      'GetResult of an unknown id',
      () => call(client.getResult, client, { taskId: missing, userId: '' }),
      status.NOT_FOUND,
      /not found/,
    ],
    [
      "GetResult of another user's task",
      () => call(client.getResult, client, { taskId: aliceTask, userId: 'bob' }),
      status.NOT_FOUND,
      /not found/,
    ],
    [
      "CancelTask of another user's task",
      () => call(client.cancelTask, client, { taskId: aliceTask, userId: 'bob' }),
      status.NOT_FOUND,
      /not found/,
    ],
    [
      "SetOutputRedirect of another user's task",
      () =>
        call(client.setOutputRedirect, client, {
          taskId: aliceTask,
          userId: 'bob',
          channelId: 'c',
          platform: 'chat',
          maxChars: 0,
        }),
      status.NOT_FOUND,
      /not found/,
    ],
    [
      'SetOutputRedirect to an unknown platform',
      () =>
        call(client.setOutputRedirect, client, {
          taskId: aliceTask,
          userId: 'alice',
          channelId: 'c',
          platform: 'irc',
          maxChars: 0,
        }),
      status.INVALID_ARGUMENT,
      /configured platforms: chat/,
    ],
    [
      'SetOutputRedirect without a channel',
      () =>
        call(client.setOutputRedirect, client, {
          taskId: aliceTask,
          userId: 'alice',
          channelId: '',
          platform: 'chat',
          maxChars: 0,
        }),
      status.INVALID_ARGUMENT,
      /channel_id: is required/,
    ],
    [
      'SetOutputRedirect with negative max_chars',
      () =>
        call(client.setOutputRedirect, client, {
          taskId: aliceTask,
          userId: 'alice',
          channelId: 'c',
          platform: 'chat',
          maxChars: -5,
        }),
      status.INVALID_ARGUMENT,
      /max_chars/,
    ],
    [
      'ListTasks with a forged page token',
      () => call(client.listTasks, client, { userId: '', status: 0, toolName: '', pageSize: 0, pageToken: 'forged' }),
      status.INVALID_ARGUMENT,
      /page_token/,
    ],
    [
      'ListTasks with a negative page size',
      () => call(client.listTasks, client, { userId: '', status: 0, toolName: '', pageSize: -1, pageToken: '' }),
      status.INVALID_ARGUMENT,
      /page_size/,
    ],
    [
      'ListTasks with an unknown status value',
      () => call(client.listTasks, client, { userId: '', status: 42, toolName: '', pageSize: 0, pageToken: '' }),
      status.INVALID_ARGUMENT,
      /status: unknown status 42/,
    ],
  ];

  for (const [name, run, code, message] of cases) {
    it(`${name}: ${status[code]}`, async () => {
      const err = await expectCode(run(), code);
      expect(err.details).to.match(message);
    });
  }

  it("AwaitResult of another user's task ends the stream with NOT_FOUND", async () => {
    const stream = client.awaitResult({ taskId: aliceTask, userId: 'bob' }, { deadline: Date.now() + 5000 });
    const err = await expectCode(
      (async () => {
        for await (const _ of stream) {
          /* none expected */
        }
      })(),
      status.NOT_FOUND,
    );
    expect(err.details).to.equal(`task ${aliceTask} not found`);
  });

  it('CancelTask of a completed task is FAILED_PRECONDITION', async () => {
    const done = await call(client.execute, client, {
      ...exec,
      toolName: 'echo',
      argumentsJson: '{"text":"x"}',
      requestId: 'stored-1',
    });
    const err = await expectCode(
      call(client.cancelTask, client, { taskId: done.task!.taskId, userId: '' }),
      status.FAILED_PRECONDITION,
    );
    expect(err.details).to.contain('already completed');
  });

  it('names the domain error in the error-reason trailer', async () => {
    const err = await expectCode(call(client.getResult, client, { taskId: missing, userId: '' }), status.NOT_FOUND);
    expect(err.metadata.get('error-reason')).to.deep.equal(['TaskNotFound']);
  });

  it('keeps serving after all of the above', async () => {
    const res = await call(client.execute, client, {
      ...exec,
      toolName: 'echo',
      argumentsJson: '{"text":"still here"}',
    });
    expect(res.text).to.equal('still here');
    expect((await call(client.getResult, client, { taskId: aliceTask, userId: 'alice' })).task?.userId).to.equal(
      'alice',
    );
  });
});
