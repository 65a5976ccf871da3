import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { healthStatus } from '../helpers/health.js';
import { RawWorker } from '../helpers/raw-worker.js';
import { expectCode, startTestServer, type TestServer } from '../helpers/server.js';

const ALICE_ONLY = `alice-${randomBytes(12).toString('hex')}`;
const ANY_USER = `ops-${randomBytes(12).toString('hex')}`;
const TOKENS = JSON.stringify({
  'alice-svc': { token: ALICE_ONLY, users: ['alice'] },
  ops: { token: ANY_USER, users: '*' },
});

const bearer = (token: string) => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};

type Method<Req, Res> = (req: Req, md: Metadata, opts: object, cb: (err: unknown, res: Res) => void) => unknown;
function as<Req, Res>(
  client: TaskServiceClient,
  method: Method<Req, Res>,
  token: string | undefined,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const md = token === undefined ? new Metadata() : bearer(token);
    method.call(client, req, md, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const exec = (userId: string) => ({
  toolName: 'sleep',
  argumentsJson: '{"seconds":30}',
  userId,
  channelId: '',
  platform: '',
  requestId: '',
  timeoutSeconds: 0.05,
});

describe('authentication (bearer tokens)', () => {
  let server: TestServer;
  let c: TaskServiceClient;
  let alicesTask: string;
  let bobsTask: string;

  before(async () => {
    server = await startTestServer({
      TASKSERVICE_AUTH_TOKENS: TOKENS,
      // A real platform, so SetOutputRedirect gets as far as the ownership check.
      TASKSERVICE_PLATFORMS: '{"hook":{"kind":"webhook","url":"http://127.0.0.1:9/"}}',
    });
    c = server.client;
    alicesTask = (await as(c, c.execute, ALICE_ONLY, exec('alice'))).task!.taskId;
    bobsTask = (await as(c, c.execute, ANY_USER, exec('bob'))).task!.taskId;
  });
  after(() => server.close());

  it('refuses every RPC without a token, or with a wrong or malformed one, with UNAUTHENTICATED', async () => {
    for (const [token, says] of [
      [undefined, 'missing credentials'],
      ['x'.repeat(32), 'not valid'],
      [`${ANY_USER}x`, 'not valid'],
    ] as const) {
      const err = await expectCode(as(c, c.listTools, token, {}), status.UNAUTHENTICATED);
      expect(err.details).to.contain(says);
      await expectCode(as(c, c.getResult, token, { taskId: alicesTask, userId: '' }), status.UNAUTHENTICATED);
    }
    const basic = new Metadata();
    basic.set('authorization', `Basic ${ANY_USER}`);
    const err = await expectCode(
      new Promise((resolve, reject) => c.listTools({}, basic, (e, r) => (e ? reject(e) : resolve(r)))),
      status.UNAUTHENTICATED,
    );
    expect(err.details).to.contain('Bearer <token>');
  });

  it('refuses an AwaitResult stream and a worker stream without a token', async () => {
    const stream = c.awaitResult({ taskId: alicesTask, userId: '' });
    const code = await new Promise<number>((resolve) => {
      stream.on('error', (e: { code: number }) => resolve(e.code));
      stream.on('data', () => resolve(-1));
    });
    expect(code).to.equal(status.UNAUTHENTICATED);
    const worker = new RawWorker(server.address);
    worker.register({
      tools: [{ name: 'x_tool', description: '', parametersJsonSchema: '', noBackground: false, concurrency: 0 }],
    });
    expect((await worker.ended)?.code).to.equal(status.UNAUTHENTICATED);
    worker.close();
  });

  it('keeps health open for load balancers', async () => {
    expect(await healthStatus(server.address)).to.equal('SERVING');
  });

  it('requires a token for reflection too (grpcurl)', async () => {
    const run = (args: string[]) => promisify(execFile)('grpcurl', ['-plaintext', ...args, server.address, 'list']);
    const refused = await run([]).catch((e: { stderr: string }) => e);
    expect((refused as { stderr: string }).stderr).to.contain('Unauthenticated');
    const { stdout } = await run(['-H', `authorization: Bearer ${ANY_USER}`]);
    expect(stdout).to.contain('taskmanager.v1.TaskService');
  });

  it('opens reflection without a token when TASKSERVICE_REFLECTION_NEEDS_TOKEN=false, and nothing else', async () => {
    const open = await startTestServer({
      TASKSERVICE_AUTH_TOKENS: TOKENS,
      TASKSERVICE_REFLECTION_NEEDS_TOKEN: 'false',
    });
    try {
      const { stdout } = await promisify(execFile)('grpcurl', ['-plaintext', open.address, 'list']);
      expect(stdout).to.contain('taskmanager.v1.TaskService');
      await expectCode(as(open.client, open.client.listTools, undefined, {}), status.UNAUTHENTICATED);
    } finally {
      await open.close();
    }
  });

  it('lets a token limited to alice act for alice only: PERMISSION_DENIED to execute for bob', async () => {
    const err = await expectCode(as(c, c.execute, ALICE_ONLY, exec('bob')), status.PERMISSION_DENIED);
    expect(err.details).to.contain('"alice-svc"').and.contain('"bob"').and.not.contain(ALICE_ONLY);
    await expectCode(as(c, c.execute, ALICE_ONLY, exec('')), status.PERMISSION_DENIED);
  });

  it("answers another user's task exactly as a random id through every RPC", async () => {
    const random = '00000000-0000-4000-8000-000000000000';
    const probe = async (taskId: string) => {
      const outcomes: string[] = [];
      for (const userId of ['', 'bob', 'alice']) {
        for (const attempt of [
          as(c, c.getResult, ALICE_ONLY, { taskId, userId }),
          as(c, c.cancelTask, ALICE_ONLY, { taskId, userId }),
          as(c, c.setOutputRedirect, ALICE_ONLY, { taskId, userId, channelId: 'c', platform: 'hook', maxChars: 0 }),
        ]) {
          const e = (await attempt.catch((err: unknown) => err)) as { code: number; details: string };
          outcomes.push(`${e.code} ${e.details?.replace(taskId, '<id>')}`);
        }
        const stream = c.awaitResult({ taskId, userId }, bearer(ALICE_ONLY));
        const e = await new Promise<{ code: number; details: string }>((resolve) => {
          stream.on('error', resolve);
          stream.on('data', () => resolve({ code: -1, details: 'data' }));
        });
        outcomes.push(`${e.code} ${e.details.replace(taskId, '<id>')}`);
      }
      return outcomes;
    };
    const forBob = await probe(bobsTask);
    expect(forBob).to.deep.equal(await probe(random));
    expect(forBob).to.have.length(12);
    for (const outcome of forBob) expect(outcome).to.equal(`${status.NOT_FOUND} task <id> not found`);
  });

  it('lists only the users a token may act for', async () => {
    const own = await as(c, c.listTasks, ALICE_ONLY, {
      userId: '',
      status: 0,
      toolName: '',
      pageSize: 50,
      pageToken: '',
    });
    expect(own.tasks.map((t) => t.taskId))
      .to.include(alicesTask)
      .and.not.include(bobsTask);
    expect(own.tasks.every((t) => t.userId === 'alice')).to.equal(true);
    const bobs = await as(c, c.listTasks, ALICE_ONLY, {
      userId: 'bob',
      status: 0,
      toolName: '',
      pageSize: 50,
      pageToken: '',
    });
    expect(bobs.tasks).to.have.length(0);
    const all = await as(c, c.listTasks, ANY_USER, {
      userId: '',
      status: 0,
      toolName: '',
      pageSize: 50,
      pageToken: '',
    });
    expect(all.tasks.map((t) => t.taskId)).to.include.members([alicesTask, bobsTask]);
  });

  it("lets the limited token see, await and cancel its own user's task", async () => {
    const { task } = await as(c, c.getResult, ALICE_ONLY, { taskId: alicesTask, userId: '' });
    expect(task?.userId).to.equal('alice');
    const stream = c.awaitResult({ taskId: alicesTask, userId: '', timeoutSeconds: 5 }, bearer(ALICE_ONLY));
    const first = await new Promise<{ task?: { taskId: string } }>((resolve, reject) => {
      stream.on('data', resolve);
      stream.on('error', reject);
    });
    expect(first.task?.taskId).to.equal(alicesTask);
    stream.cancel();
    const cancelled = await as(c, c.cancelTask, ALICE_ONLY, { taskId: alicesTask, userId: '' });
    expect(cancelled.task?.userId).to.equal('alice');
    await as(c, c.cancelTask, ANY_USER, { taskId: bobsTask, userId: '' });
  });
});
