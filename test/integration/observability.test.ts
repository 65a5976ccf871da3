import { credentials, Metadata, status } from '@grpc/grpc-js';
import { type Context, type SpanContext, SpanStatusCode, trace, type TracerProvider } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { defineTool } from '../../src/tools/define.js';
import { httpTools } from '../../src/tools/http-tools.js';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { eventually } from '../helpers/core.js';
import { captureLogger } from '../helpers/logger.js';
import { fetchMetrics } from '../helpers/metrics.js';
import { RawWorker } from '../helpers/raw-worker.js';
import { Receiver } from '../helpers/receiver.js';
import { call, expectCode, startTestServer, type TestServer } from '../helpers/server.js';
import { storeEnv, TEST_STORE } from '../helpers/test-store.js';

const exec = { userId: 'u1', channelId: 'c1', platform: '', requestId: '', argumentsJson: '{}' };
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

async function scrape(port: number) {
  const { response, samples } = await fetchMetrics(port);
  expect(response.status).to.equal(200);
  expect(response.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  return samples;
}

function withTrace(traceparent: string, tracestate?: string): Metadata {
  const metadata = new Metadata();
  metadata.set('traceparent', traceparent);
  if (tracestate !== undefined) metadata.set('tracestate', tracestate);
  return metadata;
}

describe('Metrics over HTTP (TASKSERVICE_HTTP_ADDR)', () => {
  let server: TestServer;
  const receiver = new Receiver();

  before(async () => {
    const url = await receiver.start();
    server = await startTestServer({
      TASKSERVICE_HTTP_ADDR: '127.0.0.1:0',
      TASKSERVICE_PLATFORMS: JSON.stringify({ hook: { kind: 'webhook', url: `${url}/hook` } }),
    });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  it('counts a scripted workload: starts by mode, outcomes, budget hits, RPC codes, deliveries, streams', async () => {
    const { client, app } = server;
    for (let i = 0; i < 3; i++)
      await call(client.execute, client, { ...exec, toolName: 'echo', argumentsJson: `{"text":"e${i}"}` });
    await call(client.execute, client, { ...exec, toolName: 'fail', argumentsJson: '{"message":"no"}' });
    const slow = await call(client.execute, client, {
      ...exec,
      toolName: 'sleep',
      argumentsJson: '{"seconds":0.3}',
      timeoutSeconds: 0.05,
      redirect: { channelId: 'c9', platform: 'hook', maxChars: 0 },
    });
    expect(slow.backgrounded).to.equal(true);
    const taskId = slow.task!.taskId;
    await expectCode(
      call(client.getResult, client, { taskId: 'task_does_not_exist_000000', userId: '' }),
      status.NOT_FOUND,
    );
    await expectCode(call(client.execute, client, { ...exec, toolName: 'no_such_tool' }), status.NOT_FOUND);

    // An AwaitResult stream open while the task runs, then read to its end.
    const stream = client.awaitResult({ taskId, userId: 'u1' });
    const during = await scrape(app.httpPort);
    expect(during.value('taskservice_tool_runs_running', { tool: 'sleep' })).to.equal(1);
    expect(during.value('taskservice_background_tasks')).to.equal(1);
    await eventually(async () => (await scrape(app.httpPort)).value('taskservice_await_streams_open') === 1);
    await new Promise<void>((resolve, reject) =>
      stream
        .on('end', resolve)
        .on('error', reject)
        .on('data', () => {}),
    );
    await eventually(() => receiver.received.length === 1);

    let m = await scrape(app.httpPort);
    await eventually(async () => {
      m = await scrape(app.httpPort);
      return m.value('taskservice_redirect_deliveries_total', { platform: 'hook', state: 'delivered' }) === 1;
    });
    expect(m.value('taskservice_tasks_started_total', { tool: 'echo', mode: 'inline' })).to.equal(3);
    expect(m.value('taskservice_tasks_started_total', { tool: 'fail', mode: 'inline' })).to.equal(1);
    expect(m.value('taskservice_tasks_started_total', { tool: 'sleep', mode: 'background' })).to.equal(1);
    expect(m.value('taskservice_execute_budget_exceeded_total', { tool: 'sleep' })).to.equal(1);
    expect(m.value('taskservice_execute_budget_exceeded_total', { tool: 'echo' })).to.equal(0);
    expect(m.value('taskservice_tool_runs_finished_total', { tool: 'echo', status: 'completed', reason: '' })).to.equal(
      3,
    );
    expect(
      m.value('taskservice_tool_runs_finished_total', { tool: 'fail', status: 'failed', reason: 'tool_error' }),
    ).to.equal(1);
    expect(m.value('taskservice_tool_runs_finished_total', { tool: 'sleep', status: 'completed' })).to.equal(1);
    expect(m.value('taskservice_tool_run_duration_seconds_count', { tool: 'echo', status: 'completed' })).to.equal(3);
    expect(m.value('taskservice_tool_run_duration_seconds_sum', { tool: 'sleep' })).to.be.within(0.25, 5);
    expect(m.value('taskservice_tool_runs_running')).to.equal(0);
    const handled = (method: string, code: string) =>
      m.value('taskservice_grpc_server_handled_total', {
        grpc_service: 'taskmanager.v1.TaskService',
        grpc_method: method,
        grpc_code: code,
      });
    expect(handled('Execute', 'OK')).to.equal(5);
    expect(handled('Execute', 'NOT_FOUND')).to.equal(1);
    expect(handled('GetResult', 'NOT_FOUND')).to.equal(1);
    expect(handled('AwaitResult', 'OK')).to.equal(1);
    expect(m.value('taskservice_grpc_server_handling_seconds_count', { grpc_method: 'Execute' })).to.equal(6);
    expect(m.value('taskservice_await_streams_open')).to.equal(0);
    expect(m.value('taskservice_serving')).to.equal(1);
    expect(m.value('process_cpu_seconds_total')).to.be.greaterThan(0);
    if (TEST_STORE !== 'memory') {
      // Every Redis command is timed; the background task alone needs several.
      expect(m.value('taskservice_redis_command_duration_seconds_count')).to.be.greaterThan(3);
      const trips = m.value('taskservice_redis_round_trips_total');
      expect(trips).to.be.greaterThan(0).and.at.most(m.value('taskservice_redis_command_duration_seconds_count'));
    }
  });

  it('serves /healthz and /readyz (503 while not serving), and 404 elsewhere', async () => {
    const base = `http://127.0.0.1:${server.app.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);
    expect((await fetch(`${base}/readyz`)).status).to.equal(200);
    server.app.grpc.setServing(false);
    try {
      expect((await fetch(`${base}/readyz`)).status).to.equal(503);
      expect((await scrape(server.app.httpPort)).value('taskservice_serving')).to.equal(0);
    } finally {
      server.app.grpc.setServing(true);
    }
    expect((await fetch(`${base}/nothing`)).status).to.equal(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).to.equal(405);
  });

  it('is served at its old name too (TASKSERVICE_METRICS_ADDR)', async () => {
    const old = await startTestServer({ TASKSERVICE_METRICS_ADDR: '127.0.0.1:0' });
    try {
      expect(old.app.httpPort).to.be.above(0);
      expect((await fetch(`http://127.0.0.1:${old.app.httpPort}/healthz`)).status).to.equal(200);
    } finally {
      await old.close();
    }
  });

  it('is not served unless configured', async () => {
    const plain = await startTestServer();
    try {
      expect(plain.app.httpPort).to.equal(-1);
    } finally {
      await plain.close();
    }
  });
});

describe('RPC log lines', () => {
  async function serverLogging(env: Record<string, string>, lines: Record<string, unknown>[]) {
    const app = new App(loadConfig({ TASKSERVICE_ADDR: '127.0.0.1:0', ...storeEnv(), ...env }), captureLogger(lines));
    const port = await app.start();
    const client = new TaskServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    return {
      client,
      async close() {
        client.close();
        await app.close();
      },
    };
  }
  const rpcLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'rpc');

  it(
    'logs one line per call with method, code, duration, task id and tool; ' + 'arguments only when configured',
    async () => {
      const lines: Record<string, unknown>[] = [];
      const { client, close } = await serverLogging({}, lines);
      try {
        await call(client.execute, client, { ...exec, toolName: 'echo', argumentsJson: '{"text":"private words"}' });
        const slow = await call(client.execute, client, {
          ...exec,
          toolName: 'sleep',
          argumentsJson: '{"seconds":5}',
          timeoutSeconds: 0.01,
        });
        await call(client.getResult, client, { taskId: slow.task!.taskId, userId: '' });
        await expectCode(call(client.cancelTask, client, { taskId: 'bad:id', userId: '' }), status.INVALID_ARGUMENT);
        await call(client.cancelTask, client, { taskId: slow.task!.taskId, userId: '' });
      } finally {
        await close();
      }
      const rpcs = rpcLines(lines);
      expect(rpcs.map((l) => [l.method, l.code])).to.deep.equal([
        ['Execute', 'OK'],
        ['Execute', 'OK'],
        ['GetResult', 'OK'],
        ['CancelTask', 'INVALID_ARGUMENT'],
        ['CancelTask', 'OK'],
      ]);
      for (const line of rpcs) {
        expect(line.level).to.equal('info');
        expect(line.ms).to.be.a('number').and.at.least(0);
      }
      expect(rpcs[0]).to.include({ tool: 'echo' }).and.not.have.property('taskId'); // inline: nothing stored
      expect(rpcs[1]!.taskId).to.be.a('string').and.not.empty;
      expect(rpcs[2]!.taskId).to.equal(rpcs[1]!.taskId);
      expect(rpcs[3]!.details).to.be.a('string').and.include('task_id');
      expect(JSON.stringify(lines)).not.to.include('private words');
    },
  );

  it('puts Execute arguments in its line with TASKSERVICE_LOG_TOOL_ARGUMENTS=true', async () => {
    const lines: Record<string, unknown>[] = [];
    const { client, close } = await serverLogging({ TASKSERVICE_LOG_TOOL_ARGUMENTS: 'true' }, lines);
    try {
      await call(client.execute, client, { ...exec, toolName: 'echo', argumentsJson: '{"text":"shown"}' });
    } finally {
      await close();
    }
    expect(rpcLines(lines)[0]).to.include({ method: 'Execute', arguments: '{"text":"shown"}' });
  });

  it('logs only failed calls with TASKSERVICE_LOG_RPCS=false', async () => {
    const lines: Record<string, unknown>[] = [];
    const { client, close } = await serverLogging({ TASKSERVICE_LOG_RPCS: 'false' }, lines);
    try {
      await call(client.execute, client, { ...exec, toolName: 'echo', argumentsJson: '{"text":"x"}' });
      await expectCode(call(client.execute, client, { ...exec, toolName: 'nope' }), status.NOT_FOUND);
    } finally {
      await close();
    }
    expect(rpcLines(lines).map((l) => [l.method, l.code])).to.deep.equal([['Execute', 'NOT_FOUND']]);
  });
});

describe('Trace context (traceparent metadata)', () => {
  const receiver = new Receiver();
  let server: TestServer;
  const traced = defineTool<Record<string, never>>({
    name: 'traced',
    description: 'returns the trace context it was given',
    parameters: { type: 'object' },
    handler: (_args, ctx) => ({
      traceparent: ctx.trace?.traceparent ?? null,
      tracestate: ctx.trace?.tracestate ?? null,
    }),
  });

  before(async () => {
    const url = await receiver.start();
    const http = httpTools(
      JSON.stringify([
        { name: 'traced_http', description: 'posts to the receiver', parameters: { type: 'object' }, url: `${url}/t` },
      ]),
      {},
      'test',
    );
    server = await startTestServer({}, { tools: [traced], httpTools: http });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  const execute = (toolName: string, metadata: Metadata) =>
    new Promise<{ text: string }>((resolve, reject) =>
      server.client.execute({ ...exec, toolName }, metadata, { deadline: Date.now() + 10_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );

  it("hands the caller's traceparent and tracestate to the tool", async () => {
    const answer = await execute('traced', withTrace(TRACEPARENT, 'vendor=abc'));
    expect(JSON.parse(answer.text)).to.deep.equal({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
  });

  it('ignores a malformed traceparent, as W3C trace context says', async () => {
    for (const bad of [
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    ]) {
      const answer = await execute('traced', withTrace(bad, 'vendor=abc'));
      expect(JSON.parse(answer.text), bad).to.deep.equal({ traceparent: null, tracestate: null });
    }
  });

  it('sends it on to HTTP tools as headers', async () => {
    receiver.reset();
    await execute('traced_http', withTrace(TRACEPARENT, 'k=v'));
    expect(receiver.received).to.have.length(1);
    expect(receiver.received[0]!.headers).to.include({ traceparent: TRACEPARENT, tracestate: 'k=v' });
  });

  it('sends it on to workers in the invocation', async () => {
    const worker = new RawWorker(server.address);
    try {
      worker.register({
        workerName: 'w',
        tools: [
          {
            name: 'traced_worker',
            description: 'd',
            parametersJsonSchema: '{"type":"object"}',
            noBackground: false,
            concurrency: 0,
          },
        ],
      });
      await worker.next('registered');
      const answer = execute('traced_worker', withTrace(TRACEPARENT));
      const invocation = await worker.next('invocation');
      expect(invocation.traceparent).to.equal(TRACEPARENT);
      expect(invocation.tracestate).to.equal('');
      worker.result(invocation.taskId, 'done');
      expect((await answer).text).to.equal('done');
    } finally {
      worker.close();
    }
  });

  it('leaves tools without a trace context when the caller sent none', async () => {
    const answer = await execute('traced', new Metadata());
    expect(JSON.parse(answer.text)).to.deep.equal({ traceparent: null, tracestate: null });
    const done = await call(server.client.execute, server.client, {
      ...exec,
      toolName: 'echo',
      argumentsJson: '{"text":"t"}',
    });
    expect(done.task!.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
  });

  it(
    'makes a server span per Execute when an OpenTelemetry SDK is registered, ' + 'and hands the tool its context',
    async () => {
      const spans: {
        name: string;
        parent?: SpanContext;
        own: SpanContext;
        ended: boolean;
        status?: { code: number };
      }[] = [];
      // The smallest recording tracer: what an SDK looks like to the API.
      const provider = {
        getTracer: () => ({
          startSpan(name: string, _options: unknown, ctx: Context) {
            const parent = trace.getSpanContext(ctx);
            const own = {
              traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
              spanId: randomBytes(8).toString('hex'),
              traceFlags: 1,
            };
            const record: (typeof spans)[number] = { name, own, ended: false, ...(parent && { parent }) };
            spans.push(record);
            const span = {
              spanContext: () => own,
              isRecording: () => true,
              setAttribute: () => span,
              setAttributes: () => span,
              setStatus: (s: { code: number }) => ((record.status = s), span),
              end: () => void (record.ended = true),
            };
            return span;
          },
        }),
      } as unknown as TracerProvider;
      expect(trace.setGlobalTracerProvider(provider)).to.equal(true);
      try {
        const answer = JSON.parse((await execute('traced', withTrace(TRACEPARENT, 's=1'))).text);
        await expectCode(execute('no_such_tool', withTrace(TRACEPARENT)), status.NOT_FOUND);
        expect(spans).to.have.length(2);
        const [ok, failed] = spans;
        expect(ok!.name).to.equal('taskmanager.v1.TaskService/Execute');
        expect(ok!.parent).to.include({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' });
        expect(ok!.ended).to.equal(true);
        expect(ok!.status).to.equal(undefined);
        // The tool's context is the span's own: its work nests under the server span.
        expect(answer).to.deep.equal({
          traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${ok!.own.spanId}-01`,
          tracestate: 's=1',
        });
        expect(failed!.ended).to.equal(true);
        expect(failed!.status?.code).to.equal(SpanStatusCode.ERROR);
      } finally {
        trace.disable();
      }
    },
  );
});
