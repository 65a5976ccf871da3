import { expect } from 'chai';
import type { TaskUpdate } from '../../src/core/await.js';
import { TaskStatus } from '../../src/core/task.js';
import { eventually, Gate, makeManager, origin } from '../helpers/core.js';
import { activeTimers } from '../helpers/resources.js';

describe('TaskManager.watch (AwaitResult)', () => {
  async function setup() {
    const gate = new Gate();
    const h = makeManager([gate.tool()]);
    const { task } = await h.manager.execute({
      toolName: 'gate',
      argumentsJson: '',
      origin: origin(),
      budgetSeconds: 0.02,
    });
    return { gate, h, task, ctx: gate.contexts[0] };
  }

  async function collect(iter: AsyncIterable<TaskUpdate>): Promise<TaskUpdate[]> {
    const out: TaskUpdate[] = [];
    for await (const u of iter) out.push(u);
    return out;
  }

  it('sends the snapshot, then each progress update, then the terminal state, and ends', async () => {
    const { gate, h, task, ctx } = await setup();
    const updates: TaskUpdate[] = [];
    const done = (async () => {
      for await (const u of h.manager.watch(task.taskId, { userId: 'alice', signal: new AbortController().signal })) {
        updates.push(u);
        if (u.kind === 'snapshot') ctx.progress(0.5, 'half');
        if (u.kind === 'progress') gate.release('result');
      }
    })();
    await done;
    expect(updates.map((u) => u.kind)).to.deep.equal(['snapshot', 'progress', 'terminal']);
    expect(updates[1].task.progress?.message).to.equal('half');
    expect(updates[2].task).to.include({ status: TaskStatus.Completed, result: 'result' });
    await h.close();
  });

  it('answers a finished task with one terminal message', async () => {
    const { gate, h, task } = await setup();
    gate.release('x');
    await eventually(async () => (await h.manager.get(task.taskId, '')).status === TaskStatus.Completed);
    const updates = await collect(h.manager.watch(task.taskId, { userId: '', signal: new AbortController().signal }));
    expect(updates.map((u) => u.kind)).to.deep.equal(['terminal']);
    await h.close();
  });

  it('ends with wait_timed_out while the task keeps running, and sends heartbeats meanwhile', async () => {
    const { h, task } = await setup();
    const updates = await collect(
      h.manager.watch(task.taskId, {
        userId: '',
        timeoutSeconds: 0.55,
        heartbeatSeconds: 0.1,
        signal: new AbortController().signal,
      }),
    );
    const kinds = updates.map((u) => u.kind);
    expect(kinds[0]).to.equal('snapshot');
    expect(kinds.at(-1)).to.equal('wait_timed_out');
    // At most one a heartbeat period (5 fit in the wait); at least 2, even if a loaded machine stalls
    // the loop for a couple of periods.
    expect(kinds.filter((k) => k === 'heartbeat').length).to.be.within(2, 5);
    expect(updates.at(-1)!.task.status).to.equal(TaskStatus.Running);
    expect((await h.manager.get(task.taskId, '')).status).to.equal(TaskStatus.Running);
    await h.close();
  });

  it('gives a slow reader the latest state instead of a backlog', async () => {
    const { gate, h, task, ctx } = await setup();
    const iter = h.manager.watch(task.taskId, { userId: '', signal: new AbortController().signal });
    expect((await iter.next()).value.kind).to.equal('snapshot');
    for (let i = 1; i <= 10_000; i++) ctx.progress(i / 10_000, `step ${i}`);
    await eventually(async () => (await h.manager.get(task.taskId, '')).progress?.message === 'step 10000');
    const next = (await iter.next()).value as TaskUpdate;
    expect(next.task.progress?.message).to.equal('step 10000');
    gate.release('end');
    expect(((await iter.next()).value as TaskUpdate).kind).to.equal('terminal');
    expect((await iter.next()).done).to.equal(true);
    await h.close();
  });

  it('releases its subscription and timer at once when the caller aborts mid-wait', async () => {
    const { h, task } = await setup();
    const timersBefore = activeTimers();
    const listenersBefore = h.store.listenerCount;
    const caller = new AbortController();
    const iter = h.manager.watch(task.taskId, { userId: '', heartbeatSeconds: 60, signal: caller.signal });
    await iter.next();
    const pending = iter.next(); // now parked waiting for a change
    await eventually(() => h.store.listenerCount === listenersBefore + 1);
    caller.abort();
    expect((await pending).done).to.equal(true);
    expect(h.store.listenerCount).to.equal(listenersBefore);
    expect(activeTimers()).to.equal(timersBefore);
    await h.close();
  });

  it('releases its subscription when the consumer stops iterating early', async () => {
    const { h, task } = await setup();
    const listenersBefore = h.store.listenerCount;
    for await (const u of h.manager.watch(task.taskId, { userId: '', signal: new AbortController().signal })) {
      expect(u.kind).to.equal('snapshot');
      break;
    }
    expect(h.store.listenerCount).to.equal(listenersBefore);
    await h.close();
  });
});
