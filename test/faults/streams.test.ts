import { credentials, Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createServer, type Server, Socket } from 'node:net';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { AwaitResultResponse, TaskServiceClient, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { defineTool } from '../../src/tools/define.js';
import { eventually } from '../helpers/core.js';
import { call, startTestServer } from '../helpers/server.js';

const UPDATES = 10_000;
const base = { userId: 'u', channelId: '', platform: '', requestId: '' };

/** A tool that reports progress as fast as it can, then waits until the test lets it finish. */
function chattyTool(gate: Promise<void>) {
  return defineTool({
    name: 'chatty',
    description: `reports ${UPDATES} progress updates, then waits`,
    parameters: { type: 'object' },
    async handler(_args, ctx) {
      for (let i = 1; i <= UPDATES; i++) {
        ctx.progress(i / UPDATES, `update ${i}`);
        if (i % 100 === 0) await yieldToLoop();
      }
      await gate;
      return 'chatty done';
    },
  });
}

/** A loopback TCP proxy that can go silent: it stops forwarding in both directions without closing anything. */
class FreezableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private frozen = false;
  port = 0;

  constructor(targetPort: number) {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.on('data', (chunk) => !this.frozen && upstream.write(chunk));
      upstream.on('data', (chunk) => !this.frozen && client.write(chunk));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  freeze(): void {
    this.frozen = true;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('streams under faults', function () {
  this.timeout(60_000);

  it(
    `a client that stops reading while a tool reports ${UPDATES} updates costs a bounded buffer, ` +
      `then gets the latest snapshot and the terminal one`,
    async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const server = await startTestServer({}, { tools: [chattyTool(gate)] });
      try {
        // Paused from its first message on: nothing more is read until resume().
        const started = await call(server.client.execute, server.client, {
          ...base,
          toolName: 'chatty',
          argumentsJson: '{}',
          timeoutSeconds: 0.001,
        });
        const taskId = started.task!.taskId;
        const received: AwaitResultResponse[] = [];
        const stream = server.client.awaitResult({ taskId, userId: 'u', timeoutSeconds: 60 });
        const ended = new Promise<void>((resolve, reject) => {
          stream.on('end', resolve);
          stream.on('error', reject);
        });
        stream.on('data', (m: AwaitResultResponse) => {
          received.push(m);
          if (received.length === 1) stream.pause();
        });
        await eventually(() => received.length === 1);
        await eventually(
          async () =>
            (await call(server.client.getResult, server.client, { taskId, userId: 'u' })).task?.progress?.message ===
            `update ${UPDATES}`,
          20_000,
        );
        stream.resume();
        await eventually(() => received.at(-1)?.task?.progress?.message === `update ${UPDATES}`, 10_000);
        release();
        await ended;
        const last = received.at(-1)!;
        // Everything the server sent while the client did not read: what the HTTP/2 window took, plus
        // the one message waiting for 'drain'; the rest was coalesced into the latest snapshot.
        const bytes = received.reduce((n, m) => n + AwaitResultResponse.encode(m).finish().length, 0);
        console.log(
          `      FIGURE: ${UPDATES} progress updates while the client did not read: ${received.length} messages, ` +
            `${(bytes / 1024).toFixed(1)} KiB sent for the stream in all (bound 1 MiB); ` +
            `the last before the terminal was the latest snapshot`,
        );
        expect(last.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
        expect(last.text).to.equal('chatty done');
        expect(bytes).to.be.below(1024 * 1024);
        expect(received.length).to.be.below(UPDATES / 10);
      } finally {
        release();
        await server.close();
      }
    },
  );

  it('a client that stops reading while 8 MiB of output is written costs a bounded read; no byte lost', async () => {
    const PIECE = 4096;
    const PIECES = 2048;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const spew = defineTool({
      name: 'spew',
      description: `writes ${PIECES} pieces of ${PIECE} bytes, then waits`,
      parameters: { type: 'object' },
      async handler(_args, ctx) {
        for (let i = 0; i < PIECES; i++) {
          ctx.output(`${String(i).padStart(6, '0')}${'x'.repeat(PIECE - 7)}\n`);
          if (i % 16 === 0) await yieldToLoop();
        }
        await gate;
        return 'spewed';
      },
    });
    const server = await startTestServer({ TASKSERVICE_MAX_OUTPUT_BYTES: String(16 * 1024 * 1024) }, { tools: [spew] });
    // Counts what the stream reads of the output from the store, to show it stops while the client does not read.
    const store = server.app.store;
    const readOutput = store.readOutput.bind(store);
    let bytesRead = 0;
    store.readOutput = async (...args: Parameters<typeof readOutput>) => {
      const text = await readOutput(...args);
      bytesRead += Buffer.byteLength(text);
      return text;
    };
    try {
      const started = await call(server.client.execute, server.client, {
        ...base,
        toolName: 'spew',
        argumentsJson: '{}',
        timeoutSeconds: 0.001,
      });
      const taskId = started.task!.taskId;
      const received: AwaitResultResponse[] = [];
      const stream = server.client.awaitResult({ taskId, userId: 'u', timeoutSeconds: 60, outputOffset: '0' });
      const ended = new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      stream.on('data', (m: AwaitResultResponse) => {
        received.push(m);
        if (received.length === 1) stream.pause();
      });
      await eventually(() => received.length === 1);
      const total = PIECE * PIECES;
      await eventually(
        async () =>
          Number((await call(server.client.getResult, server.client, { taskId, userId: 'u' })).task?.outputBytes) ===
          total,
        20_000,
      );
      await new Promise((r) => setTimeout(r, 300));
      const readWhilePaused = bytesRead;
      stream.resume();
      await eventually(() =>
        received.some((m) => m.output && Number(m.output.offset) + m.output.text.length === total),
      );
      release();
      await ended;
      const output = received.flatMap((m) => (m.output ? [m.output.text] : [])).join('');
      console.log(
        `      FIGURE: ${(total / 1024 / 1024).toFixed(0)} MiB of output while the client did not read: ` +
          `the stream read ${(readWhilePaused / 1024).toFixed(0)} KiB of it from the store meanwhile ` +
          `(what the HTTP/2 window took plus one chunk), the rest after the client read again`,
      );
      expect(readWhilePaused).to.be.below(total * 0.4);
      expect(output.length).to.equal(total);
      expect(
        output
          .split('\n')
          .slice(0, -1)
          .map((line) => Number(line.slice(0, 6))),
      ).to.deep.equal(Array.from({ length: PIECES }, (_, i) => i));
      expect(received.at(-1)!.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
    } finally {
      release();
      await server.close();
    }
  });

  it(
    'frees the stream of a half-open client (a proxy that stops forwarding) ' + 'within keepalive time + timeout + 1 s',
    async () => {
      const server = await startTestServer({
        TASKSERVICE_KEEPALIVE_TIME_SECONDS: '1',
        TASKSERVICE_KEEPALIVE_TIMEOUT_SECONDS: '1',
      });
      const proxy = new FreezableProxy(Number(server.address.split(':')[1]));
      await proxy.listen();
      const client = new TaskServiceClient(`127.0.0.1:${proxy.port}`, credentials.createInsecure());
      try {
        const started = await call(server.client.execute, server.client, {
          ...base,
          toolName: 'sleep',
          argumentsJson: '{"seconds":60}',
          timeoutSeconds: 0.01,
        });
        const listenersBefore = server.app.store.listenerCount;
        const stream = client.awaitResult(
          { taskId: started.task!.taskId, userId: 'u', timeoutSeconds: 60 },
          new Metadata(),
        );
        stream.on('error', () => undefined);
        await new Promise((resolve) => stream.once('data', resolve));
        expect(server.app.grpc.streams.total).to.equal(1);
        proxy.freeze();
        const frozenAt = Date.now();
        await eventually(() => server.app.grpc.streams.total === 0, 10_000);
        const freedMs = Date.now() - frozenAt;
        await eventually(() => server.app.store.listenerCount === listenersBefore);
        console.log(
          `      FIGURE: half-open client: the server freed its AwaitResult stream ${freedMs} ms ` +
            `after the proxy went silent (bound 3000 ms = keepalive 1 s + timeout 1 s + 1 s)`,
        );
        expect(freedMs).to.be.below(3000);
        await call(server.client.cancelTask, server.client, { taskId: started.task!.taskId, userId: 'u' }).catch(
          () => undefined,
        );
      } finally {
        client.close();
        await proxy.close();
        await server.close();
      }
    },
  );
});
