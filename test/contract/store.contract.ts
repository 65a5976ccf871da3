import { expect } from 'chai';
import { FailedPrecondition, InvalidArgument, TaskNotFound } from '../../src/core/errors.js';
import type { NewTask, TaskStore } from '../../src/core/store.js';
import { DeliveryState, FailureReason, type TaskRecord, TaskStatus } from '../../src/core/task.js';
import { eventually } from '../helpers/eventually.js';
import type { StoreFactory, StoreUnderTest } from '../helpers/stores.js';

let counter = 0;
const draft = (over: Partial<NewTask> = {}): NewTask => ({
  taskId: `task-${Date.now()}-${++counter}`,
  toolName: 'sleep',
  userId: 'alice',
  channelId: 'c1',
  platform: 'slack',
  owner: 'test-instance',
  ...over,
});
const done = { status: TaskStatus.Completed, result: 'ok' } as const;
const cancelled = { status: TaskStatus.Failed, reason: FailureReason.Cancelled, error: 'stop' } as const;

/** The TaskStore contract: every store passes the same suite. */
export function storeContract(name: string, factory: StoreFactory): void {
  describe(`TaskStore contract: ${name}`, () => {
    let t: StoreUnderTest;
    beforeEach(async () => {
      t = await factory({ retentionMs: 60_000 });
    });
    afterEach(() => t.close());

    /** A draft whose id the store chose, as ExecuteFlow asks for one (a sharded store places claims by it). */
    const placed = (over: Partial<NewTask>, store: TaskStore = t.store) => {
      const d = draft(over);
      const taskId = store.taskIdFor?.(d.userId, d.requestId ?? '');
      return taskId ? { ...d, taskId } : d;
    };

    it('creates a running task and reads it back with every field', async () => {
      const d = placed({
        requestId: 'r1',
        redirect: { channelId: 'ch', platform: 'chat', maxChars: 10 },
        progress: { fraction: 0.5, message: 'half', updatedAt: Date.now() },
      });
      const { created, task } = await t.store.create(d);
      expect(created).to.equal(true);
      const read = (await t.store.get(d.taskId))!;
      expect(read).to.deep.equal(task);
      expect(read).to.include({
        taskId: d.taskId,
        toolName: 'sleep',
        status: TaskStatus.Running,
        userId: 'alice',
        channelId: 'c1',
        platform: 'slack',
        owner: 'test-instance',
        requestId: 'r1',
        version: 1,
      });
      expect(read.redirect).to.deep.equal({
        channelId: 'ch',
        platform: 'chat',
        maxChars: 10,
        state: DeliveryState.Pending,
        attempts: 0,
        lastError: '',
      });
      expect(read.progress).to.include({ fraction: 0.5, message: 'half' });
      expect(read.createdAt).to.be.closeTo(Date.now(), 5000);
      expect(await t.store.get('no-such-task')).to.equal(undefined);
    });

    it("keeps the tool's start time as created_at", async () => {
      const startedAt = Date.now() - 1500;
      const { task } = await t.store.create(draft({ startedAt }));
      expect(task.createdAt).to.be.closeTo(startedAt, 2);
    });

    it('returns the earlier task for a claimed (user_id, request_id), per user', async () => {
      const first = await t.store.create(placed({ requestId: 'same' }));
      const again = await t.store.create(placed({ requestId: 'same' }));
      expect(again.created).to.equal(false);
      expect(again.task.taskId).to.equal(first.task.taskId);
      const otherUser = await t.store.create(placed({ requestId: 'same', userId: 'bob' }));
      expect(otherUser.created).to.equal(true);
    });

    it('is safe to create the same task twice (a retried script)', async () => {
      const d = draft();
      await t.store.create(d);
      const second = await t.store.create(d);
      expect(second.task.taskId).to.equal(d.taskId);
      expect(
        (await t.store.list({ userId: 'alice', limit: 10 })).tasks.filter((x) => x.taskId === d.taskId),
      ).to.have.length(1);
    });

    it('turns a running task terminal exactly once, whoever tries, however many at once', async () => {
      const d = draft();
      await t.store.create(d);
      const attempts = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.store.finish(d.taskId, i % 2 ? cancelled : { ...done, result: `r${i}` }),
        ),
      );
      expect(attempts.filter((a) => a.applied)).to.have.length(1);
      const winner = attempts.find((a) => a.applied)!.task;
      for (const a of attempts) expect(a.task.status).to.equal(winner.status);
      const stored = (await t.store.get(d.taskId))!;
      expect(stored.status).to.equal(winner.status);
      expect(stored.finishedAt).to.be.a('number');
      await expectError(t.store.finish('no-such-task', done), TaskNotFound);
    });

    it('records progress while running and ignores it afterwards', async () => {
      const d = draft();
      await t.store.create(d);
      await t.store.setProgress(d.taskId, { fraction: 0.3, message: 'a', updatedAt: Date.now() });
      expect((await t.store.get(d.taskId))!.progress).to.include({ fraction: 0.3, message: 'a' });
      await t.store.finish(d.taskId, done);
      await t.store.setProgress(d.taskId, { fraction: 0.9, message: 'late', updatedAt: Date.now() });
      expect((await t.store.get(d.taskId))!.progress?.message).to.equal('a');
      await t.store.setProgress('no-such-task', { fraction: 1, message: '', updatedAt: Date.now() });
    });

    it(
      'grows the version with every change and tells subscribers, ' + 'in order, then stops when unsubscribed',
      async () => {
        const d = draft();
        await t.store.create(d);
        const seen: (TaskRecord | null)[] = [];
        const unsubscribe = t.store.subscribe(d.taskId, (task) => seen.push(task));
        expect(t.store.listenerCount).to.equal(1);
        await t.store.setProgress(d.taskId, { fraction: 0.1, message: 'p', updatedAt: Date.now() });
        await t.store.finish(d.taskId, done);
        await eventually(() => seen.length === 2);
        expect(seen.map((s) => s!.version)).to.deep.equal([2, 3]);
        expect(seen[1]!.status).to.equal(TaskStatus.Completed);
        unsubscribe();
        expect(t.store.listenerCount).to.equal(0);
      },
    );

    it('appends output in order, counts UTF-8 bytes, reads from any offset, ignores it once terminal', async () => {
      const d = draft();
      await t.store.create(d);
      expect(await t.store.readOutput(d.taskId, 0, 100), 'none yet').to.equal('');
      const piece = (offset: number, text: string, truncated = false) => ({ offset, text, truncated });
      await t.store.appendOutput(d.taskId, piece(0, 'añ'));
      await t.store.appendOutput(d.taskId, piece(3, '€😀z'));
      const task = (await t.store.get(d.taskId))!;
      expect(task.outputBytes).to.equal(Buffer.byteLength('añ€😀z'));
      expect(task.version, 'each append is a change').to.equal(3);
      expect(task.outputTruncated).to.equal(undefined);
      expect(await t.store.readOutput(d.taskId, 0, 100)).to.equal('añ€😀z');
      expect(await t.store.readOutput(d.taskId, 3, 100)).to.equal('€😀z');
      // A limit inside a character stops before it: 'a' (1) + 'ñ' (2) + '€' (3) = 6, the emoji is 4 more.
      expect(await t.store.readOutput(d.taskId, 0, 8)).to.equal('añ€');
      expect(await t.store.readOutput(d.taskId, 99, 10), 'past the end').to.equal('');
      // A retried write: what is stored already is not stored again, the rest is.
      await t.store.appendOutput(d.taskId, piece(3, '€😀z'));
      expect((await t.store.get(d.taskId))!.outputBytes).to.equal(Buffer.byteLength('añ€😀z'));
      await t.store.appendOutput(d.taskId, piece(10, 'z[cut]', true));
      expect((await t.store.get(d.taskId))!.outputTruncated).to.equal(true);
      await t.store.finish(d.taskId, done);
      await t.store.appendOutput(d.taskId, piece(16, 'late'));
      expect(await t.store.readOutput(d.taskId, 0, 100)).to.equal('añ€😀z[cut]');
      await t.store.appendOutput('no-such-task', piece(0, 'x'));
      expect(await t.store.readOutput('no-such-task', 0, 10)).to.equal('');
    });

    it('keeps a log of the questions with the versions at which each was asked and answered', async () => {
      const d = draft();
      await t.store.create(d);
      const question = (id: string) => ({ id, message: `q ${id}`, schemaJson: '{"type":"object"}', requestedAt: 1 });
      const asked = await t.store.requestInput(d.taskId, question('input-1'));
      const answered = await t.store.provideInput(d.taskId, 'input-1', '{"a":1}');
      await t.store.requestInput(d.taskId, question('input-2'));
      const log = (await t.store.get(d.taskId))!.inputLog!;
      expect(log.map((e) => [e.request.id, e.request.message, e.askedVersion, e.answeredVersion])).to.deep.equal([
        ['input-1', 'q input-1', asked.version, answered.task.version],
        ['input-2', 'q input-2', answered.task.version + 1, undefined],
      ]);
      expect(log[0]!.request.schemaJson).to.equal('{"type":"object"}');
    });

    it('lets the redirect change until delivery begins, and claims delivery for one caller', async () => {
      const d = draft();
      await t.store.create(d);
      await t.store.setRedirect(d.taskId, { channelId: 'a', platform: 'chat', maxChars: 0 });
      const moved = await t.store.setRedirect(d.taskId, { channelId: 'b', platform: 'chat', maxChars: 5 });
      expect(moved.redirect).to.include({ channelId: 'b', maxChars: 5, state: DeliveryState.Pending });
      expect(await t.store.claimDelivery(d.taskId), 'not finished yet').to.equal(undefined);
      await t.store.finish(d.taskId, done);
      const claims = await Promise.all(Array.from({ length: 10 }, () => t.store.claimDelivery(d.taskId)));
      expect(claims.filter(Boolean)).to.have.length(1);
      const delivered = await t.store.updateDelivery(d.taskId, {
        state: DeliveryState.Delivered,
        attempts: 2,
        lastError: '',
        deliveredAt: Date.now(),
      });
      expect(delivered.redirect).to.include({ state: DeliveryState.Delivered, attempts: 2 });
      expect(delivered.redirect!.deliveredAt).to.be.a('number');
      expect(
        (await t.store.setRedirect(d.taskId, { channelId: 'b', platform: 'chat', maxChars: 5 })).redirect!.channelId,
      ).to.equal('b');
      await expectError(
        t.store.setRedirect(d.taskId, { channelId: 'c', platform: 'chat', maxChars: 0 }),
        FailedPrecondition,
      );
      await expectError(
        t.store.setRedirect('no-such-task', { channelId: 'c', platform: 'chat', maxChars: 0 }),
        TaskNotFound,
      );
    });

    it('lists newest first, per user and overall, with filters and stable cursors', async () => {
      const user = `lister-${++counter}`;
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const d = draft({ userId: user, toolName: i % 2 ? 'odd' : 'even' });
        ids.unshift(d.taskId);
        await t.store.create(d);
        await new Promise((r) => setTimeout(r, 2));
      }
      await t.store.finish(ids[0], done);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await t.store.list({ userId: user, limit: 3, cursor });
        seen.push(...page.tasks.map((x) => x.taskId));
        cursor = page.nextCursor;
        await t.store.create(draft({ userId: user })); // newer tasks do not shift later pages
      } while (cursor);
      expect(seen).to.deep.equal(ids);
      const odd = await t.store.list({ userId: user, toolName: 'odd', limit: 10 });
      expect(odd.tasks.map((x) => x.taskId)).to.deep.equal(ids.filter((_, k) => k % 2 === 1));
      const completed = await t.store.list({ userId: user, status: TaskStatus.Completed, limit: 10 });
      expect(completed.tasks.map((x) => x.taskId)).to.deep.equal([ids[0]]);
      const all = await t.store.list({ userId: '', limit: 500 });
      expect(all.tasks.map((x) => x.taskId)).to.include.members(ids);
      await expectError(t.store.list({ userId: user, limit: 3, cursor: 'forged' }), InvalidArgument);
    });

    it('deletes finished tasks after retention with their index entries and claims, and tells watchers', async () => {
      const short = await factoryWithRetention(80);
      try {
        const user = `expiring-${++counter}`;
        const gone = placed({ userId: user, requestId: 'rid' }, short.store);
        const kept = draft({ userId: user });
        await short.store.create(gone);
        await short.store.create(kept);
        await short.store.appendOutput(gone.taskId, { offset: 0, text: 'some output', truncated: false });
        const seen: (TaskRecord | null)[] = [];
        short.store.subscribe(gone.taskId, (task) => seen.push(task));
        await short.store.finish(gone.taskId, done);
        await new Promise((r) => setTimeout(r, 150));
        await short.sweep();
        expect(await short.store.get(gone.taskId)).to.equal(undefined);
        expect((await short.store.list({ userId: user, limit: 10 })).tasks.map((x) => x.taskId)).to.deep.equal([
          kept.taskId,
        ]);
        await eventually(() => seen.at(-1) === null);
        expect(await short.store.readOutput(gone.taskId, 0, 10), 'the output went with the task').to.equal('');
        const reclaimed = await short.store.create(placed({ userId: user, requestId: 'rid' }, short.store));
        expect(reclaimed.created, 'the request id went with the task').to.equal(true);
      } finally {
        await short.close();
      }
    });

    async function factoryWithRetention(retentionMs: number) {
      return factory({ retentionMs });
    }
  });
}

async function expectError(promise: Promise<unknown>, type: new (...args: never[]) => Error): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(type);
}
