import { expect } from 'chai';
import { FailedPrecondition, InvalidArgument, Unavailable } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { TaskManager } from '../../src/core/manager.js';
import { noRedirects } from '../../src/core/redirect-port.js';
import { FailureReason, TaskStatus } from '../../src/core/task.js';
import { MemoryStore } from '../../src/store/memory.js';
import { CombinedCatalog } from '../../src/tools/catalog.js';
import { echo } from '../../src/tools/examples.js';
import { ToolRegistry } from '../../src/tools/registry.js';
import { WorkerHub } from '../../src/workers/hub.js';
import type { Registration, ToWorker, WorkerLink, WorkerToolSpec } from '../../src/workers/protocol.js';
import type { WorkerSession } from '../../src/workers/session.js';
import { eventually, LIMITS, origin } from '../helpers/core.js';

/** A worker played by the test: it records what the hub sends and answers when told. */
class FakeWorker implements WorkerLink {
  readonly received: ToWorker[] = [];
  closedWith?: Error | 'clean';
  session!: WorkerSession;
  /** Whether it answers each ping, as soon as the hub's send returns (as a live worker's reply would arrive). */
  answersPings = false;
  pongs = 0;

  send(message: ToWorker): void {
    this.received.push(message);
    if (message.kind === 'ping' && this.answersPings) {
      queueMicrotask(() => {
        this.pongs++;
        this.session.received({ kind: 'pong', sequence: message.sequence });
      });
    }
  }

  close(error?: Error): void {
    this.closedWith = error ?? 'clean';
  }

  invocations(): Extract<ToWorker, { kind: 'invocation' }>[] {
    return this.received.filter((m): m is Extract<ToWorker, { kind: 'invocation' }> => m.kind === 'invocation');
  }

  cancellations(): Extract<ToWorker, { kind: 'cancellation' }>[] {
    return this.received.filter((m): m is Extract<ToWorker, { kind: 'cancellation' }> => m.kind === 'cancellation');
  }

  answer(taskId: string, result: string): void {
    this.session.received({ kind: 'result', taskId, result });
  }
}

const spec = (name: string, extra: Partial<WorkerToolSpec> = {}): WorkerToolSpec => ({
  name,
  description: `${name} on a worker`,
  parametersJson: '{"type":"object","properties":{"n":{"type":"integer"}},"additionalProperties":false}',
  noBackground: false,
  concurrency: 0,
  ...extra,
});

function setup(keepalive = { pingMs: 1000, timeoutMs: 5000 }) {
  const registry = new ToolRegistry();
  registry.register(echo, 'example');
  const hub = new WorkerHub(registry.schemas, (name) => registry.get(name)?.source, keepalive, silentLogger);
  const store = new MemoryStore({ retentionMs: 60_000 });
  const manager = new TaskManager(store, new CombinedCatalog([registry, hub]), noRedirects, LIMITS, silentLogger);
  const connect = (registration: Partial<Registration> = {}) => {
    const worker = new FakeWorker();
    worker.session = hub.register(
      { workerName: 'fake', tools: [spec('work')], maxConcurrency: 0, ...registration },
      worker,
    );
    return worker;
  };
  return {
    hub,
    manager,
    store,
    connect,
    async close() {
      hub.close();
      await manager.shutdown(100);
      await store.close();
    },
  };
}

const run = (manager: TaskManager, args = '{}', budgetSeconds = 5) =>
  manager.execute({ toolName: 'work', argumentsJson: args, origin: origin(), budgetSeconds });

describe('WorkerHub', () => {
  it("answers inline with the worker's result, arguments validated and passed as JSON", async () => {
    const h = setup();
    const worker = h.connect();
    const call = run(h.manager, '{"n":3}');
    await eventually(() => worker.invocations().length === 1);
    const [invocation] = worker.invocations();
    expect(invocation).to.include({ toolName: 'work', argumentsJson: '{"n":3}' });
    expect(invocation!.origin).to.deep.equal(origin());
    expect(invocation!.hardTimeoutSeconds).to.be.within(29, 30);
    worker.answer(invocation!.taskId, 'three');
    const result = await call;
    expect(result).to.include({ backgrounded: false, text: 'three' });
    await h.close();
  });

  it('rejects bad arguments before any worker hears of them', async () => {
    const h = setup();
    const worker = h.connect();
    const err = await run(h.manager, '{"n":"x"}').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidArgument);
    expect(worker.invocations()).to.have.length(0);
    await h.close();
  });

  it('is UNAVAILABLE, naming the tool, when no worker hosting it is connected', async () => {
    const h = setup();
    const worker = h.connect();
    worker.session.lose('test');
    const err = await run(h.manager).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Unavailable);
    expect((err as Error).message)
      .to.contain('"work"')
      .and.contain('start a worker');
    await h.close();
  });

  it('fails the tasks of a lost worker WORKER_LOST and never sends them to another worker', async () => {
    const h = setup();
    const a = h.connect({ workerName: 'a' });
    const result = await run(h.manager, '{}', 0.05);
    expect(result.backgrounded).to.equal(true);
    const b = h.connect({ workerName: 'b' });
    a.session.lose('killed');
    await eventually(async () => (await h.store.get(result.task.taskId))?.status === TaskStatus.Failed);
    const task = await h.store.get(result.task.taskId);
    expect(task).to.include({ failureReason: FailureReason.WorkerLost });
    expect(task!.error).to.contain('"a"').and.contain('killed');
    expect(b.invocations()).to.have.length(0);
    expect(a.closedWith).to.be.instanceOf(Unavailable);
    await h.close();
  });

  it(
    "spreads calls over workers and never exceeds a worker's tool concurrency; " + 'extra calls wait their turn',
    async () => {
      const h = setup();
      const a = h.connect({ workerName: 'a', tools: [spec('work', { concurrency: 1 })] });
      const b = h.connect({ workerName: 'b', tools: [spec('work', { concurrency: 1 })] });
      const calls = [0, 1, 2, 3].map((n) => run(h.manager, `{"n":${n}}`));
      await eventually(() => a.invocations().length === 1 && b.invocations().length === 1);
      // Two calls wait: neither worker has room.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(a.invocations().length + b.invocations().length).to.equal(2);
      a.answer(a.invocations()[0]!.taskId, 'a1');
      await eventually(() => a.invocations().length === 2);
      expect(b.invocations()).to.have.length(1);
      b.answer(b.invocations()[0]!.taskId, 'b1');
      await eventually(() => b.invocations().length === 2);
      a.answer(a.invocations()[1]!.taskId, 'a2');
      b.answer(b.invocations()[1]!.taskId, 'b2');
      const texts = (await Promise.all(calls)).map((r) => r.text).sort();
      expect(texts).to.deep.equal(['a1', 'a2', 'b1', 'b2']);
      await h.close();
    },
  );

  it("honours a worker's max_concurrency across its tools", async () => {
    const h = setup();
    const worker = h.connect({ tools: [spec('work'), spec('other')], maxConcurrency: 1 });
    const first = run(h.manager);
    const second = h.manager.execute({ toolName: 'other', argumentsJson: '{}', origin: origin(), budgetSeconds: 5 });
    await eventually(() => worker.invocations().length === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(worker.invocations()).to.have.length(1);
    worker.answer(worker.invocations()[0]!.taskId, 'one');
    await eventually(() => worker.invocations().length === 2);
    worker.answer(worker.invocations()[1]!.taskId, 'two');
    expect([(await first).text, (await second).text].sort()).to.deep.equal(['one', 'two']);
    await h.close();
  });

  it('tells the worker to stop when the task is cancelled, and ignores its late answer', async () => {
    const h = setup();
    const worker = h.connect();
    const result = await run(h.manager, '{}', 0.05);
    const taskId = result.task.taskId;
    await h.manager.cancel(taskId, 'alice');
    await eventually(() => worker.cancellations().length === 1);
    expect(worker.cancellations()[0]).to.include({ taskId, reason: FailureReason.Cancelled });
    worker.answer(taskId, 'too late');
    const task = await h.store.get(taskId);
    expect(task).to.include({ status: TaskStatus.Failed, failureReason: FailureReason.Cancelled });
    await h.close();
  });

  it('passes progress through to the task', async () => {
    const h = setup();
    const worker = h.connect();
    const result = await run(h.manager, '{}', 0.05);
    const taskId = result.task.taskId;
    worker.session.received({ kind: 'progress', taskId, fraction: 0.5, message: 'half' });
    await eventually(async () => (await h.store.get(taskId))?.progress?.message === 'half');
    expect((await h.store.get(taskId))!.progress!.fraction).to.equal(0.5);
    worker.answer(taskId, 'done');
    await eventually(async () => (await h.store.get(taskId))?.status === TaskStatus.Completed);
    await h.close();
  });

  it('loses a worker that stops answering pings', async () => {
    const h = setup({ pingMs: 20, timeoutMs: 100 });
    const worker = h.connect();
    const call = run(h.manager);
    await eventually(() => worker.invocations().length === 1);
    const answer = await call;
    expect(answer.task).to.include({ status: TaskStatus.Failed, failureReason: FailureReason.WorkerLost });
    expect(answer.text).to.contain('keepalive');
    expect(worker.received.some((m) => m.kind === 'ping')).to.equal(true);
    await h.close();
  });

  it('keeps a worker that answers pings', async () => {
    // The timeout leaves room for a loaded machine's stalls between a ping and its pong; the wait below
    // lasts several timeouts, long past the point where a worker whose pongs did not count is lost.
    const keepalive = { pingMs: 20, timeoutMs: 250 };
    const h = setup(keepalive);
    const worker = h.connect();
    worker.answersPings = true;
    const connectedAt = Date.now();
    await eventually(() => {
      if (!worker.session.isOpen) throw new Error(`worker lost after ${worker.pongs} answered pings`);
      return Date.now() - connectedAt > 3 * keepalive.timeoutMs && worker.pongs > 5;
    });
    expect(worker.session.isOpen).to.equal(true);
    await h.close();
  });

  it('turns away registrations that are malformed or clash, naming the field', () => {
    const h = setup();
    const attempt = (registration: Partial<Registration>) => {
      try {
        h.connect(registration);
        return undefined;
      } catch (err) {
        return err as Error;
      }
    };
    const cases: [Partial<Registration>, typeof InvalidArgument | typeof FailedPrecondition, string][] = [
      [{ tools: [] }, InvalidArgument, 'register.tools'],
      [{ tools: [spec('Bad-Name')] }, InvalidArgument, 'register.tools[0].name'],
      [{ tools: [spec('work'), spec('work')] }, InvalidArgument, 'appears twice'],
      [
        { tools: [spec('work', { parametersJson: '{' })] },
        InvalidArgument,
        'parameters_json_schema: is not valid JSON',
      ],
      [
        { tools: [spec('work', { parametersJson: '{"type":"nonsense"}' })] },
        InvalidArgument,
        'not a valid JSON Schema',
      ],
      [{ tools: [spec('work', { concurrency: -1 })] }, InvalidArgument, 'register.tools[0].concurrency'],
      [{ maxConcurrency: 1.5 }, InvalidArgument, 'register.max_concurrency'],
      [{ tools: [spec('echo')] }, FailedPrecondition, 'already exists on this server (source: example)'],
    ];
    for (const [registration, type, text] of cases) {
      const err = attempt(registration);
      expect(err, text).to.be.instanceOf(type);
      expect(err!.message).to.contain(text);
    }
    h.connect();
    const clash = attempt({ tools: [spec('work', { noBackground: true })] });
    expect(clash).to.be.instanceOf(FailedPrecondition);
    expect(clash!.message).to.contain('same way');
    // A different concurrency is each worker's own business.
    expect(attempt({ tools: [spec('work', { concurrency: 4 })] })).to.equal(undefined);
    return h.close();
  });

  it(
    'lists worker tools with their source and worker count, ' + 'and keeps a tool known after its workers leave',
    async () => {
      const h = setup();
      const a = h.connect();
      h.connect();
      const listed = h.manager.listTools().find((t) => t.name === 'work')!;
      expect(listed.source).to.equal('worker');
      expect(listed.workerCount!()).to.equal(2);
      a.session.lose('test');
      expect(listed.workerCount!()).to.equal(1);
      h.hub.close();
      expect(h.manager.listTools().find((t) => t.name === 'work')!.workerCount!()).to.equal(0);
      await h.close();
    },
  );
});
