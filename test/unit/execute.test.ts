import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgument, ToolNotFound, Unavailable } from '../../src/core/errors.js';
import { FailureReason, TaskStatus } from '../../src/core/task.js';
import { defineTool } from '../../src/tools/define.js';
import { echo, fail, sleepTool } from '../../src/tools/examples.js';
import { eventually, Gate, makeManager, origin } from '../helpers/core.js';

describe('TaskManager.execute', () => {
  it('returns a tool that settles inside the budget inline, without writing to the store', async () => {
    const h = makeManager([echo]);
    const result = await h.manager.execute({ toolName: 'echo', argumentsJson: '{"text":"hi"}', origin: origin() });
    expect(result.backgrounded).to.equal(false);
    expect(result.text).to.equal('hi');
    expect(result.task.status).to.equal(TaskStatus.Completed);
    expect(h.store.size).to.equal(0);
    await h.close();
  });

  it('backgrounds a tool that outlives its budget and returns the envelope with the task id', async () => {
    const gate = new Gate();
    // A server default far from the call's budget, so that the upper bound below tells the two apart
    // with room to spare for a loaded machine.
    const h = makeManager([gate.tool()], { limits: { defaultBudgetSeconds: 10 } });
    const started = Date.now();
    const result = await h.manager.execute({
      toolName: 'gate',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 0.1,
    });
    expect(Date.now() - started).to.be.within(90, 3000);
    expect(result.backgrounded).to.equal(true);
    expect(result.task.status).to.equal(TaskStatus.Running);
    const envelope = JSON.parse(result.text);
    expect(envelope).to.include({ task_id: result.task.taskId, status: 'running', tool_name: 'gate' });
    expect(envelope.message).to.contain('check_task');
    gate.release('later');
    await eventually(async () => (await h.manager.get(result.task.taskId, 'alice')).status === TaskStatus.Completed);
    expect((await h.manager.get(result.task.taskId, '')).result).to.equal('later');
    await h.close();
  });

  it('keeps running a backgrounded tool exactly once (the tool is not restarted)', async () => {
    const gate = new Gate();
    const h = makeManager([gate.tool()]);
    const { task } = await h.manager.execute({
      toolName: 'gate',
      argumentsJson: '{}',
      origin: origin(),
      budgetSeconds: 0.05,
    });
    gate.release();
    await eventually(async () => (await h.manager.get(task.taskId, '')).status === TaskStatus.Completed);
    expect(h.manager.runningHere).to.equal(0);
    expect(gate.calls).to.equal(1);
    await h.close();
  });

  it('always awaits a no_background tool, whatever the budget', async () => {
    const slow = defineTool({
      name: 'slow_inline',
      description: 'x',
      parameters: { type: 'object' },
      noBackground: true,
      handler: async () => {
        await sleep(150);
        return 'finished';
      },
    });
    const h = makeManager([slow]);
    const result = await h.manager.execute({
      toolName: 'slow_inline',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 0.01,
    });
    expect(result.backgrounded).to.equal(false);
    expect(result.text).to.equal('finished');
    expect(h.store.size).to.equal(0);
    await h.close();
  });

  it('awaits a no_background tool to the end even when the call carries a request_id', async () => {
    const slow = defineTool({
      name: 'slow_tracked',
      description: 'x',
      parameters: { type: 'object' },
      noBackground: true,
      handler: async () => {
        await sleep(150);
        return 'tracked and finished';
      },
    });
    const h = makeManager([slow]);
    const call = {
      toolName: 'slow_tracked',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 0.01,
      requestId: 'nb-1',
    };
    const result = await h.manager.execute(call);
    expect(result).to.deep.include({ backgrounded: false, text: 'tracked and finished' });
    expect((await h.manager.execute(call)).task.taskId).to.equal(result.task.taskId);
    await h.close();
  });

  it('turns a throwing tool into FAILED / tool_error with its message', async () => {
    const sync = defineTool({
      name: 'sync_throw',
      description: 'x',
      parameters: { type: 'object' },
      handler: () => {
        throw new Error('sync boom');
      },
    });
    const h = makeManager([fail, sync]);
    const asyncResult = await h.manager.execute({
      toolName: 'fail',
      argumentsJson: '{"message":"boom"}',
      origin: origin(),
    });
    expect(asyncResult.task).to.include({
      status: TaskStatus.Failed,
      failureReason: FailureReason.ToolError,
      error: 'boom',
    });
    expect(asyncResult.text).to.equal('Error: boom');
    const syncResult = await h.manager.execute({ toolName: 'sync_throw', argumentsJson: '', origin: origin() });
    expect(syncResult.task.error).to.equal('sync boom');
    await h.close();
  });

  it('fails a background task as hard_timeout and aborts its signal even when the tool ignores it', async () => {
    const gate = new Gate();
    const h = makeManager([gate.tool('stubborn', { hardTimeout: 0.2 })]);
    const result = await h.manager.execute({
      toolName: 'stubborn',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 0.05,
    });
    await eventually(async () => (await h.manager.get(result.task.taskId, '')).status === TaskStatus.Failed);
    const task = await h.manager.get(result.task.taskId, '');
    expect(task.failureReason).to.equal(FailureReason.HardTimeout);
    expect(gate.contexts[0].signal.aborted).to.equal(true);
    expect(gate.contexts[0].signal.reason.reason).to.equal(FailureReason.HardTimeout);
    gate.release('too late');
    await sleep(10);
    expect((await h.manager.get(result.task.taskId, '')).status).to.equal(TaskStatus.Failed);
    await h.close();
  });

  it('names the unknown tool and lists the known ones', async () => {
    const h = makeManager([echo, sleepTool]);
    const err = await h.manager.execute({ toolName: 'nope', argumentsJson: '', origin: origin() }).catch((e) => e);
    expect(err).to.be.instanceOf(ToolNotFound);
    expect(err.message).to.equal('unknown tool "nope"; known tools: echo, sleep');
    await h.close();
  });

  for (const [args, message] of [
    ['[1,2]', 'arguments_json: must be a JSON object, like {"text": "hi"}'],
    ['{"text":', 'arguments_json: is not valid JSON'],
    ['{}', 'arguments_json: field "text" is required'],
    ['{"text": 5}', 'arguments_json: field "text" must be string'],
    ['{"text": "a", "extra": 1}', 'arguments_json: field "extra" is not allowed by the tool\'s schema'],
  ]) {
    it(`rejects arguments ${args} with INVALID_ARGUMENT naming the problem`, async () => {
      const h = makeManager([echo]);
      const err = await h.manager.execute({ toolName: 'echo', argumentsJson: args, origin: origin() }).catch((e) => e);
      expect(err).to.be.instanceOf(InvalidArgument);
      expect(err.message).to.contain(message);
      await h.close();
    });
  }

  for (const budgetSeconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`rejects timeout_seconds=${budgetSeconds}`, async () => {
      const h = makeManager([echo]);
      const call = { toolName: 'echo', argumentsJson: '{"text":"x"}', origin: origin(), budgetSeconds };
      const err = await h.manager.execute(call).catch((e) => e);
      expect(err).to.be.instanceOf(InvalidArgument);
      expect(err.field).to.equal('timeout_seconds');
      await h.close();
    });
  }

  it('caps the budget at the server maximum', async () => {
    const gate = new Gate();
    const h = makeManager([gate.tool()], { limits: { maxBudgetSeconds: 0.1 } });
    const started = Date.now();
    const result = await h.manager.execute({
      toolName: 'gate',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 60,
    });
    expect(result.backgrounded).to.equal(true);
    expect(Date.now() - started).to.be.below(5000); // far below the 60 s asked for; a loaded machine is slow

    await h.close();
  });

  it("backgrounds before the caller's own deadline so the caller still gets the task id", async () => {
    const gate = new Gate();
    const h = makeManager([gate.tool()]);
    const started = Date.now();
    const result = await h.manager.execute({
      toolName: 'gate',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 10,
      callerDeadline: Date.now() + 300,
    });
    expect(result.backgrounded).to.equal(true);
    // The deadline, not the 10 s budget, ended the wait. Exactly when (DEADLINE_MARGIN_MS before it) is
    // checked without a clock in 'resolveBudgetMs' below: a loaded machine can stretch this call past
    // 300 ms whatever the margin.
    expect(Date.now() - started).to.be.below(5000);
    await h.close();
  });

  it('aborts an untracked tool whose caller goes away before it settles', async () => {
    const gate = new Gate();
    const h = makeManager([gate.tool()]);
    const caller = new AbortController();
    const pending = h.manager.execute({
      toolName: 'gate',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 5,
      callerSignal: caller.signal,
    });
    await eventually(() => gate.calls === 1);
    caller.abort();
    const result = await pending;
    expect(result.task.failureReason).to.equal(FailureReason.Cancelled);
    expect(gate.contexts[0].signal.aborted).to.equal(true);
    expect(h.store.size).to.equal(0);
    await h.close();
  });

  it('stores progress reported before and after backgrounding', async () => {
    const gate = new Gate();
    const h = makeManager([gate.tool()]);
    const pending = h.manager.execute({ toolName: 'gate', argumentsJson: '', origin: origin(), budgetSeconds: 0.1 });
    await eventually(() => gate.calls === 1);
    gate.contexts[0].progress(0.25, 'early');
    const { task } = await pending;
    expect(task.progress).to.include({ fraction: 0.25, message: 'early' });
    gate.contexts[0].progress(7, 'clamped');
    await eventually(async () => (await h.manager.get(task.taskId, '')).progress?.message === 'clamped');
    expect((await h.manager.get(task.taskId, '')).progress?.fraction).to.equal(1);
    await h.close();
  });

  it('tells onProgress of the progress reported while the caller waits inline, and of none after', async () => {
    const gate = new Gate();
    const h = makeManager([gate.tool()]);
    const seen: string[] = [];
    const pending = h.manager.execute({
      toolName: 'gate',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 5,
      onProgress: (p) => seen.push(`${p.fraction} ${p.message}`),
    });
    await eventually(() => gate.calls === 1);
    gate.contexts[0].progress(0.5, 'half');
    gate.release('done');
    expect((await pending).text).to.equal('done');
    expect(seen).to.deep.equal(['0.5 half']);

    const slow = h.manager.execute({
      toolName: 'gate',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 0.05,
      onProgress: (p) => seen.push(`late ${p.message}`),
    });
    await eventually(() => gate.calls === 2);
    const { backgrounded, task } = await slow;
    expect(backgrounded).to.equal(true);
    gate.contexts[1].progress(0.9, 'after the answer');
    await eventually(async () => (await h.manager.get(task.taskId, '')).progress?.message === 'after the answer');
    expect(seen).to.deep.equal(['0.5 half']);
    gate.release();
    await h.close();
  });

  it('refuses new calls once shutdown has begun', async () => {
    const h = makeManager([echo]);
    await h.manager.shutdown(10);
    const err = await h.manager
      .execute({ toolName: 'echo', argumentsJson: '{"text":"x"}', origin: origin() })
      .catch((e) => e);
    expect(err).to.be.instanceOf(Unavailable);
    await h.close();
  });
});

describe('odd values from tools (found by the fuzz suite)', () => {
  const odd: [string, () => unknown][] = [
    ['a thrown BigInt', () => Promise.reject(10n)],
    ['a thrown Symbol', () => Promise.reject(Symbol('why'))],
    [
      'a thrown cyclic object',
      () => {
        const o: Record<string, unknown> = {};
        o.self = o;
        throw o;
      },
    ],
    ['a returned BigInt', () => 10n],
    ['a returned function', () => () => 1],
  ];
  for (const [label, handler] of odd) {
    it(`turns ${label} into an outcome instead of an unhandled rejection`, async () => {
      const h = makeManager([
        defineTool({ name: 'odd', description: '', parameters: { type: 'object' }, handler: handler as never }),
      ]);
      const result = await h.manager.execute({ toolName: 'odd', argumentsJson: '{}', origin: origin() });
      expect(result.backgrounded).to.equal(false);
      expect(result.text).to.be.a('string').and.not.equal('');
      await h.close();
    });
  }
});
