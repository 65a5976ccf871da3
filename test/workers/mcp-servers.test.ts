import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { type ExecuteRequest, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { FixtureMcpServer } from '../fixtures/mcp/http-server.js';
import { eventually } from '../helpers/core.js';
import { captureLogger } from '../helpers/logger.js';
import { call, expectCode, spawnServer, startTestServer, type TestServer, watchTask } from '../helpers/server.js';

const EVERYTHING = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js';
const RECORDER = 'test/fixtures/mcp/record-stdin.mjs';
/** Short keepalive, so a server that stops answering is found in about a second. */
const FAST_KEEPALIVE = { TASKSERVICE_WORKER_PING_SECONDS: '0.2', TASKSERVICE_WORKER_TIMEOUT_SECONDS: '1' };

/** server-everything over stdio, behind the recorder that keeps every line it was sent. */
function everything(recordFile: string, extra: Record<string, unknown> = {}) {
  return {
    command: process.execPath,
    args: [RECORDER, process.execPath, EVERYTHING, 'stdio'],
    env: { RECORD_STDIN_FILE: recordFile },
    tool_prefix: 'ev_',
    ...extra,
  };
}

/** The JSON-RPC messages the recorded server was sent. */
function sent(recordFile: string): { method?: string; id?: unknown; params?: Record<string, unknown> }[] {
  if (!existsSync(recordFile)) return [];
  return readFileSync(recordFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { method?: string });
}

/** The id of the tools/call the server was sent for `tool`, and whether it was sent notifications/cancelled for it. */
function cancelledCall(recordFile: string, tool: string): boolean {
  const messages = sent(recordFile);
  const callIds = messages.filter((m) => m.method === 'tools/call' && m.params?.name === tool).map((m) => m.id);
  return messages.some((m) => m.method === 'notifications/cancelled' && callIds.includes(m.params?.requestId));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * MCP servers as tool sources: a third-party server from npm
 * (@modelcontextprotocol/server-everything) over stdio, and a Streamable
 * HTTP server built with the official server SDK (test/fixtures/mcp), whose
 * tools run under TaskService's budget, progress, cancel and hard timeout.
 */
describe('MCP servers as tool sources', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-sources-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const execute = (server: TestServer, req: Partial<ExecuteRequest>) =>
    call(server.client.execute, server.client, {
      userId: '',
      channelId: '',
      platform: '',
      requestId: '',
      argumentsJson: '{}',
      toolName: '',
      ...req,
    });
  const getResult = (server: TestServer, taskId: string) =>
    call(server.client.getResult, server.client, { taskId, userId: '' });

  describe('server-everything over stdio', () => {
    let server: TestServer;
    let record: string;
    before(async function () {
      this.timeout(60_000);
      record = join(dir, 'everything.jsonl');
      server = await startTestServer({
        ...FAST_KEEPALIVE,
        TASKSERVICE_MCP_SERVERS: JSON.stringify({ everything: everything(record) }),
      });
    });
    after(() => server?.close());

    it('lists its tools with source mcp:everything, prefixed snake-case names and their JSON Schemas', async () => {
      const { tools } = await call(server.client.listTools, server.client, {});
      const mine = tools.filter((t) => t.source === 'mcp:everything');
      expect(mine.map((t) => t.name)).to.include.members(['ev_echo', 'ev_trigger_long_running_operation']);
      const echo = mine.find((t) => t.name === 'ev_echo')!;
      expect(JSON.parse(echo.parametersJsonSchema).properties.message.type).to.equal('string');
      expect(echo.unavailableReason).to.equal('');
    });

    it('answers echo inline, with its schema enforced here', async () => {
      const res = await execute(server, { toolName: 'ev_echo', argumentsJson: '{"message":"hi"}' });
      expect(res.backgrounded).to.equal(false);
      expect(res.task?.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
      expect(res.text).to.equal('Echo: hi');
      const err = await expectCode(
        execute(server, { toolName: 'ev_echo', argumentsJson: '{}' }),
        status.INVALID_ARGUMENT,
      );
      expect(err.details).to.contain('field "message" is required');
    });

    it('backgrounds the long-running operation, and its progress reaches AwaitResult in order', async () => {
      const res = await execute(server, {
        toolName: 'ev_trigger_long_running_operation',
        argumentsJson: '{"duration":1.6,"steps":4}',
        timeoutSeconds: 0.2,
      });
      expect(res.backgrounded).to.equal(true);
      const updates = await watchTask(server.client, res.task!.taskId).done;
      const fractions = updates
        .filter((u) => u.kind === UpdateKind.UPDATE_KIND_PROGRESS)
        .map((u) => u.task!.progress!.fraction);
      expect(fractions.length, 'progress updates').to.be.at.least(2);
      expect(fractions).to.deep.equal([...fractions].sort((a, b) => a - b));
      expect(fractions.every((f) => [0.25, 0.5, 0.75, 1].includes(f))).to.equal(true);
      const last = updates.at(-1)!;
      expect(last.task?.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
      expect(last.text).to.equal('Long running operation completed. Duration: 1.6 seconds, Steps: 4.');
    });

    it('sends notifications/cancelled for the call when the task is cancelled', async () => {
      const res = await execute(server, {
        toolName: 'ev_trigger_long_running_operation',
        argumentsJson: '{"duration":20,"steps":20}',
        timeoutSeconds: 0.2,
      });
      const taskId = res.task!.taskId;
      await call(server.client.cancelTask, server.client, { taskId, userId: '' });
      const task = (await getResult(server, taskId)).task!;
      expect(task.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
      expect(task.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
      await eventually(() => cancelledCall(record, 'trigger-long-running-operation'), {
        timeoutMs: 5000,
        what: 'the server was sent notifications/cancelled for its tools/call',
      });
    });

    it('fails the running call WORKER_LOST when the server dies, and restarts it for the next call', async () => {
      const connection = server.app.mcpTools!.connection('everything')!;
      const pid = connection.pid!;
      expect(pid).to.be.a('number');
      // The server itself, not the recorder in front of it.
      const serverPid = Number(readFileSync(`${record}.pid`, 'utf8'));
      const res = await execute(server, {
        toolName: 'ev_trigger_long_running_operation',
        argumentsJson: '{"duration":20,"steps":20}',
        timeoutSeconds: 0.2,
      });
      process.kill(serverPid, 'SIGKILL');
      const last = (await watchTask(server.client, res.task!.taskId).done).at(-1)!;
      expect(last.task?.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
      expect(last.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_WORKER_LOST);
      expect(last.task?.error).to.contain('MCP server "everything"');
      await eventually(() => connection.connected && connection.pid !== pid, {
        timeoutMs: 10_000,
        what: 'a new server process',
      });
      const again = await execute(server, { toolName: 'ev_echo', argumentsJson: '{"message":"back"}' });
      expect(again.text).to.equal('Echo: back');
    });
  });

  describe('a Streamable HTTP server', () => {
    let fixture: FixtureMcpServer;
    let server: TestServer;
    const lines: Record<string, unknown>[] = [];
    before(async () => {
      fixture = new FixtureMcpServer();
      const url = await fixture.listen();
      server = await startTestServer(
        {
          ...FAST_KEEPALIVE,
          TASKSERVICE_MCP_SERVERS: JSON.stringify({
            fx: { url, tool_prefix: 'fx_', headers: { 'x-api-key': 'top-secret-header' }, hard_timeout_seconds: 2 },
          }),
        },
        {},
        captureLogger(lines),
      );
    });
    after(async () => {
      await server?.close();
      await fixture?.stop();
    });

    it("fails a call whose result has isError with TOOL_ERROR and the tool's text", async () => {
      const res = await execute(server, { toolName: 'fx_fail_always' });
      expect(res.task?.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
      expect(res.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_TOOL_ERROR);
      expect(res.task?.error).to.equal('it broke: the disk is full');
    });

    it('returns structuredContent as JSON, and describes content that is not text', async () => {
      const weather = await execute(server, { toolName: 'fx_weather', argumentsJson: '{"city":"Oslo"}' });
      expect(JSON.parse(weather.text)).to.deep.equal({ city: 'Oslo', temperature: 21 });
      const mixed = await execute(server, { toolName: 'fx_describe_things' });
      expect(mixed.text).to.equal(
        'here you are\n[image: image/png, 300 bytes, not shown]\n[resource link: report file:///tmp/report.txt]',
      );
    });

    it('declines sampling with a message that says why', async () => {
      const model = await execute(server, { toolName: 'fx_ask_model' });
      expect(model.text).to.contain('refused: TaskService does not offer sampling');
    });

    it("turns the server's elicitation into the task's question, and sends back the answer", async () => {
      const asked = await execute(server, { toolName: 'fx_ask_person', timeoutSeconds: 10 });
      expect(asked.backgrounded).to.equal(true);
      const task = asked.task!;
      expect(task.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
      expect(task.inputRequest?.message).to.equal('Approve?');
      expect(JSON.parse(task.inputRequest!.schemaJson).properties.ok.type).to.equal('boolean');
      await call(server.client.provideInput, server.client, {
        taskId: task.taskId,
        userId: '',
        inputRequestId: task.inputRequest!.id,
        responseJson: '{"ok":true}',
      });
      const last = (await watchTask(server.client, task.taskId).done).at(-1)!;
      expect(last.text).to.equal('answered: {"action":"accept","content":{"ok":true}}');
    });

    it('answers an elicitation cancel when its task is cancelled while it waits', async () => {
      const asked = await execute(server, { toolName: 'fx_ask_person', timeoutSeconds: 10 });
      await call(server.client.cancelTask, server.client, { taskId: asked.task!.taskId, userId: '' });
      const last = (await watchTask(server.client, asked.task!.taskId).done).at(-1)!;
      expect(last.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    });

    it("logs the server's log messages with the task id, and never the configured header's secret", async () => {
      const res = await execute(server, { toolName: 'fx_chatty' });
      const line = lines.find((l) => l.msg === 'MCP server log');
      expect(res.text).to.equal('done');
      expect(line).to.include({ mcpServer: 'fx', data: 'disk almost full', mcpLogger: 'chatty' });
      // An inline answer carries no task id; the tool's run had one, and the line names it.
      expect(line?.taskId).to.match(/^[0-9a-f-]{36}$/);
      expect(line?.level).to.equal('warn');
      expect(JSON.stringify(lines)).not.to.contain('top-secret-header');
    });

    it('ends a call past the hard timeout HARD_TIMEOUT and tells the server to stop', async () => {
      const res = await execute(server, { toolName: 'fx_slow', argumentsJson: '{"seconds":10}', timeoutSeconds: 0.2 });
      const last = (await watchTask(server.client, res.task!.taskId).done).at(-1)!;
      expect(last.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_HARD_TIMEOUT);
      await eventually(() => fixture.slowEnds.includes('cancelled'), { what: 'the server saw the cancel' });
    });

    it('adds a tool when the server says its list changed', async () => {
      await execute(server, { toolName: 'fx_add_extra' });
      await eventually(
        async () => {
          const { tools } = await call(server.client.listTools, server.client, {});
          return tools.some((t) => t.name === 'fx_extra' && t.source === 'mcp:fx');
        },
        { timeoutMs: 5000, what: 'fx_extra listed' },
      );
      expect((await execute(server, { toolName: 'fx_extra' })).text).to.equal('extra!');
    });

    it('fails calls WORKER_LOST when the server goes away, is UNAVAILABLE while away, and reconnects', async () => {
      const res = await execute(server, { toolName: 'fx_slow', argumentsJson: '{"seconds":1.8}', timeoutSeconds: 0.2 });
      await fixture.stop();
      const last = (await watchTask(server.client, res.task!.taskId).done).at(-1)!;
      expect(last.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_WORKER_LOST);
      expect(last.task?.error).to.contain('MCP server "fx"');
      const away = await expectCode(
        execute(server, { toolName: 'fx_weather', argumentsJson: '{"city":"Rome"}' }),
        status.UNAVAILABLE,
      );
      expect(away.details).to.contain('MCP server "fx" is not connected');
      const { tools } = await call(server.client.listTools, server.client, {});
      expect(tools.find((t) => t.name === 'fx_weather')?.unavailableReason).to.contain('MCP server "fx"');
      await fixture.listen();
      await eventually(() => server.app.mcpTools!.connection('fx')!.connected, {
        timeoutMs: 10_000,
        what: 'reconnected',
      });
      const back = await execute(server, { toolName: 'fx_weather', argumentsJson: '{"city":"Rome"}' });
      expect(JSON.parse(back.text)).to.deep.equal({ city: 'Rome', temperature: 21 });
    });
  });

  describe('starting', () => {
    it('refuses to start when an MCP tool takes the name of another tool, naming both', async () => {
      const record = join(dir, 'clash.jsonl');
      const servers = JSON.stringify({ everything: everything(record, { tool_prefix: undefined, include: ['echo'] }) });
      let failure: Error | undefined;
      await startTestServer({ TASKSERVICE_MCP_SERVERS: servers }).then(
        (server) => server.close(),
        (err: Error) => (failure = err),
      );
      expect(failure?.message).to.equal(
        'tool "echo" of mcp:everything clashes with tool "echo" (example); set a tool_prefix',
      );
    });

    it('starts while a server is down: its tools are unavailable until it comes up, then work', async () => {
      const port = await freePort();
      const servers = { fx: { url: `http://127.0.0.1:${port}/mcp`, tool_prefix: 'fx_', include: ['weather'] } };
      const server = await startTestServer({ ...FAST_KEEPALIVE, TASKSERVICE_MCP_SERVERS: JSON.stringify(servers) });
      const fixture = new FixtureMcpServer();
      try {
        const { tools } = await call(server.client.listTools, server.client, {});
        const weather = tools.find((t) => t.name === 'fx_weather');
        expect(weather?.source).to.equal('mcp:fx');
        expect(weather?.unavailableReason).to.contain('MCP server "fx" is not connected');
        const listed = await expectCode(execute(server, { toolName: 'fx_weather' }), status.UNAVAILABLE);
        expect(listed.details).to.contain('MCP server "fx"');
        // A name the server never listed, but with its prefix: the server is named too.
        const unknown = await expectCode(execute(server, { toolName: 'fx_anything' }), status.UNAVAILABLE);
        expect(unknown.details).to.contain('MCP server "fx"');
        await fixture.listen(port);
        await eventually(() => server.app.mcpTools!.connection('fx')!.connected, {
          timeoutMs: 15_000,
          what: 'connected',
        });
        const res = await execute(server, { toolName: 'fx_weather', argumentsJson: '{"city":"Lima"}' });
        expect(JSON.parse(res.text)).to.deep.equal({ city: 'Lima', temperature: 21 });
        // include holds: the server's other tools stay out.
        expect(server.app.mcpTools!.list().map((t) => t.name)).to.deep.equal(['fx_weather']);
      } finally {
        await server.close();
        await fixture.stop();
      }
    });

    it('sends notifications/cancelled for calls still running at shutdown', async () => {
      const record = join(dir, 'shutdown.jsonl');
      const server = await startTestServer({
        TASKSERVICE_MCP_SERVERS: JSON.stringify({ everything: everything(record) }),
      });
      try {
        const res = await execute(server, {
          toolName: 'ev_trigger_long_running_operation',
          argumentsJson: '{"duration":20,"steps":20}',
          timeoutSeconds: 0.2,
        });
        expect(res.backgrounded).to.equal(true);
      } finally {
        await server.close();
      }
      expect(cancelledCall(record, 'trigger-long-running-operation')).to.equal(true);
    });

    it("as a process: logs the child's stderr, no env_from or headers_env secret; CLI lists the tools", async () => {
      const fixture = new FixtureMcpServer();
      const url = await fixture.listen();
      const servers = {
        everything: { ...everything(join(dir, 'process.jsonl')), env_from: { API_TOKEN: 'TEST_MCP_SECRET' } },
        fx: { url, tool_prefix: 'fx_', headers_env: { authorization: 'TEST_MCP_HEADER' } },
      };
      const server = await spawnServer({
        TASKSERVICE_MCP_SERVERS: JSON.stringify(servers),
        TEST_MCP_SECRET: 'secret-in-the-env-1234',
        TEST_MCP_HEADER: 'Bearer secret-in-a-header-5678',
      });
      try {
        const { stdout } = await promisify(execFile)(process.execPath, [
          'bin/taskservice.mjs',
          'tools',
          '--addr',
          server.address,
        ]);
        expect(stdout).to.match(/^ev_echo +mcp:everything +yes +10s +yes +Echoes back/m);
        expect(stdout).to.match(/^fx_weather +mcp:fx +yes +10s +yes +The weather/m);
        // The secret did reach the child (server-everything's get-env shows its environment).
        const env = await promisify(execFile)(process.execPath, [
          'bin/taskservice.mjs',
          'exec',
          'ev_get_env',
          '--addr',
          server.address,
        ]);
        expect(env.stdout).to.contain('secret-in-the-env-1234');
        expect([...fixture.authorizations]).to.deep.equal(['Bearer secret-in-a-header-5678']);
        const stderr = server.lines.filter((l) => l.msg === 'MCP server stderr');
        expect(stderr.map((l) => l.stderr)).to.include('Starting default (STDIO) server...');
        expect(stderr[0]).to.include({ mcpServer: 'everything', component: 'mcp-tools' });
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
        await fixture.stop();
      }
      const logs = JSON.stringify(server.lines);
      expect(logs).not.to.contain('secret-in-the-env-1234');
      expect(logs).not.to.contain('secret-in-a-header-5678');
    });
  });
});
