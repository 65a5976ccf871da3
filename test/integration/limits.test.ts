import { credentials, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { eventually } from '../helpers/core.js';
import { call, expectCode, startTestServer, type TestServer } from '../helpers/server.js';

const base = { channelId: '', platform: '', requestId: '' };
const sleep = (userId: string, seconds = 30) => ({
  ...base,
  userId,
  toolName: 'sleep',
  argumentsJson: JSON.stringify({ seconds }),
  timeoutSeconds: 0.05,
});

/** Every limit has a safe default, is configurable, and answers with a status that names it. */
describe('input and capacity limits', () => {
  let server: TestServer;
  const exec = (req: object) => call(server.client.execute, server.client, req as never);
  const taskCount = async (userId: string) =>
    (
      await call(server.client.listTasks, server.client, {
        userId,
        status: 0,
        toolName: '',
        pageSize: 500,
        pageToken: '',
      })
    ).tasks.length;

  before(async () => {
    server = await startTestServer({
      TASKSERVICE_MAX_ARGUMENTS_BYTES: '2048',
      TASKSERVICE_MAX_JSON_DEPTH: '5',
      TASKSERVICE_MAX_RESULT_BYTES: '1024',
      TASKSERVICE_MAX_RUNNING_PER_USER: '2',
      TASKSERVICE_MAX_RUNNING: '4',
      TASKSERVICE_MAX_STREAMS_PER_CONNECTION: '2',
    });
  });
  after(() => server.close());

  it(
    'refuses arguments over the size limit with INVALID_ARGUMENT naming the field and the setting, ' +
      'storing nothing',
    async () => {
      const err = await expectCode(
        exec({ ...base, userId: 'big', toolName: 'echo', argumentsJson: JSON.stringify({ text: 'x'.repeat(3000) }) }),
        status.INVALID_ARGUMENT,
      );
      expect(err.details)
        .to.contain('arguments_json')
        .and.contain('limit is 2048')
        .and.contain('TASKSERVICE_MAX_ARGUMENTS_BYTES');
      expect(await taskCount('big')).to.equal(0);
    },
  );

  it('refuses arguments nested deeper than the limit', async () => {
    const deep = '{"a":{"a":{"a":{"a":{"a":{"a":1}}}}}}';
    const err = await expectCode(
      exec({ ...base, userId: 'deep', toolName: 'echo', argumentsJson: deep }),
      status.INVALID_ARGUMENT,
    );
    expect(err.details)
      .to.contain('arguments_json')
      .and.contain('deeper than 5')
      .and.contain('TASKSERVICE_MAX_JSON_DEPTH');
    // One level less passes the depth check (and then meets echo's own schema).
    const shallower = await exec({
      ...base,
      userId: 'deep',
      toolName: 'echo',
      argumentsJson: '{"text":"ok","a":{"a":{"a":{"a":1}}}}',
    }).catch((e) => e);
    expect(shallower.details ?? '').not.to.contain('deeper');
  });

  it('cuts a result over the size limit, keeping a note that says so', async () => {
    const text = 'é'.repeat(1000); // 2000 bytes of UTF-8
    const response = await exec({ ...base, userId: 'u', toolName: 'echo', argumentsJson: JSON.stringify({ text }) });
    expect(Buffer.byteLength(response.text)).to.be.at.most(1024);
    expect(response.text).to.match(/…\[truncated by TaskService: \d+ of 2000 bytes kept\]$/);
    expect(response.text.startsWith('éé')).to.equal(true);
    expect(response.text).not.to.contain('\uFFFD');
  });

  it(
    'limits running tools per user and overall with RESOURCE_EXHAUSTED naming the setting, ' +
      'and frees the slot when a tool ends',
    async () => {
      const first = await exec(sleep('alice'));
      await exec(sleep('alice'));
      const perUser = await expectCode(exec(sleep('alice')), status.RESOURCE_EXHAUSTED);
      expect(perUser.details).to.contain('"alice"').and.contain('TASKSERVICE_MAX_RUNNING_PER_USER');
      expect(await taskCount('alice')).to.equal(2);
      await exec(sleep('bob'));
      await exec(sleep('carol'));
      const overall = await expectCode(exec(sleep('dave')), status.RESOURCE_EXHAUSTED);
      expect(overall.details).to.contain('TASKSERVICE_MAX_RUNNING');
      await call(server.client.cancelTask, server.client, { taskId: first.task!.taskId, userId: 'alice' });
      await eventually(async () => (await exec(sleep('alice', 0.01)).catch(() => undefined)) !== undefined);
      // Clean up the rest.
      for (const userId of ['alice', 'bob', 'carol']) {
        const { tasks } = await call(server.client.listTasks, server.client, {
          userId,
          status: 1,
          toolName: '',
          pageSize: 50,
          pageToken: '',
        });
        for (const t of tasks) await call(server.client.cancelTask, server.client, { taskId: t.taskId, userId });
      }
    },
  );

  it('limits AwaitResult streams per connection, not per server, and counts a closed stream out', async () => {
    const running = await exec(sleep('streamer'));
    const taskId = running.task!.taskId;
    const open = (client: TaskServiceClient) => {
      const stream = client.awaitResult({ taskId, userId: 'streamer', timeoutSeconds: 30 });
      const first = new Promise<number>((resolve) => {
        stream.on('data', () => resolve(status.OK));
        stream.on('error', (e: { code: number }) => resolve(e.code));
      });
      return { stream, first };
    };
    const a = open(server.client);
    const b = open(server.client);
    expect(await a.first).to.equal(status.OK);
    expect(await b.first).to.equal(status.OK);
    const c = open(server.client);
    expect(await c.first).to.equal(status.RESOURCE_EXHAUSTED);
    const other = new TaskServiceClient(server.address, credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    });
    const d = open(other);
    expect(await d.first).to.equal(status.OK);
    a.stream.cancel();
    await eventually(() => server.app.grpc.streams.total === 2);
    const e = open(server.client);
    expect(await e.first).to.equal(status.OK);
    for (const s of [b, d, e]) s.stream.cancel();
    other.close();
    await eventually(() => server.app.grpc.streams.total === 0);
    await call(server.client.cancelTask, server.client, { taskId, userId: 'streamer' });
  });
});
