import type { Client } from '@modelcontextprotocol/client';
import { fromJsonSchema } from '@modelcontextprotocol/client';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { eventually } from '../helpers/core.js';
import { envelope, mcpClient, rawDispatchFor, taskSession } from '../helpers/mcp.js';
import { RedisServer } from '../helpers/redis.js';
import { type Replica, startReplicas } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

const USER = 'mcp-multi';
const HEADERS = { 'x-taskservice-user': USER };
const BUDGET = { 'dev.taskservice/budgetSeconds': 0.1 };
const AnyObject = fromJsonSchema<Record<string, unknown>>({ type: 'object' });

/**
 * Two replicas on one Redis serve one MCP: the front door is stateless, so a
 * task made through one replica's /mcp is followed, cancelled and fetched
 * through the other's, in both protocol eras, and it is a TaskService task
 * that gRPC sees too.
 */
describe('MCP across two replicas on one Redis', () => {
  let redis: RedisServer;
  let replicas: Replica[];
  const clients: Client[] = [];
  const sessions: { close(): Promise<void> }[] = [];

  before(async function () {
    this.timeout(60_000);
    redis = await RedisServer.start();
    replicas = await startReplicas(2, {
      REDIS_URL: redis.url,
      TASKSERVICE_REDIS_PREFIX: `m${randomBytes(3).toString('hex')}:`,
      TASKSERVICE_MCP_ADDR: '127.0.0.1:0',
    });
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await Promise.all((replicas ?? []).map((r) => r.stop()));
    await redis?.stop();
  });

  const urlOf = (replica: Replica) => {
    expect(replica.mcpUrl, 'the listening line names the MCP URL').to.match(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    return replica.mcpUrl!;
  };
  const connect = async (replica: Replica, mode: 'legacy' | 'modern') => {
    const client = await mcpClient(urlOf(replica), mode, { headers: HEADERS, tasks: mode === 'modern' });
    clients.push(client);
    return client;
  };
  const sessionOn = (client: Client, replica: Replica) => {
    const session = taskSession(client, urlOf(replica), HEADERS);
    sessions.push(session);
    return session;
  };
  /** tasks/get (2026-07-28, tasks extension declared) sent to `replica` as `headers`' user, on the wire. */
  const tasksGet = (replica: Replica, taskId: string, headers = HEADERS) =>
    rawDispatchFor(urlOf(replica), headers)({ method: 'tasks/get', params: { taskId, _meta: envelope(true) } });
  /** A sleep of 30 s through `replica` under the small `_meta` budget: a task at once, for the test to follow. */
  const backgroundSleep = async (replica: Replica) => {
    const session = sessionOn(await connect(replica, 'modern'), replica);
    const started = Date.now();
    const execution = await session.callTool('sleep', { seconds: 30 }, { metadata: BUDGET });
    expect(execution.kind, 'the call outlived its budget: a task').to.equal('task');
    // Well under the server's default budget (10 s): the budget in _meta did it.
    expect(Date.now() - started).to.be.below(5000);
    const taskId = execution.handle!.taskId;
    await execution.detach(); // this session stops following it; the test does
    return { session, taskId };
  };

  it('serves /mcp on each replica, on ports of their own', () => {
    const [a, b] = replicas;
    expect(urlOf(a)).to.not.equal(urlOf(b));
  });

  it('2026-07-28: a task made on A is seen working and cancelled through B; A then reads it cancelled', async () => {
    const [a, b] = replicas;
    const { session: onA, taskId } = await backgroundSleep(a);

    // tasks/get through B, on the wire: the DetailedTask of a working task.
    const got = await tasksGet(b, taskId);
    expect(got.kind).to.equal('result');
    expect(got).to.have.nested.property('result.status', 'working');
    expect(got).to.have.nested.property('result.taskId', taskId);
    expect(got).to.have.nested.property('result.resultType', 'complete');

    // The same through the official client's task session on B, then cancelled there.
    const onB = sessionOn(await connect(b, 'modern'), b);
    expect((await onB.task(taskId).snapshot()).status).to.equal('working');
    await onB.task(taskId).cancel();

    const onAAgain = onA.task(taskId);
    await eventually(async () => (await onAAgain.snapshot()).status === 'cancelled', { intervalMs: 50 });
    // The tool ran on A: the cancel that B took stopped it there.
    await eventually(() =>
      a.lines.some((l) => l.msg === 'stopped a tool: its task was ended elsewhere' && l.taskId === taskId),
    );
    const viaA = await tasksGet(a, taskId);
    expect(viaA).to.have.nested.property('result.status', 'cancelled');
    expect(viaA).to.not.have.nested.property('result.result');

    // It is a TaskService task: gRPC on B sees it ended by the cancel.
    const grpc = await call(b.client.getResult, b.client, { taskId, userId: USER });
    expect(grpc.task?.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
    expect(grpc.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    expect(grpc.task?.toolName).to.equal('sleep');
  });

  it('2026-07-28: another user asking through B does not find the task', async () => {
    const [a, b] = replicas;
    const { taskId } = await backgroundSleep(a);
    try {
      const other = await tasksGet(b, taskId, { 'x-taskservice-user': 'someone-else' });
      expect(other.kind).to.equal('error');
      expect(other).to.have.nested.property('error.code', -32602);
    } finally {
      await call(b.client.cancelTask, b.client, { taskId, userId: USER });
    }
  });

  it('2025-11-25: a task-augmented call on A, and tasks/result through a client on B returns its result', async () => {
    const [a, b] = replicas;
    const clientB = await connect(b, 'legacy');
    const onA = sessionOn(await connect(a, 'legacy'), a);
    const execution = await onA.callTool('sleep', { seconds: 1.5 }, { task: { preference: 'prefer' } });
    expect(execution.kind, 'the session asked for a task and got one').to.equal('task');
    const taskId = execution.handle!.taskId;
    await execution.detach();

    const working = await clientB.request({ method: 'tasks/get', params: { taskId } }, AnyObject);
    expect(working).to.include({ taskId, status: 'working' });
    // tasks/result on B blocks until the tool, running on A, ends; then it answers with the CallToolResult.
    const result = await clientB.request({ method: 'tasks/result', params: { taskId } }, AnyObject);
    expect(result.content).to.deep.equal([{ type: 'text', text: 'slept 1.5 s' }]);
    expect(result.isError).to.equal(false);
    expect(result._meta).to.deep.include({ 'io.modelcontextprotocol/related-task': { taskId } });

    const task = await clientB.request({ method: 'tasks/get', params: { taskId } }, AnyObject);
    expect(task).to.include({ taskId, status: 'completed' });
    const grpc = await call(a.client.getResult, a.client, { taskId, userId: USER });
    expect(grpc.task?.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
    expect(grpc.task?.result).to.equal('slept 1.5 s');
  });
});
