import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunningLimits, type Slot } from '../../src/core/running-limits.js';
import { silentLogger } from '../../src/core/logger.js';
import type { OutputPiece } from '../../src/core/run-output.js';
import { CALLER_GONE, type RunOwner, ToolAbortReason, ToolRun } from '../../src/core/run.js';
import { FailureReason, type Outcome, TaskStatus } from '../../src/core/task.js';
import type { Tool, ToolContext } from '../../src/core/tool.js';

function tool(handler: Tool['handler']): Tool {
  return { name: 't', description: '', parameters: {}, noBackground: false, source: 'test', validate() {}, handler };
}

/** Records what the run tells its owner. */
class Owner implements RunOwner {
  readonly settledWith: Outcome[] = [];
  readonly progress: number[] = [];
  progressed(_run: ToolRun, progress: { fraction: number }): void {
    this.progress.push(progress.fraction);
  }
  settled(_run: ToolRun, outcome: Outcome): void {
    this.settledWith.push(outcome);
  }
  readonly questions: string[] = [];
  questionProblem(schemaJson: string): string | undefined {
    return schemaJson.startsWith('{') ? undefined : 'must be an object';
  }
  inputRequested(run: ToolRun): void {
    this.questions.push(run.question!.message);
  }
  readonly output: OutputPiece[] = [];
  outputWritten(_run: ToolRun, piece: OutputPiece): void {
    this.output.push(piece);
  }
}

function start(handler: Tool['handler'], extra: { hardTimeoutMs?: number; inputTimeoutMs?: number; slot?: Slot } = {}) {
  const owner = new Owner();
  const { slot } = extra;
  const run = new ToolRun(
    {
      taskId: 'task-1',
      tool: tool(handler),
      origin: { userId: 'u', channelId: 'c', platform: 'p' },
      hardTimeoutMs: extra.hardTimeoutMs ?? 30_000,
      inputTimeoutMs: extra.inputTimeoutMs ?? 30_000,
      maxResultBytes: 1024,
      maxOutputBytes: 2048,
      logger: silentLogger,
      owner,
      ...(slot && { slot }),
    },
    { x: 1 },
  );
  return { run, owner };
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('ToolRun', () => {
  it('settles a handler that returns at once before the constructor returns, with no timer left behind', () => {
    const before = timers();
    const { run, owner } = start((args) => `got ${JSON.stringify(args)}`);
    expect(run.settled).to.deep.equal({ status: TaskStatus.Completed, result: 'got {"x":1}' });
    expect(owner.settledWith).to.have.length(1);
    expect(timers()).to.equal(before);
  });

  it('turns a synchronous throw, a rejection and a non-Error rejection into failures', async () => {
    const thrown = start(() => {
      throw new Error('boom');
    });
    expect(thrown.run.settled).to.include({
      status: TaskStatus.Failed,
      reason: FailureReason.ToolError,
      error: 'boom',
    });
    const rejected = start(() => Promise.reject(new Error('later')));
    expect(await rejected.run.outcome).to.include({ status: TaskStatus.Failed, error: 'later' });
    const odd = start(() => Promise.reject({ code: 7 }));
    expect(await odd.run.outcome).to.include({ status: TaskStatus.Failed, error: '{"code":7}' });
  });

  it('makes the signal only when the tool asks, and hands out an aborted one after an abort', async () => {
    let ctx: ToolContext | undefined;
    const { run, owner } = start((_args, c) => {
      ctx = c;
      return new Promise(() => {});
    });
    expect(run.abort(FailureReason.Cancelled, 'stop')).to.equal(true);
    expect(run.abort(FailureReason.Shutdown, 'again')).to.equal(false);
    expect(ctx!.signal.aborted).to.equal(true);
    expect(ctx!.signal.reason).to.be.instanceOf(ToolAbortReason).and.include({ reason: FailureReason.Cancelled });
    expect(await run.outcome).to.deep.equal({
      status: TaskStatus.Failed,
      reason: FailureReason.Cancelled,
      error: 'stop',
    });
    expect(owner.settledWith).to.have.length(1);
  });

  it('aborts a signal already handed out, first reason winning over the handler settling afterwards', async () => {
    const { run } = start(
      (_args, ctx) =>
        new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('too late'), { once: true })),
    );
    run.abort(FailureReason.Shutdown, 'the server shut down');
    await sleep(1);
    expect(run.settled).to.include({ status: TaskStatus.Failed, reason: FailureReason.Shutdown });
  });

  it('fails at the hard limit even when the tool ignores its signal', async () => {
    const { run } = start(() => new Promise(() => {}), { hardTimeoutMs: 20 });
    expect(await run.outcome).to.include({ status: TaskStatus.Failed, reason: FailureReason.HardTimeout });
  });

  it('waits up to a budget, for the caller, or for the outcome, and leaves no timer or listener behind', async () => {
    let finish: (value: string) => void = () => {};
    const { run } = start(() => new Promise<string>((resolve) => (finish = resolve)));
    const caller = new AbortController();
    await sleep(0); // mocha's own timeout timer starts once the test is under way
    const before = timers();
    expect(await run.waitFor(10, caller.signal)).to.equal(undefined);
    expect(getEventListeners(caller.signal, 'abort')).to.have.length(0);
    expect(timers()).to.equal(before);

    const waiting = run.waitFor(10_000, caller.signal);
    caller.abort();
    expect(await waiting).to.equal(CALLER_GONE);
    expect(timers()).to.equal(before);

    const third = run.waitFor(10_000);
    finish('done');
    expect(await third).to.deep.equal({ status: TaskStatus.Completed, result: 'done' });
    expect(await run.waitFor(0)).to.deep.equal({ status: TaskStatus.Completed, result: 'done' });
  });

  it(
    'passes progress to its owner while running and ignores it afterwards; ' + 'a destructured progress works',
    async () => {
      let report: ToolContext['progress'] = () => {};
      let finish: () => void = () => {};
      const { run, owner } = start((_args, ctx) => {
        ({ progress: report } = ctx);
        report(2);
        return new Promise<string>((resolve) => (finish = () => resolve('ok')));
      });
      report(0.5, 'half');
      expect(run.progress).to.include({ fraction: 0.5, message: 'half' });
      finish();
      await run.outcome;
      report(0.9);
      expect(owner.progress).to.deep.equal([1, 0.5]);
    },
  );

  it('gives its slot back when it settles, however it settles', async () => {
    const limits = new RunningLimits(10, 10);
    start(() => 'now', { slot: await limits.take('u') });
    expect(limits.running).to.equal(0);
    const { run } = start(() => new Promise(() => {}), { slot: await limits.take('u') });
    expect(limits.running).to.equal(1);
    run.abort(FailureReason.Cancelled, 'stop');
    expect(limits.running).to.equal(0);
  });

  describe('questions (ctx.requestInput)', () => {
    const question = { message: 'Sure?', schema: { type: 'object' } };

    it('tells its owner, ends an inline wait at once, and resumes the tool with the answer', async () => {
      const { run, owner } = start(async (_args, ctx) => `got ${JSON.stringify(await ctx.requestInput(question))}`);
      expect(await run.waitFor(10_000)).to.equal(undefined);
      expect(owner.questions).to.deep.equal(['Sure?']);
      expect(run.question).to.include({ id: 'input-1', message: 'Sure?', schemaJson: '{"type":"object"}' });
      expect(run.answer('input-2', { ok: 1 }), 'not the open question').to.equal(false);
      expect(run.answer('input-1', { ok: 1 })).to.equal(true);
      expect(run.question).to.equal(undefined);
      expect(await run.outcome).to.deep.equal({ status: TaskStatus.Completed, result: 'got {"ok":1}' });
    });

    it('interrupts a wait already under way', async () => {
      let ask: () => void = () => {};
      const { run } = start(
        (_args, ctx) =>
          new Promise<string>((resolve, reject) => {
            ask = () => void ctx.requestInput(question).then(() => resolve('x'), reject);
          }),
      );
      const waiting = run.waitFor(10_000);
      ask();
      expect(await waiting).to.equal(undefined);
      run.abort(FailureReason.Cancelled, 'stop');
      expect(await run.outcome).to.include({ reason: FailureReason.Cancelled });
    });

    it('rejects the question on cancel with the reason, and fails INPUT_TIMEOUT when no answer comes', async () => {
      let rejected: unknown;
      const { run } = start(async (_args, ctx) => ctx.requestInput(question).catch((err: unknown) => (rejected = err)));
      run.abort(FailureReason.Cancelled, 'stop');
      await run.outcome;
      await Promise.resolve();
      expect(rejected).to.be.instanceOf(ToolAbortReason);
      const late = start(async (_args, ctx) => ctx.requestInput(question), { inputTimeoutMs: 30 });
      const outcome = await late.run.outcome;
      expect(outcome).to.include({ status: TaskStatus.Failed, reason: FailureReason.InputTimeout });
    });

    it('refuses a bad question, a second open question, and a question of a no_background tool', async () => {
      const errors: string[] = [];
      const record = (p: Promise<unknown>) => p.catch((err: Error) => errors.push(err.message));
      const { run } = start(async (_args, ctx) => {
        await record(ctx.requestInput({ message: '', schema: {} }));
        await record(ctx.requestInput({ message: 'x', schema: 'nope' as unknown as object }));
        void ctx.requestInput(question);
        await record(ctx.requestInput(question));
        return 'done';
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(errors).to.deep.equal([
        'ctx.requestInput: message must be a non-empty string',
        'ctx.requestInput: schema must be an object',
        'ctx.requestInput: a question is already waiting',
      ]);
      run.abort(FailureReason.Cancelled, 'stop');
      const owner = new Owner();
      const quiet = new ToolRun(
        {
          taskId: 't2',
          tool: { ...tool(async (_a, ctx) => ctx.requestInput(question)), noBackground: true },
          origin: { userId: 'u', channelId: '', platform: '' },
          hardTimeoutMs: 1000,
          inputTimeoutMs: 1000,
          maxResultBytes: 1024,
          maxOutputBytes: 2048,
          logger: silentLogger,
          owner,
        },
        {},
      );
      expect(await quiet.outcome).to.include({ error: 'ctx.requestInput: a no_background tool cannot wait for input' });
    });
  });
});
