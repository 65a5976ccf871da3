import { setTimeout as sleep } from 'node:timers/promises';
import type { Client as McpClient } from '@modelcontextprotocol/client';
import { resultFromTaskOutcome } from '@modelcontextprotocol/ext-tasks/client';
import { expect } from 'chai';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { FailureReason as CoreFailure, TaskStatus as CoreStatus } from '../../src/core/task.js';
import type { ToolContext } from '../../src/core/tool.js';
import { defineTool } from '../../src/tools/define.js';
import { eventually } from '../helpers/eventually.js';
import { envelope, type Mode, mcpClient, rawDispatchFor, taskSession } from '../helpers/mcp.js';
import { Receiver } from '../helpers/receiver.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

const BUDGET = 'dev.taskservice/budgetSeconds';
const MODES: Mode[] = ['legacy', 'modern'];

/** Tools the tests control: one that fails after a moment, and one that records being stopped. */
const stopped: string[] = [];
const tools = [
  defineTool<{ ms: number }>({
    name: 'slow_fail',
    description: 'fails after ms milliseconds',
    parameters: { type: 'object', properties: { ms: { type: 'number' } }, required: ['ms'] },
    async handler({ ms }) {
      await sleep(ms);
      throw new Error('the slow tool broke');
    },
  }),
  defineTool({
    name: 'stubborn',
    description: 'runs until it is stopped',
    parameters: { type: 'object' },
    handler: (_args: unknown, ctx: ToolContext) =>
      new Promise<string>((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          stopped.push(ctx.taskId);
          resolve('stopped');
        }),
      ),
  }),
  defineTool({
    name: 'json_out',
    description: 'returns a JSON object',
    parameters: { type: 'object' },
    handler: () => ({ answer: 42, unit: 'none' }),
  }),
];

describe('MCP front door (/mcp)', function () {
  this.timeout(30_000);
  let server: TestServer;
  let url: string;
  const clients: McpClient[] = [];

  before(async () => {
    server = await startTestServer({ TASKSERVICE_MCP_ADDR: '127.0.0.1:0' }, { tools });
    url = `http://127.0.0.1:${server.app.mcpPort}/mcp`;
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
  });
  after(() => server.close());

  const connect = async (mode: Mode, options: Parameters<typeof mcpClient>[2] = {}) => {
    const client = await mcpClient(url, mode, options);
    clients.push(client);
    return client;
  };
  const text = (result: { content?: unknown }) => (result.content as { text: string }[])[0]!.text;

  for (const mode of MODES) {
    describe(`protocol ${mode === 'modern' ? '2026-07-28' : '2025-11-25'}`, () => {
      it('lists the catalog with each JSON Schema, the meta-tools included for clients without tasks', async () => {
        const client = await connect(mode);
        expect(client.getProtocolEra()).to.equal(mode);
        const { tools: listed } = await client.listTools();
        const byName = new Map(listed.map((t) => [t.name, t as typeof t & { execution?: { taskSupport: string } }]));
        expect(byName.get('sleep')!.inputSchema).to.deep.include({ required: ['seconds'] });
        expect([...byName.keys()]).to.include.members(['echo', 'check_task', 'cancel_task', 'redirect_task']);
        if (mode === 'legacy') {
          expect(byName.get('sleep')!.execution).to.deep.equal({ taskSupport: 'optional' });
          expect(byName.get('check_task')!.execution).to.deep.equal({ taskSupport: 'forbidden' });
        }
      });

      it('answers within the budget inline: text, structuredContent for an object, isError for a failure', async () => {
        const client = await connect(mode);
        expect(await client.callTool({ name: 'echo', arguments: { text: 'hi' } })).to.deep.include({
          content: [{ type: 'text', text: 'hi' }],
          isError: false,
        });
        const structured = await client.callTool({ name: 'json_out', arguments: {} });
        expect(structured.structuredContent).to.deep.equal({ answer: 42, unit: 'none' });
        const failed = await client.callTool({ name: 'fail', arguments: { message: 'boom' } });
        expect(failed).to.deep.include({ isError: true, content: [{ type: 'text', text: 'Error: boom' }] });
        // Arguments the schema refuses are for the model to fix: a tool error, not a protocol error.
        const refused = await client.callTool({ name: 'sleep', arguments: { seconds: 'soon' } });
        expect(refused.isError).to.equal(true);
        expect(text(refused)).to.match(/^Error: .*seconds/);
      });

      it('sends notifications/progress while the call waits inline', async () => {
        const client = await connect(mode);
        const progress: number[] = [];
        const result = await client.callTool(
          { name: 'sleep', arguments: { seconds: 0.4 } },
          { onprogress: (p) => progress.push(p.progress) },
        );
        expect(text(result)).to.equal('slept 0.4 s');
        expect(progress.length).to.be.greaterThan(0);
        expect(progress.every((p) => p > 0 && p < 1)).to.equal(true);
      });

      it('gives a client without task support the envelope past the budget, which check_task follows', async () => {
        const client = await connect(mode);
        const result = await client.callTool({ name: 'sleep', arguments: { seconds: 30 }, _meta: { [BUDGET]: 0.05 } });
        const envelopeText = JSON.parse(text(result)) as { task_id: string; status: string };
        expect(envelopeText.status).to.equal('running');
        const check = await client.callTool({ name: 'check_task', arguments: { task_id: envelopeText.task_id } });
        expect(JSON.parse(text(check))).to.include({ task_id: envelopeText.task_id, status: 'running' });
        // The same task on gRPC: MCP tasks are TaskService tasks.
        const { task } = await call(server.client.getResult, server.client, {
          taskId: envelopeText.task_id,
          userId: '',
        });
        expect(task!.status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
        await client.callTool({ name: 'cancel_task', arguments: { task_id: envelopeText.task_id } });
      });

      it('runs a call past the budget as a task (ext-tasks requester) to its result', async () => {
        const client = await connect(mode);
        const session = taskSession(client, url);
        try {
          const execution = await session.callTool('sleep', { seconds: 0.5 }, {
            task: { preference: 'prefer' },
            metadata: { [BUDGET]: 0.05 },
          } as never);
          expect(execution.kind).to.equal('task');
          const { outcome } = await execution.settle();
          expect(outcome.status).to.equal('completed');
          expect(text(resultFromTaskOutcome(outcome) as { content: unknown })).to.equal('slept 0.5 s');
        } finally {
          await session.close();
        }
      });

      it('cancels a task through MCP and the cancel reaches the tool', async () => {
        const client = await connect(mode);
        const session = taskSession(client, url);
        try {
          const execution = await session.callTool('stubborn', {}, {
            task: { preference: 'prefer' },
            metadata: { [BUDGET]: 0.05 },
          } as never);
          if (execution.kind !== 'task') throw new Error('expected a task');
          const { taskId } = execution.handle;
          await execution.cancel();
          const { outcome } = await execution.settle();
          expect(outcome.status).to.equal('cancelled');
          await eventually(() => stopped.includes(taskId), { what: 'the tool to see its signal' });
          const { task } = await call(server.client.getResult, server.client, { taskId, userId: '' });
          expect(task!.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
        } finally {
          await session.close();
        }
      });

      it("answers another user's task exactly like a missing one", async () => {
        const alice = await connect(mode, { headers: { 'x-taskservice-user': 'alice' } });
        const result = await alice.callTool({ name: 'sleep', arguments: { seconds: 30 }, _meta: { [BUDGET]: 0.02 } });
        const { task_id: taskId } = JSON.parse(text(result)) as { task_id: string };
        const bob = rawDispatchFor(url, { 'x-taskservice-user': 'bob', ...legacyHeaders(mode) });
        const aliceRaw = rawDispatchFor(url, { 'x-taskservice-user': 'alice', ...legacyHeaders(mode) });
        const params = (id: string) => ({ taskId: id, ...(mode === 'modern' && { _meta: envelope(true) }) });
        const theirs = await bob({ method: 'tasks/get', params: params(taskId) });
        const missing = await bob({ method: 'tasks/get', params: params('no-such-task') });
        expect(theirs).to.deep.equal({
          kind: 'error',
          error: { code: -32602, message: `Failed to retrieve task: task ${taskId} not found` },
        });
        expect(missing.kind).to.equal('error');
        expect((await aliceRaw({ method: 'tasks/get', params: params(taskId) })).kind).to.equal('result');
        await call(server.client.cancelTask, server.client, { taskId, userId: 'alice' });
      });
    });
  }

  describe('tasks extension (2026-07-28) details', () => {
    const raw = () => rawDispatchFor(url);

    it('shows a question as input_required with inputRequests, and takes the answer through tasks/update', async () => {
      const dispatch = raw();
      const started = await dispatch({
        method: 'tools/call',
        params: { name: 'ask', arguments: { question: 'Which color?' }, _meta: { ...envelope(true), [BUDGET]: 5 } },
      });
      const created = (started as { result: Record<string, unknown> }).result;
      expect(created).to.include({ resultType: 'task', status: 'input_required' });
      const taskId = created.taskId as string;
      const get = async () =>
        (
          (await dispatch({ method: 'tasks/get', params: { taskId, _meta: envelope(true) } })) as unknown as {
            result: Record<string, any>;
          }
        ).result;
      const waiting = await get();
      expect(waiting).to.include({ status: 'input_required', statusMessage: 'waiting for input: Which color?' });
      const [key, request] = Object.entries(waiting.inputRequests as Record<string, any>)[0]!;
      expect(request).to.deep.include({ method: 'elicitation/create' });
      expect(request.params).to.include({ mode: 'form', message: 'Which color?' });
      expect(request.params.requestedSchema.required).to.deep.equal(['answer']);
      const update = (inputResponses: object) =>
        dispatch({ method: 'tasks/update', params: { taskId, inputResponses, _meta: envelope(true) } });
      // A key that is not outstanding is ignored, as the extension says.
      expect((await update({ 'input-99': { action: 'accept', content: { answer: 'red' } } })).kind).to.equal('result');
      expect((await get()).status).to.equal('input_required');
      // An answer that does not match the schema is refused with invalid params.
      const bad = await update({ [key]: { action: 'accept', content: { answer: 7 } } });
      expect(bad.error?.code).to.equal(-32602);
      expect((await update({ [key]: { action: 'accept', content: { answer: 'blue' } } })).kind).to.equal('result');
      await eventually(async () => (await get()).status === 'completed');
      expect((await get()).result.content[0].text).to.equal('answer: blue');
    });

    it('ends a task whose question was declined through tasks/update', async () => {
      const dispatch = raw();
      const started = await dispatch({
        method: 'tools/call',
        params: { name: 'ask', arguments: { question: 'Delete it?' }, _meta: { ...envelope(true), [BUDGET]: 5 } },
      });
      const taskId = started.result!.taskId as string;
      const get = async () =>
        (
          (await dispatch({ method: 'tasks/get', params: { taskId, _meta: envelope(true) } })) as unknown as {
            result: Record<string, any>;
          }
        ).result;
      const key = Object.keys((await get()).inputRequests)[0]!;
      await dispatch({
        method: 'tasks/update',
        params: { taskId, inputResponses: { [key]: { action: 'decline' } }, _meta: envelope(true) },
      });
      expect((await get()).status).to.equal('cancelled');
    });

    it('answers tasks/get: a tool failure is completed with isError, a lost worker is failed', async () => {
      const dispatch = raw();
      const started = await dispatch({
        method: 'tools/call',
        params: { name: 'slow_fail', arguments: { ms: 200 }, _meta: { ...envelope(true), [BUDGET]: 0.02 } },
      });
      expect(started.kind).to.equal('result');
      const created = (started as { result: Record<string, unknown> }).result;
      expect(created).to.include({ resultType: 'task', status: 'working', ttlMs: null, pollIntervalMs: 1000 });
      const taskId = created.taskId as string;
      const get = () => dispatch({ method: 'tasks/get', params: { taskId, _meta: envelope(true) } });
      await eventually(
        async () => ((await get()) as unknown as { result: { status: string } }).result.status !== 'working',
      );
      const done = ((await get()) as unknown as { result: Record<string, unknown> }).result;
      expect(done).to.include({ resultType: 'complete', status: 'completed' });
      expect(done.result).to.deep.include({ resultType: 'complete', isError: true });
      expect(done.ttlMs).to.be.a('number').greaterThan(86_000_000);

      // A failure of TaskService itself (here: its worker was lost) is `failed` with a JSON-RPC error.
      const lost = await dispatch({
        method: 'tools/call',
        params: { name: 'stubborn', arguments: {}, _meta: { ...envelope(true), [BUDGET]: 0.02 } },
      });
      const lostId = (lost as unknown as { result: { taskId: string } }).result.taskId;
      await server.app.store.finish(lostId, {
        status: CoreStatus.Failed,
        reason: CoreFailure.WorkerLost,
        error: 'the worker went away',
      });
      const failed = (
        (await dispatch({ method: 'tasks/get', params: { taskId: lostId, _meta: envelope(true) } })) as unknown as {
          result: Record<string, unknown>;
        }
      ).result;
      expect(failed).to.include({ status: 'failed' });
      expect(failed.error).to.deep.equal({ code: -32603, message: 'Error: the worker went away' });
    });

    it('reads, through MCP, a task made by gRPC Execute, and sees a gRPC cancel', async () => {
      const res = await call(server.client.execute, server.client, {
        toolName: 'sleep',
        argumentsJson: '{"seconds":30}',
        timeoutSeconds: 0.02,
        userId: '',
        channelId: '',
        platform: '',
        requestId: '',
      });
      const taskId = res.task!.taskId;
      const dispatch = raw();
      const get = async () =>
        (
          (await dispatch({ method: 'tasks/get', params: { taskId, _meta: envelope(true) } })) as unknown as {
            result: { status: string };
          }
        ).result.status;
      expect(await get()).to.equal('working');
      await call(server.client.cancelTask, server.client, { taskId, userId: '' });
      expect(await get()).to.equal('cancelled');
    });

    it('refuses task methods to a client that did not declare the extension: -32021', async () => {
      const dispatch = raw();
      for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
        const answer = await dispatch({ method, params: { taskId: 'x', _meta: envelope(false) } });
        expect(answer, method).to.deep.include({ kind: 'error' });
        expect((answer as { error: { code: number } }).error.code).to.equal(-32021);
      }
    });

    it('pushes notifications/tasks until the task ends, and frees the subscription when the client goes', async () => {
      const dispatch = raw();
      const started = await dispatch({
        method: 'tools/call',
        params: { name: 'sleep', arguments: { seconds: 0.3 }, _meta: { ...envelope(true), [BUDGET]: 0.02 } },
      });
      const taskId = (started as unknown as { result: { taskId: string } }).result.taskId;
      const stop = new AbortController();
      const res = await fetch(url, {
        method: 'POST',
        signal: stop.signal,
        headers: listenHeaders(),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'subscriptions/listen',
          params: { notifications: { taskIds: [taskId, 'no-such-task'] }, _meta: envelope(true) },
        }),
      });
      expect(res.headers.get('content-type')).to.equal('text/event-stream');
      const messages: { method: string; params: Record<string, unknown> }[] = [];
      const reader = res.body!.getReader();
      let buffered = '';
      while (!messages.some((m) => m.params.status === 'completed')) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += Buffer.from(value).toString('utf8');
        const events = buffered.split('\n\n');
        buffered = events.pop()!;
        for (const event of events) {
          const data = event.split('\n').find((line) => line.startsWith('data: '));
          if (data) messages.push(JSON.parse(data.slice(6)));
        }
      }
      expect(messages[0]).to.deep.equal({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 7 }, notifications: { taskIds: [taskId] } },
      });
      const last = messages.at(-1)!;
      expect(last.method).to.equal('notifications/tasks');
      expect(last.params).to.deep.include({ taskId, status: 'completed' });
      expect(last.params.result).to.deep.include({ content: [{ type: 'text', text: 'slept 0.3 s' }] });
      stop.abort();
      await reader.cancel().catch(() => undefined);
      await eventually(() => server.app.mcp!.openSubscriptions === 0, { what: 'the subscription to be freed' });
    });

    it('refuses a task subscription without the extension: HTTP 400, -32021', async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: listenHeaders(),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 8,
          method: 'subscriptions/listen',
          params: { notifications: { taskIds: ['x'] }, _meta: envelope(false) },
        }),
      });
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { error: { code: number } }).error.code).to.equal(-32021);
    });
  });

  describe('2025-11-25 task methods', () => {
    it("lists the caller's tasks and answers tasks/result for a tool failure with isError", async () => {
      const headers = { 'x-taskservice-user': 'lister', ...legacyHeaders('legacy') };
      const dispatch = rawDispatchFor(url, headers);
      const created = await dispatch({
        method: 'tools/call',
        params: { name: 'slow_fail', arguments: { ms: 50 }, task: { ttl: 60_000 } },
      });
      const { task } = (created as unknown as { result: { task: { taskId: string; status: string; ttl: unknown } } })
        .result;
      expect(task).to.include({ status: 'working', ttl: null });
      const result = await dispatch({ method: 'tasks/result', params: { taskId: task.taskId } });
      expect((result as { result: Record<string, unknown> }).result).to.deep.include({
        isError: true,
        content: [{ type: 'text', text: 'Error: the slow tool broke' }],
        _meta: { 'io.modelcontextprotocol/related-task': { taskId: task.taskId } },
      });
      const listed = (await dispatch({ method: 'tasks/list', params: {} })) as unknown as {
        result: { tasks: { taskId: string }[] };
      };
      expect(listed.result.tasks.map((t) => t.taskId)).to.deep.equal([task.taskId]);
      const cancel = await dispatch({ method: 'tasks/cancel', params: { taskId: task.taskId } });
      expect(cancel).to.deep.include({ kind: 'error' });
      expect((cancel as { error: { message: string } }).error.message).to.equal(
        "Cannot cancel task: already in terminal status 'failed'",
      );
    });
  });

  describe('what the HTTP endpoint refuses', () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body,
      });

    it('answers bad JSON-RPC with the right codes: unknown method, bad params, bad JSON, bad budget', async () => {
      const dispatch = rawDispatchFor(url);
      const unknown = await post(
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'no/such', params: { _meta: envelope(false) } }),
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'no/such' },
      );
      expect(unknown.status).to.equal(404);
      expect(((await unknown.json()) as { error: { code: number } }).error.code).to.equal(-32601);
      const badParams = await dispatch({ method: 'tasks/get', params: { _meta: envelope(true) } });
      expect((badParams as { error: { code: number } }).error.code).to.equal(-32602);
      const badJson = await post('{"jsonrpc": "2.0", "id": 1, "method": ');
      expect(badJson.status).to.equal(400);
      expect(((await badJson.json()) as { error: { code: number } }).error.code).to.equal(-32700);
      const badBudget = await dispatch({
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'x' }, _meta: { ...envelope(false), [BUDGET]: 'soon' } },
      });
      expect((badBudget as { error: { code: number; message: string } }).error).to.deep.include({ code: -32602 });
    });

    it('refuses an oversized body with 413, a foreign Origin with 403, another path with 404', async () => {
      const huge = await post(
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', pad: 'x'.repeat(5 << 20) }),
      );
      expect(huge.status).to.equal(413);
      const foreign = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), {
        origin: 'https://evil.example',
      });
      expect(foreign.status).to.equal(403);
      const elsewhere = await fetch(url.replace('/mcp', '/other'), { method: 'POST', body: '{}' });
      expect(elsewhere.status).to.equal(404);
    });
  });

  describe('with an output redirect', () => {
    const receiver = new Receiver();
    let withPlatform: TestServer;

    before(async () => {
      const base = await receiver.start();
      withPlatform = await startTestServer({
        TASKSERVICE_MCP_ADDR: '127.0.0.1:0',
        TASKSERVICE_PLATFORMS: JSON.stringify({ chat: { url: `${base}/hooks/{channel_id}` } }),
      });
    });
    after(async () => {
      await withPlatform.close();
      await receiver.close();
    });

    it('delivers the result of a task made through MCP to the channel redirect_task names', async () => {
      const client = await mcpClient(`http://127.0.0.1:${withPlatform.app.mcpPort}/mcp`, 'modern');
      clients.push(client);
      const result = await client.callTool({ name: 'sleep', arguments: { seconds: 0.3 }, _meta: { [BUDGET]: 0.02 } });
      const { task_id: taskId } = JSON.parse(text(result)) as { task_id: string };
      const redirected = await client.callTool({
        name: 'redirect_task',
        arguments: { task_id: taskId, channel_id: 'c1', platform: 'chat' },
      });
      expect(redirected.isError).to.equal(false);
      await eventually(() => receiver.received.length === 1, { what: 'the delivery' });
      expect(receiver.received[0]!.url).to.equal('/hooks/c1');
      expect(receiver.received[0]!.body).to.include({ task_id: taskId, status: 'completed' });
      expect(receiver.received[0]!.body.text).to.match(/slept 0\.3 s$/);
    });
  });

  describe('with bearer tokens', () => {
    let secured: TestServer;
    let securedUrl: string;
    const ALICE = '0123456789abcdef-alice';
    const ANY = '0123456789abcdef-admin';

    before(async () => {
      secured = await startTestServer({
        TASKSERVICE_MCP_ADDR: '127.0.0.1:0',
        TASKSERVICE_AUTH_TOKENS: JSON.stringify({
          alice: { token: ALICE, users: ['alice'] },
          admin: { token: ANY, users: '*' },
        }),
      });
      securedUrl = `http://127.0.0.1:${secured.app.mcpPort}/mcp`;
    });
    after(() => secured.close());

    it('refuses a request without a valid token with 401, and acts for the one user of a limited token', async () => {
      const anonymous = await fetch(securedUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(anonymous.status).to.equal(401);
      expect(anonymous.headers.get('www-authenticate')).to.match(/^Bearer/);
      const alice = await mcpClient(securedUrl, 'modern', { headers: { authorization: `Bearer ${ALICE}` } });
      clients.push(alice);
      const result = await alice.callTool({ name: 'sleep', arguments: { seconds: 30 }, _meta: { [BUDGET]: 0.02 } });
      const { task_id: taskId } = JSON.parse(text(result)) as { task_id: string };
      const { task } = await call(secured.client.getResult, secured.client, { taskId, userId: '' }, 5000, ANY);
      expect(task!.userId).to.equal('alice');
      await call(secured.client.cancelTask, secured.client, { taskId, userId: '' }, 5000, ANY);
    });
  });
});

/** Headers a 2025-era request needs when sent by hand (rawDispatchFor sends 2026-07-28 ones). */
function legacyHeaders(mode: Mode): Record<string, string> {
  return mode === 'legacy' ? { 'mcp-protocol-version': '2025-11-25' } : {};
}

function listenHeaders(): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'subscriptions/listen',
  };
}
