import { expect } from 'chai';
import { TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import {
  type AwaitResultResponse,
  type ExecuteRequest,
  type ExecuteStreamResponse,
  UpdateKind,
} from '../../gen/ts/taskmanager/v1/task_service.js';
import { eventually } from '../helpers/core.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

const USER = 'streamer';

const request = (toolName: string, args: object, timeoutSeconds: number): ExecuteRequest => ({
  toolName,
  argumentsJson: JSON.stringify(args),
  timeoutSeconds,
  userId: USER,
  channelId: '',
  platform: '',
  requestId: '',
});

const ticks = (n: number) => Array.from({ length: n }, (_, i) => `tick ${i + 1}\n`).join('');

/** Output chunks joined, checking that each starts where the previous one ended. */
function joined(chunks: { offset: string; text: string }[], from = 0): string {
  let at = from;
  let text = '';
  for (const chunk of chunks) {
    expect(Number(chunk.offset), `chunk at ${chunk.offset} follows byte ${at}`).to.equal(at);
    at += Buffer.byteLength(chunk.text, 'utf8');
    text += chunk.text;
  }
  return text;
}

/** Partial output of a running tool: ctx.output, ExecuteStream, AwaitResult and GetResult with offsets. */
describe('task output and ExecuteStream', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TASKSERVICE_MAX_OUTPUT_BYTES: '4096' });
  });
  after(() => server.close());

  const executeStream = async (req: ExecuteRequest) => {
    const out: ExecuteStreamResponse[] = [];
    const stream = server.client.executeStream(req, { deadline: Date.now() + 20_000 });
    for await (const message of stream) out.push(message as ExecuteStreamResponse);
    return out;
  };
  const awaitAll = async (taskId: string, extra: { afterVersion?: number; outputOffset?: number } = {}) => {
    const out: AwaitResultResponse[] = [];
    const stream = server.client.awaitResult(
      {
        taskId,
        userId: USER,
        heartbeatSeconds: 30,
        ...(extra.afterVersion !== undefined && { afterVersion: String(extra.afterVersion) }),
        ...(extra.outputOffset !== undefined && { outputOffset: String(extra.outputOffset) }),
      },
      { deadline: Date.now() + 20_000 },
    );
    for await (const message of stream) out.push(message as AwaitResultResponse);
    return out;
  };
  const finished = async (taskId: string) => {
    await awaitAll(taskId);
    return (await call(server.client.getResult, server.client, { taskId, userId: USER })).task!;
  };

  it('streams output and progress inline, then the answer, and ends there when the tool settles in time', async () => {
    const messages = await executeStream(request('ticker', { count: 3, interval_seconds: 0.02 }, 10));
    const kinds = messages.map((m) => m.event!.$case);
    expect(kinds.at(-1)).to.equal('answer');
    expect(kinds.filter((k) => k === 'update')).to.have.length(0);
    const chunks = messages.flatMap((m) => (m.event?.$case === 'output' ? [m.event.value] : []));
    expect(joined(chunks)).to.equal(ticks(3));
    expect(kinds).to.include('progress');
    const answer = messages.at(-1)!.event as { $case: 'answer'; value: { backgrounded: boolean; text: string } };
    expect(answer.value).to.include({ backgrounded: false, text: 'ticked 3' });
  });

  it('follows a backgrounded call to its end: every tick once, inline and after, then the terminal', async () => {
    const messages = await executeStream(request('ticker', { count: 12, interval_seconds: 0.04 }, 0.2));
    const answerAt = messages.findIndex((m) => m.event?.$case === 'answer');
    const answer = messages[answerAt]!.event as { $case: 'answer'; value: { backgrounded: boolean } };
    expect(answer.value.backgrounded).to.equal(true);
    const updates = messages.slice(answerAt + 1).map((m) => {
      expect(m.event?.$case).to.equal('update');
      return (m.event as { $case: 'update'; value: AwaitResultResponse }).value;
    });
    const chunks = [
      ...messages.slice(0, answerAt).flatMap((m) => (m.event?.$case === 'output' ? [m.event.value] : [])),
      ...updates.flatMap((u) => (u.kind === UpdateKind.UPDATE_KIND_OUTPUT ? [u.output!] : [])),
    ];
    expect(joined(chunks)).to.equal(ticks(12));
    const last = updates.at(-1)!;
    expect(last.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
    expect(last.task).to.include({ result: 'ticked 12', outputBytes: String(ticks(12).length) });
    const states = updates.filter((u) => u.kind !== UpdateKind.UPDATE_KIND_OUTPUT).map((u) => Number(u.task!.version));
    expect(states, 'state versions grow, none twice').to.deep.equal([...new Set(states)].sort((a, b) => a - b));
    expect(updates.map((u) => Number(u.sequence))).to.deep.equal(updates.map((_, i) => i + 1));
  });

  it('streams output from any offset through AwaitResult, and GetResult reads it from an offset', async () => {
    const { task } = await call(
      server.client.execute,
      server.client,
      request('ticker', { count: 8, interval_seconds: 0.02 }, 0.01),
    );
    const all = await awaitAll(task!.taskId, { outputOffset: 0 });
    const outputs = all.filter((m) => m.kind === UpdateKind.UPDATE_KIND_OUTPUT);
    expect(joined(outputs.map((m) => m.output!))).to.equal(ticks(8));
    // An output message carries a state already sent, never a newer one.
    for (const [i, m] of all.entries()) {
      if (m.kind !== UpdateKind.UPDATE_KIND_OUTPUT || i === 0) continue;
      expect(Number(m.task!.version)).to.equal(Number(all[i - 1]!.task!.version));
    }
    const from = Buffer.byteLength(ticks(5));
    const rest = await awaitAll(task!.taskId, { outputOffset: from });
    expect(
      joined(
        rest.filter((m) => m.output).map((m) => m.output!),
        from,
      ),
    ).to.equal(ticks(8).slice(from));
    expect(rest.at(-1)!.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);

    const got = await call(server.client.getResult, server.client, {
      taskId: task!.taskId,
      userId: USER,
      outputOffset: String(from),
    });
    expect(got.output).to.deep.equal({ offset: String(from), text: ticks(8).slice(from) });
    const none = await call(server.client.getResult, server.client, { taskId: task!.taskId, userId: USER });
    expect(none.output, 'no output unless asked').to.equal(undefined);
    expect(none.task!.outputBytes).to.equal(String(ticks(8).length));
  });

  it('stores no output for a call answered inline (nothing is tracked)', async () => {
    const res = await call(
      server.client.execute,
      server.client,
      request('ticker', { count: 2, interval_seconds: 0 }, 5),
    );
    expect(res).to.include({ backgrounded: false, text: 'ticked 2' });
    expect(res.task!.outputBytes).to.equal('0');
  });

  it('cuts output at TASKSERVICE_MAX_OUTPUT_BYTES with a marker and drops what follows', async () => {
    const { task } = await call(
      server.client.execute,
      server.client,
      request('ticker', { count: 600, interval_seconds: 0 }, 0.01),
    );
    const done = await finished(task!.taskId);
    expect(done.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
    expect(done.outputTruncated).to.equal(true);
    expect(Number(done.outputBytes)).to.be.at.most(4096).and.greaterThan(3900);
    const got = await call(server.client.getResult, server.client, {
      taskId: task!.taskId,
      userId: USER,
      outputOffset: '0',
    });
    expect(got.output!.text).to.match(/^tick 1\ntick 2\n/);
    expect(got.output!.text).to.match(
      /output truncated by TaskService: TASKSERVICE_MAX_OUTPUT_BYTES=4096 reached\]\n$/,
    );
    expect(Buffer.byteLength(got.output!.text)).to.equal(Number(done.outputBytes));
  });

  it('refuses a negative-looking or unsafe offset with INVALID_ARGUMENT naming output_offset', async () => {
    const { task } = await call(
      server.client.execute,
      server.client,
      request('ticker', { count: 1, interval_seconds: 0.2 }, 0.01),
    );
    const err = await call(server.client.getResult, server.client, {
      taskId: task!.taskId,
      userId: USER,
      outputOffset: '18446744073709551615',
    }).catch((e: { code: number; details: string }) => e);
    expect(err).to.include({ code: 3 });
    expect((err as { details: string }).details).to.contain('output_offset');
  });

  it('replays a question asked and answered between two reads to a resumed stream, once and in order', async () => {
    const res = await call(server.client.execute, server.client, request('ask', { question: 'name?' }, 5));
    expect(res.backgrounded).to.equal(true);
    const asked = res.task!;
    expect(asked.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    await call(server.client.provideInput, server.client, {
      taskId: asked.taskId,
      userId: USER,
      inputRequestId: asked.inputRequest!.id,
      responseJson: JSON.stringify({ answer: 'Ada' }),
    });
    await finished(asked.taskId);
    // Resumed from before the question: the question, the answer and the end, each once.
    const resumed = await awaitAll(asked.taskId, { afterVersion: Number(asked.version) - 1 });
    expect(resumed.map((m) => [m.kind, m.task!.status])).to.deep.equal([
      [UpdateKind.UPDATE_KIND_INPUT, TaskStatus.TASK_STATUS_INPUT_REQUIRED],
      [UpdateKind.UPDATE_KIND_INPUT, TaskStatus.TASK_STATUS_RUNNING],
      [UpdateKind.UPDATE_KIND_TERMINAL, TaskStatus.TASK_STATUS_COMPLETED],
    ]);
    expect(resumed[0]!.task!.inputRequest!.message).to.equal('name?');
    expect(resumed[1]!.task!.inputRequest).to.equal(undefined);
    const versions = resumed.map((m) => Number(m.task!.version));
    expect(versions).to.deep.equal([...versions].sort((a, b) => a - b));
    expect(versions[0]).to.equal(Number(asked.version));
    // Resumed after the question: only what followed it.
    const later = await awaitAll(asked.taskId, { afterVersion: Number(asked.version) });
    expect(later.map((m) => m.task!.status)).to.deep.equal([
      TaskStatus.TASK_STATUS_RUNNING,
      TaskStatus.TASK_STATUS_COMPLETED,
    ]);
  });

  it('dropping ExecuteStream after a backgrounded answer leaves the task running and releases the stream', async () => {
    const listeners = server.app.store.listenerCount;
    const stream = server.client.executeStream(request('ticker', { count: 20, interval_seconds: 0.05 }, 0.05));
    const answer = await new Promise<ExecuteStreamResponse>((resolve) =>
      stream.on('data', (m: ExecuteStreamResponse) => m.event?.$case === 'answer' && resolve(m)),
    );
    stream.on('error', () => undefined);
    stream.cancel();
    const taskId = (answer.event as { $case: 'answer'; value: { task: { taskId: string } } }).value.task.taskId;
    await eventually(() => server.app.grpc.streams.total === 0 && server.app.store.listenerCount <= listeners + 1);
    const { task } = await call(server.client.getResult, server.client, { taskId, userId: USER });
    expect(task!.status, 'dropping the stream does not cancel the task').to.equal(TaskStatus.TASK_STATUS_RUNNING);
    expect((await finished(taskId)).result).to.equal('ticked 20');
  });

  it('dropping ExecuteStream inside the budget stops the untracked call: nothing is stored', async () => {
    const user = `dropper-${Date.now()}`;
    const stream = server.client.executeStream({
      ...request('ticker', { count: 5, interval_seconds: 0.1 }, 0.3),
      userId: user,
    });
    await new Promise<void>((resolve) => stream.on('data', () => resolve()));
    stream.on('error', () => undefined);
    stream.cancel();
    await new Promise((r) => setTimeout(r, 600));
    const listed = await call(server.client.listTasks, server.client, {
      userId: user,
      status: 0,
      toolName: '',
      pageSize: 10,
      pageToken: '',
    });
    expect(listed.tasks, 'never backgrounded, never stored').to.have.length(0);
  });

  it('a retried ExecuteStream (same request_id) of a finished task sends its output, then the answer', async () => {
    const req = { ...request('ticker', { count: 3, interval_seconds: 0.02 }, 0.01), requestId: `retry-${Date.now()}` };
    const first = await executeStream(req);
    const taskId = (first.find((m) => m.event?.$case === 'answer')!.event as { value: { task: { taskId: string } } })
      .value.task.taskId;
    await finished(taskId);
    const again = await executeStream(req);
    const chunks = again.flatMap((m) => (m.event?.$case === 'output' ? [m.event.value] : []));
    expect(joined(chunks)).to.equal(ticks(3));
    expect(again.at(-1)!.event).to.deep.include({ $case: 'answer' });
    const answer = again.at(-1)!.event as { value: { backgrounded: boolean; text: string } };
    expect(answer.value).to.include({ backgrounded: false, text: 'ticked 3' });
  });
});
