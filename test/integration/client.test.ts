import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  Client,
  FailureReason,
  InvalidArgumentError,
  NotFoundError,
  TaskFailedError,
  TaskStatus,
  UnauthenticatedError,
  UnavailableError,
  UpdateKind,
  VERSION,
} from '../../src/client/index.js';
import { backoffMs } from '../../src/client/retry.js';
import { STATUS_WAIT_MS } from '../../src/client/streams.js';
import { Task } from '../../gen/ts/taskmanager/v1/task.js';
import { TaskServiceService } from '../../gen/ts/taskmanager/v1/task_service.js';
import { eventually } from '../helpers/eventually.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const user = () => `ts-${Math.random().toString(36).slice(2)}`;

/** The TypeScript client (src/client) against a real server over loopback. */
describe('TypeScript client', () => {
  let server: TestServer;
  let client: Client;

  before(async () => {
    server = await startTestServer();
    client = new Client(server.address);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it(
    'returns an inline result, ' + 'or a handle for a backgrounded task whose updates run to the terminal one',
    async () => {
      const userId = user();
      const inline = await client.execute('echo', { text: 'hi' }, { userId });
      expect(inline.backgrounded).to.equal(false);
      expect(inline.text).to.equal('hi');
      expect(inline.task.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);

      const slow = await client.execute('sleep', { seconds: 0.6 }, { userId, budgetSeconds: 0.05 });
      if (!slow.backgrounded) throw new Error('sleep 0.6 s with a 0.05 s budget should background');
      expect(slow.handle.taskId).to.equal(slow.task.taskId).and.not.empty;
      expect(JSON.parse(slow.text)).to.include({ task_id: slow.task.taskId });
      const kinds: UpdateKind[] = [];
      for await (const update of slow.handle.updates()) kinds.push(update.kind);
      expect(kinds[0]).to.equal(UpdateKind.UPDATE_KIND_SNAPSHOT);
      expect(kinds).to.include(UpdateKind.UPDATE_KIND_PROGRESS);
      expect(kinds.at(-1)).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
      expect(await slow.handle.result()).to.equal('slept 0.6 s');
      expect((await slow.handle.get()).task.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
    },
  );

  it('raises TaskFailedError with the reason when the awaited task failed (cancelled here)', async () => {
    // timeoutSeconds: the deprecated name of budgetSeconds, still honoured.
    const slow = await client.execute('sleep', { seconds: 30 }, { userId: user(), timeoutSeconds: 0.01 });
    if (!slow.backgrounded) throw new Error('expected a background task');
    const cancelled = await slow.handle.cancel();
    expect(cancelled.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    const err = await slow.handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TaskFailedError);
    expect((err as TaskFailedError).reason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    expect((err as TaskFailedError).message).to.include('cancelled');
  });

  it("maps status codes to typed errors that keep the server's message", async () => {
    const missing = await client.get('task_00000000000000000000').catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(NotFoundError);
    expect((missing as NotFoundError).code).to.equal(status.NOT_FOUND);
    const bad = await client.execute('sleep', { seconds: 'long' }).catch((e: unknown) => e);
    expect(bad).to.be.instanceOf(InvalidArgumentError);
    expect((bad as InvalidArgumentError).details).to.include('seconds');
    expect((bad as InvalidArgumentError).reason).to.equal('InvalidArgument');
  });

  it("pages through a user's tasks with listAll", async () => {
    const userId = user();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const run = await client.execute('sleep', { seconds: 0.01 }, { userId, requestId: `r${i}-${userId}` });
      ids.add(run.task.taskId);
    }
    const seen: string[] = [];
    for await (const task of client.listAll({ userId, pageSize: 2 })) seen.push(task.taskId);
    expect(new Set(seen)).to.deep.equal(ids);
    expect(seen).to.have.length(5);
  });

  it('stops an update stream when its signal aborts', async () => {
    const slow = await client.execute('sleep', { seconds: 30 }, { userId: user(), budgetSeconds: 0.01 });
    if (!slow.backgrounded) throw new Error('expected a background task');
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(), 200);
    const outcome = await (async () => {
      for await (const update of slow.handle.updates({ signal: stop.signal })) void update;
    })().then(
      () => 'ended',
      (e: unknown) => e,
    );
    expect(Date.now() - started).to.be.lessThan(2000);
    expect(outcome === 'ended' || (outcome as { code?: number }).code === status.CANCELLED, String(outcome)).to.equal(
      true,
    );
    await slow.handle.cancel();
    await eventually(() => server.app.grpc.streams.total === 0);
  });

  it("tells the server's release apart from its own: serverInfo() and VERSION", async () => {
    expect(await client.serverInfo()).to.deep.equal({ version: VERSION, apiPackages: ['taskmanager.v1'] });
    expect(VERSION).to.match(/^\d+\.\d+\.\d+/);
  });

  it('sends its token: UnauthenticatedError without one, answers with it', async () => {
    const token = '0123456789abcdef0123';
    const secured = await startTestServer({ TASKSERVICE_AUTH_TOKENS: JSON.stringify({ t: { token, users: '*' } }) });
    const anonymous = new Client(secured.address, { retry: { attempts: 1 } });
    const authorized = new Client(secured.address, { token });
    try {
      expect(await anonymous.tools().catch((e: unknown) => e)).to.be.instanceOf(UnauthenticatedError);
      expect((await authorized.tools()).map((t) => t.name)).to.include('echo');
    } finally {
      anonymous.close();
      authorized.close();
      await secured.close();
    }
  });
});

describe('TypeScript client retries', () => {
  /** A TaskService that answers UNAVAILABLE `failures` times per method, then OK; counts the calls. */
  async function flakyServer(failures: number) {
    const calls = { getResult: 0, execute: 0 };
    const server = new Server();
    const unavailable = { code: status.UNAVAILABLE, details: 'try again' };
    server.addService(TaskServiceService, {
      getResult: (_call: unknown, callback: (err: unknown, res?: unknown) => void) =>
        ++calls.getResult <= failures
          ? callback(unavailable)
          : callback(null, { task: Task.fromPartial({ taskId: 't1' }), text: 'ok' }),
      execute: (_call: unknown, callback: (err: unknown, res?: unknown) => void) => {
        calls.execute++;
        callback(unavailable);
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return { calls, address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
  }

  it('retries UNAVAILABLE on safe calls with backoff, up to the attempts', async () => {
    const flaky = await flakyServer(2);
    const client = new Client(flaky.address, { retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } });
    try {
      expect((await client.get('t1')).text).to.equal('ok');
      expect(flaky.calls.getResult).to.equal(3);
    } finally {
      client.close();
      flaky.close();
    }
  });

  it('gives up after the attempts, and never retries an Execute without a request id', async () => {
    const flaky = await flakyServer(100);
    const client = new Client(flaky.address, { retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } });
    try {
      expect(await client.get('t1').catch((e: unknown) => e)).to.be.instanceOf(UnavailableError);
      expect(flaky.calls.getResult).to.equal(3);
      expect(await client.execute('echo', {}).catch((e: unknown) => e)).to.be.instanceOf(UnavailableError);
      expect(flaky.calls.execute).to.equal(1);
      expect(await client.execute('echo', {}, { requestId: 'k1' }).catch((e: unknown) => e)).to.be.instanceOf(
        UnavailableError,
      );
      expect(flaky.calls.execute).to.equal(4);
    } finally {
      client.close();
      flaky.close();
    }
  });

  it('resumes a dropped AwaitResult after the last version it yielded, yielding no state twice', async () => {
    const requests: { afterVersion?: string }[] = [];
    const server = new Server();
    server.addService(TaskServiceService, {
      awaitResult: (stream: {
        request: { afterVersion?: string };
        write(m: unknown): void;
        end(): void;
        emit(event: string, e: unknown): void;
      }) => {
        requests.push(stream.request);
        const update = (version: number, kind: UpdateKind, status: TaskStatus) => ({
          task: Task.fromPartial({ taskId: 't1', version: String(version), status }),
          text: '',
          sequence: '1',
          waitTimedOut: false,
          kind,
        });
        if (requests.length === 1) {
          stream.write(update(3, UpdateKind.UPDATE_KIND_SNAPSHOT, TaskStatus.TASK_STATUS_RUNNING));
          setTimeout(() => stream.emit('error', { code: status.UNAVAILABLE, details: 'replica restarting' }), 20);
          return;
        }
        stream.write(update(5, UpdateKind.UPDATE_KIND_TERMINAL, TaskStatus.TASK_STATUS_COMPLETED));
        stream.end();
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const client = new Client(`127.0.0.1:${port}`, { retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } });
    try {
      const versions: string[] = [];
      for await (const u of client.updates('t1')) versions.push(u.task!.version);
      expect(versions).to.deep.equal(['3', '5']);
      expect(requests.map((r) => r.afterVersion)).to.deep.equal([undefined, '3']);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('cancels a stream whose server never ends it after its terminal update, STATUS_WAIT_MS later', async () => {
    let cancelledAfterMs: number | undefined;
    const server = new Server();
    server.addService(TaskServiceService, {
      awaitResult: (stream: { write(m: unknown): void; on(event: string, f: () => void): void }) => {
        stream.write({
          task: Task.fromPartial({ taskId: 't1', version: '2', status: TaskStatus.TASK_STATUS_COMPLETED }),
          text: 'done',
          sequence: '1',
          waitTimedOut: false,
          kind: UpdateKind.UPDATE_KIND_TERMINAL,
        });
        const sentAt = performance.now();
        // Never ends the stream: only the client's cancel frees it.
        stream.on('cancelled', () => (cancelledAfterMs = performance.now() - sentAt));
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const client = new Client(`127.0.0.1:${port}`);
    try {
      const kinds: UpdateKind[] = [];
      for await (const u of client.updates('t1')) kinds.push(u.kind);
      expect(kinds).to.deep.equal([UpdateKind.UPDATE_KIND_TERMINAL]);
      // The follow is over at once; the stream stays open for the status until the bound, then is cancelled.
      expect(cancelledAfterMs).to.equal(undefined);
      await eventually(() => cancelledAfterMs !== undefined, { timeoutMs: STATUS_WAIT_MS + 2000 });
      expect(cancelledAfterMs).to.be.at.least(STATUS_WAIT_MS - 50);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('backs off exponentially within the cap, with equal jitter', () => {
    const policy = { attempts: 5, initialDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(policy, 1, () => 1)).to.equal(100);
    expect(backoffMs(policy, 3, () => 1)).to.equal(400);
    expect(backoffMs(policy, 10, () => 1)).to.equal(1000);
    expect(backoffMs(policy, 3, () => 0)).to.equal(200);
  });
});
