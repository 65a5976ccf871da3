import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { FixtureMcpServer } from '../fixtures/mcp/http-server.js';
import { eventually } from '../helpers/core.js';
import { RedisServer } from '../helpers/redis.js';
import { type Replica, startReplicas } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

/**
 * Two replicas on one Redis, both with the same MCP server as a tool source:
 * a call backgrounded on A is a task that B reads and cancels, and the cancel
 * reaches the MCP server through A, which runs the call.
 */
describe('MCP tool sources across two replicas on one Redis', () => {
  let redis: RedisServer;
  let fixture: FixtureMcpServer;
  let replicas: Replica[];

  before(async function () {
    this.timeout(60_000);
    redis = await RedisServer.start();
    fixture = new FixtureMcpServer();
    const url = await fixture.listen();
    replicas = await startReplicas(2, {
      REDIS_URL: redis.url,
      TASKSERVICE_REDIS_PREFIX: `s${randomBytes(3).toString('hex')}:`,
      TASKSERVICE_MCP_SERVERS: JSON.stringify({ fx: { url, tool_prefix: 'fx_' } }),
      // Short keepalive (minimums: 0.05 and 0.1 s), so that pings run on the connection while the call does.
      TASKSERVICE_WORKER_PING_SECONDS: '0.2',
      TASKSERVICE_WORKER_TIMEOUT_SECONDS: '2',
    });
  });
  after(async () => {
    await Promise.all((replicas ?? []).map((r) => r.stop()));
    await fixture?.stop();
    await redis?.stop();
  });

  it("lists the server's tools on both replicas", async () => {
    for (const replica of replicas) {
      const { tools } = await call(replica.client.listTools, replica.client, {});
      expect(tools.find((t) => t.name === 'fx_slow')).to.include({ source: 'mcp:fx', unavailableReason: '' });
    }
  });

  it('a call backgrounded on A is read and cancelled through B; the MCP server sees the cancel', async () => {
    const [a, b] = replicas;
    const exec = { userId: 'mcp-src', channelId: '', platform: '', requestId: '' };
    const res = await call(a.client.execute, a.client, {
      ...exec,
      toolName: 'fx_slow',
      argumentsJson: '{"seconds":20}',
      timeoutSeconds: 0.2,
    });
    expect(res.backgrounded).to.equal(true);
    const taskId = res.task!.taskId;
    const read = () => call(b.client.getResult, b.client, { taskId, userId: 'mcp-src' });
    const fraction = async () => (await read()).task?.progress?.fraction ?? 0;
    await eventually(async () => (await fraction()) > 0.01, {
      timeoutMs: 5000,
      what: 'progress through B',
    });
    const first = await read();
    expect(first.task?.status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
    expect(first.task?.progress?.message).to.match(/^step \d+$/);
    // The fixture reports a step each 100 ms (of 200): B sees the progress that A writes keep moving.
    const seen = first.task!.progress!.fraction;
    await eventually(async () => (await fraction()) > seen, { timeoutMs: 5000, what: 'progress advancing through B' });
    expect(fixture.slowEnds, 'still running').to.deep.equal([]);

    const cancelled = await call(b.client.cancelTask, b.client, { taskId, userId: 'mcp-src' });
    expect(cancelled.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    for (const replica of [a, b]) {
      const { task } = await call(replica.client.getResult, replica.client, { taskId, userId: 'mcp-src' });
      expect(task?.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
      expect(task?.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
      expect(task?.toolName).to.equal('fx_slow');
    }
    await eventually(() => fixture.slowEnds.includes('cancelled'), {
      timeoutMs: 5000,
      what: 'the MCP server saw notifications/cancelled, sent by A',
    });
    expect(fixture.slowEnds, 'the call was cancelled, not finished, and only once').to.deep.equal(['cancelled']);
    expect(
      a.lines.some((l) => l.msg === 'stopped a tool: its task was ended elsewhere' && l.taskId === taskId),
    ).to.equal(true);
  });
});
