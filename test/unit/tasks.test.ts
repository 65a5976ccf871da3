import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { FailedPrecondition, InvalidArgument, TaskNotFound } from '../../src/core/errors.js';
import { FailureReason, TaskStatus } from '../../src/core/task.js';
import { echo } from '../../src/tools/examples.js';
import { eventually, Gate, makeManager, origin } from '../helpers/core.js';

describe('TaskManager tasks', () => {
  async function background(h: ReturnType<typeof makeManager>, userId = 'alice', requestId?: string) {
    const result = await h.manager.execute({
      toolName: 'gate',
      argumentsJson: '',
      origin: origin(userId),
      budgetSeconds: 0.02,
      requestId,
    });
    expect(result.backgrounded).to.equal(true);
    return result.task;
  }

  describe('cancel', () => {
    it("fails a running task as cancelled and aborts the tool's signal", async () => {
      const gate = new Gate();
      const h = makeManager([gate.tool()]);
      const task = await background(h);
      const cancelled = await h.manager.cancel(task.taskId, 'alice');
      expect(cancelled).to.include({ status: TaskStatus.Failed, failureReason: FailureReason.Cancelled });
      expect(gate.contexts[0].signal.aborted).to.equal(true);
      expect(gate.contexts[0].signal.reason.reason).to.equal(FailureReason.Cancelled);
      gate.release('ignored');
      await sleep(10);
      expect((await h.manager.get(task.taskId, '')).status).to.equal(TaskStatus.Failed);
      await h.close();
    });

    it('is idempotent for a cancelled task and refuses a completed one with FAILED_PRECONDITION', async () => {
      const gate = new Gate();
      const h = makeManager([gate.tool()]);
      const a = await background(h);
      await h.manager.cancel(a.taskId, '');
      expect((await h.manager.cancel(a.taskId, '')).failureReason).to.equal(FailureReason.Cancelled);
      const b = await background(h);
      gate.release();
      await eventually(async () => (await h.manager.get(b.taskId, '')).status === TaskStatus.Completed);
      const err = await h.manager.cancel(b.taskId, '').catch((e) => e);
      expect(err).to.be.instanceOf(FailedPrecondition);
      expect(err.message).to.contain('already completed');
      await h.close();
    });
  });

  describe('ownership', () => {
    it("hides another user's task exactly like a missing one, for every operation", async () => {
      const gate = new Gate();
      const h = makeManager([gate.tool()]);
      const task = await background(h, 'alice');
      const missing = '00000000-0000-0000-0000-000000000000';
      for (const id of [task.taskId, missing]) {
        const errors = await Promise.all([
          h.manager.get(id, 'bob').catch((e) => e),
          h.manager.cancel(id, 'bob').catch((e) => e),
          h.manager.setRedirect(id, 'bob', { channelId: 'c', platform: 'slack', maxChars: 0 }).catch((e) => e),
          h.manager
            .watch(id, { userId: 'bob', signal: new AbortController().signal })
            .next()
            .catch((e) => e),
        ]);
        for (const err of errors) {
          expect(err).to.be.instanceOf(TaskNotFound);
          expect(err.message).to.equal(`task ${id} not found`);
        }
      }
      expect((await h.manager.get(task.taskId, 'alice')).status).to.equal(TaskStatus.Running);
      expect((await h.manager.get(task.taskId, '')).userId).to.equal('alice');
      await h.close();
    });

    it('rejects malformed ids with INVALID_ARGUMENT before touching the store', async () => {
      const h = makeManager([echo]);
      for (const [id, user] of [
        ['bad id!', ''],
        ['a:b', ''],
        ['{x}', ''],
        ['', ''],
        ['ok-id', 'u:1'],
        ['ok-id', 'u\n1'],
      ]) {
        const err = await h.manager.get(id, user).catch((e) => e);
        expect(err, `${id} / ${user}`).to.be.instanceOf(InvalidArgument);
      }
      await h.close();
    });
  });

  describe('idempotency', () => {
    it('returns the same task for the same (user_id, request_id) and runs the tool once', async () => {
      const gate = new Gate();
      const h = makeManager([gate.tool()]);
      const first = await background(h, 'alice', 'req-1');
      const again = await h.manager.execute({
        toolName: 'gate',
        argumentsJson: '',
        origin: origin('alice'),
        budgetSeconds: 0.02,
        requestId: 'req-1',
      });
      expect(again.task.taskId).to.equal(first.taskId);
      expect(again.backgrounded).to.equal(true);
      expect(gate.calls).to.equal(1);
      const otherUser = await background(h, 'bob', 'req-1');
      expect(otherUser.taskId).to.not.equal(first.taskId);
      expect(gate.calls).to.equal(2);
      await h.close();
    });

    it('answers a retry of a finished call with the stored outcome inline', async () => {
      const h = makeManager([echo]);
      const call = { toolName: 'echo', argumentsJson: '{"text":"once"}', origin: origin(), requestId: 'r-2' };
      const first = await h.manager.execute(call);
      const retry = await h.manager.execute({ ...call, argumentsJson: '{"text":"twice"}' });
      expect(first.backgrounded).to.equal(false);
      expect(retry).to.deep.include({ backgrounded: false, text: 'once' });
      expect(retry.task.taskId).to.equal(first.task.taskId);
      await h.close();
    });

    it('lets concurrent retries share one run', async () => {
      const gate = new Gate();
      const h = makeManager([gate.tool()]);
      const call = { toolName: 'gate', argumentsJson: '', origin: origin(), budgetSeconds: 2, requestId: 'r-3' };
      const both = Promise.all([h.manager.execute(call), h.manager.execute(call)]);
      await eventually(() => gate.calls === 1);
      gate.release('shared');
      const [a, b] = await both;
      expect(gate.calls).to.equal(1);
      expect(a.text).to.equal('shared');
      expect(b.text).to.equal('shared');
      await h.close();
    });
  });

  describe('list', () => {
    it('lists newest first, per user or for all, with filters', async () => {
      const gate = new Gate();
      const h = makeManager([gate.tool(), gate.tool('other')]);
      const a1 = await background(h, 'alice');
      const b1 = await background(h, 'bob');
      const a2 = await background(h, 'alice');
      await h.manager.cancel(a1.taskId, '');
      const alice = await h.manager.list({ userId: 'alice' });
      expect(alice.tasks.map((t) => t.taskId)).to.deep.equal([a2.taskId, a1.taskId]);
      expect(alice.nextCursor).to.equal(undefined);
      const all = await h.manager.list({ userId: '' });
      expect(all.tasks.map((t) => t.taskId)).to.deep.equal([a2.taskId, b1.taskId, a1.taskId]);
      const failed = await h.manager.list({ userId: '', status: TaskStatus.Failed });
      expect(failed.tasks.map((t) => t.taskId)).to.deep.equal([a1.taskId]);
      expect((await h.manager.list({ userId: '', toolName: 'other' })).tasks).to.have.length(0);
      await h.close();
    });

    it('paginates with tokens that stay stable while new tasks arrive', async () => {
      const gate = new Gate();
      const h = makeManager([gate.tool()]);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.unshift((await background(h, 'carol')).taskId);
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await h.manager.list({ userId: 'carol', pageSize: 3, pageToken: token });
        seen.push(...page.tasks.map((t) => t.taskId));
        token = page.nextCursor;
        pages++;
        await background(h, 'carol'); // a newer task must not shift later pages
      } while (token);
      expect(pages).to.equal(3);
      expect(seen).to.deep.equal(ids);
      await h.close();
    });

    it('rejects a forged page token and a negative page size; caps large pages', async () => {
      const gate = new Gate();
      const h = makeManager([gate.tool()], { limits: { maxPageSize: 2 } });
      for (let i = 0; i < 3; i++) await background(h, 'dave');
      for (const pageToken of [
        'garbage',
        Buffer.from('mem1:abc').toString('base64url'),
        Buffer.from('other:5').toString('base64url'),
      ]) {
        const err = await h.manager.list({ userId: '', pageToken }).catch((e) => e);
        expect(err).to.be.instanceOf(InvalidArgument);
        expect(err.field).to.equal('page_token');
      }
      const negative = await h.manager.list({ userId: '', pageSize: -1 }).catch((e) => e);
      expect(negative).to.be.instanceOf(InvalidArgument);
      expect((await h.manager.list({ userId: '', pageSize: 1000 })).tasks).to.have.length(2);
      await h.close();
    });
  });

  describe('shutdown', () => {
    it('lets inline calls finish, then fails background tasks as shutdown', async () => {
      const gate = new Gate();
      const inlineGate = new Gate();
      const h = makeManager([gate.tool(), inlineGate.tool('inline_gate')]);
      const bg = await background(h);
      const inline = h.manager.execute({
        toolName: 'inline_gate',
        argumentsJson: '',
        origin: origin(),
        budgetSeconds: 2,
      });
      await eventually(() => inlineGate.calls === 1);
      const stopped = h.manager.shutdown(2000);
      await sleep(50);
      inlineGate.release('made it');
      expect((await inline).text).to.equal('made it');
      await stopped;
      const task = await h.manager.get(bg.taskId, '');
      expect(task.failureReason).to.equal(FailureReason.Shutdown);
      expect(gate.contexts[0].signal.aborted).to.equal(true);
      expect(h.manager.runningHere).to.equal(0);
      await h.close();
    });
  });

  describe('retention', () => {
    it('forgets finished tasks after the retention period, but never running ones', async () => {
      const gate = new Gate();
      const h = makeManager([gate.tool()], { retentionMs: 50 });
      const done = await background(h, 'erin', 'rid');
      const running = await background(h, 'erin');
      await h.manager.cancel(done.taskId, '');
      await sleep(80);
      h.store.sweep();
      expect(await h.store.get(done.taskId)).to.equal(undefined);
      expect((await h.manager.list({ userId: 'erin' })).tasks.map((t) => t.taskId)).to.deep.equal([running.taskId]);
      // The idempotency key went with the task: the same request id runs anew.
      const again = await background(h, 'erin', 'rid');
      expect(again.taskId).to.not.equal(done.taskId);
      await h.close();
    });
  });
});
