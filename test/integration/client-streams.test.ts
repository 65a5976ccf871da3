import { expect } from 'chai';
import { Client, type StreamEvent, TaskStatus, UpdateKind } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const USER = 'ts-client';
const ticks = (n: number) => Array.from({ length: n }, (_, i) => `tick ${i + 1}\n`).join('');

/** What the application saw of an executeStream: output, state versions, the answer and the last update. */
async function collect(events: AsyncIterable<StreamEvent>) {
  let output = '';
  const versions: number[] = [];
  let answer: (StreamEvent & { $case: 'answer' })['value'] | undefined;
  let last: (StreamEvent & { $case: 'update' })['value'] | undefined;
  for await (const event of events) {
    if (event.$case === 'output') output += event.value.text;
    if (event.$case === 'answer') answer = event.value;
    if (event.$case === 'update') {
      last = event.value;
      if (event.value.kind === UpdateKind.UPDATE_KIND_OUTPUT) output += event.value.output!.text;
      else versions.push(Number(event.value.task!.version));
    }
  }
  return { output, versions, answer, last };
}

/** The TypeScript client's streams: executeStream, output in updates(), readOutput, and resuming across drops. */
describe('TypeScript client: output and ExecuteStream', function () {
  this.timeout(30_000);
  let server: TestServer;
  let proxy: TcpProxy;
  let client: Client;
  before(async () => {
    server = await startTestServer();
    proxy = await TcpProxy.start(server.address);
    client = new Client(proxy.address, {
      userId: USER,
      retry: { attempts: 50, initialDelayMs: 20, maxDelayMs: 100 },
    });
  });
  after(async () => {
    client.close();
    await proxy.close();
    await server.close();
  });

  it('runs and follows a tool in one call, inline', async () => {
    const seen = await collect(
      client.executeStream('ticker', { count: 3, interval_seconds: 0.01 }, { budgetSeconds: 10 }),
    );
    expect(seen.answer).to.include({ backgrounded: false, text: 'ticked 3' });
    expect(seen.output).to.equal(ticks(3));
    expect(seen.last).to.equal(undefined);
  });

  it('follows a backgrounded call to its end; output and states each once, across connection drops', async () => {
    const events = client.executeStream('ticker', { count: 30, interval_seconds: 0.05 }, { budgetSeconds: 0.2 });
    const cutter = setInterval(() => proxy.cutAll(), 300);
    try {
      const seen = await collect(events);
      expect(seen.answer!.backgrounded).to.equal(true);
      expect(seen.output).to.equal(ticks(30));
      expect(seen.versions, 'no state twice, in order').to.deep.equal(
        [...new Set(seen.versions)].sort((a, b) => a - b),
      );
      expect(seen.last!.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
      expect(seen.last!.task).to.include({ status: TaskStatus.TASK_STATUS_COMPLETED, result: 'ticked 30' });
    } finally {
      clearInterval(cutter);
    }
    expect(proxy.cuts).to.be.greaterThan(3);
  });

  it('yields output from an offset through updates(), resuming across drops; readOutput reads it', async () => {
    const run = await client.execute('ticker', { count: 20, interval_seconds: 0.05 }, { budgetSeconds: 0.01 });
    expect(run.backgrounded).to.equal(true);
    if (!run.backgrounded) return;
    const from = Buffer.byteLength(ticks(2));
    let output = '';
    const cutter = setInterval(() => proxy.cutAll(), 250);
    try {
      for await (const update of run.handle.updates({ outputOffset: from })) {
        if (update.kind === UpdateKind.UPDATE_KIND_OUTPUT) output += update.output!.text;
      }
    } finally {
      clearInterval(cutter);
    }
    // Ticks 1 and 2 may not have been written yet when the stream opened; what comes is from byte `from` on.
    expect(output).to.equal(ticks(20).slice(from));
    const read = await run.handle.readOutput();
    expect(read.text).to.equal(ticks(20));
    expect(read.task.outputBytes).to.equal(String(ticks(20).length));
    expect((await run.handle.readOutput(from)).text).to.equal(ticks(20).slice(from));
  });
});

/**
 * A stream the client read to its last message must end by the server's status, not by a cancel: a cancel sends
 * a RST_STREAM, and the server's HTTP/2 (nghttp2's rapid-reset guard) closes a connection that receives more than
 * about a thousand of them in a burst, failing every call on it. So 1,500 follows over one connection.
 */
describe('TypeScript client: many streams over one connection', function () {
  this.timeout(60_000);
  const FOLLOWS = 1500;
  const AT_ONCE = 50;
  let server: TestServer;
  let client: Client;
  before(async () => {
    server = await startTestServer();
    client = new Client(server.address, { userId: USER });
  });
  after(async () => {
    client.close();
    await server.close();
  });

  /** Runs `follow` FOLLOWS times, AT_ONCE at a time; every one must succeed. */
  async function repeatedly(follow: () => Promise<void>) {
    for (let i = 0; i < FOLLOWS; i += AT_ONCE) await Promise.all(Array.from({ length: AT_ONCE }, follow));
  }

  it('follows a task to its end 1,500 times through updates()', async () => {
    const run = await client.execute('sleep', { seconds: 0.05 }, { budgetSeconds: 0.001 });
    expect(run.backgrounded).to.equal(true);
    let terminal = 0;
    await repeatedly(async () => {
      for await (const update of client.updates(run.task.taskId))
        if (update.kind === UpdateKind.UPDATE_KIND_TERMINAL) terminal++;
    });
    expect(terminal).to.equal(FOLLOWS);
  });

  it('runs 1,500 ExecuteStream calls whose reader stops at the answer', async () => {
    let answers = 0;
    await repeatedly(async () => {
      for await (const event of client.executeStream('echo', { text: 'hi' })) {
        if (event.$case !== 'answer') continue;
        expect(event.value).to.include({ backgrounded: false, text: 'hi' });
        answers++;
        break;
      }
    });
    expect(answers).to.equal(FOLLOWS);
  });
});
