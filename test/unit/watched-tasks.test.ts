import { expect } from 'chai';
import type { TaskStore } from '../../src/core/store.js';
import { type TaskRecord, TaskStatus } from '../../src/core/task.js';
import { WatchedTasks } from '../../src/core/watched-tasks.js';
import { TaskListeners } from '../../src/store/listeners.js';

/** A store whose reads wait until the test answers them, and whose events the test sends: the interleavings. */
class ScriptedStore {
  readonly reads: { deadline?: number; answer(task: TaskRecord | undefined): void; fail(err: Error): void }[] = [];
  readonly listeners = new TaskListeners();

  get(_taskId: string, deadline?: number): Promise<TaskRecord | undefined> {
    return new Promise((answer, fail) => this.reads.push({ deadline, answer, fail }));
  }

  subscribe(taskId: string, listener: (task: TaskRecord | null) => void): () => void {
    return this.listeners.add(taskId, listener);
  }

  event(task: TaskRecord | null, taskId = ID): void {
    this.listeners.notify(taskId, task);
  }
}

const ID = 'task-1';
const state = (version: number, status: TaskStatus = TaskStatus.Running) =>
  ({ taskId: ID, userId: 'alice', version, status }) as TaskRecord;
const settle = () => new Promise((resolve) => setImmediate(resolve));
/** A listener of its own for each watch, which ignores what it hears. */
const quiet = () => () => undefined;

describe("WatchedTasks: a task's watches share one subscription and one first read", () => {
  let store: ScriptedStore;
  let watched: WatchedTasks;
  beforeEach(() => {
    store = new ScriptedStore();
    watched = new WatchedTasks(store as unknown as TaskStore);
  });

  it('makes one read for ten watches that ask together, and gives each its state', async () => {
    const watches = Array.from({ length: 10 }, () => watched.join(ID, quiet()));
    const states = Promise.all(watches.map((w) => w.current()));
    await settle();
    expect(store.reads).to.have.length(1);
    store.reads[0]!.answer(state(2));
    expect((await states).map((t) => t?.version)).to.deep.equal(Array(10).fill(2));
  });

  it('starts a later watch from the newest state heard since the read, with no read of its own', async () => {
    const first = watched.join(ID, quiet());
    const read = first.current();
    store.reads[0]!.answer(state(2));
    await read;
    store.event(state(3));
    store.event(state(5, TaskStatus.Completed));
    store.event(state(4)); // late and older: not the newest
    const later = watched.join(ID, quiet());
    expect(await later.current()).to.include({ version: 5, status: TaskStatus.Completed });
    expect(store.reads).to.have.length(1);
  });

  it('keeps a change heard while the read is in flight when the read answers with an older state', async () => {
    const watch = watched.join(ID, quiet());
    const current = watch.current();
    store.event(state(3));
    store.reads[0]!.answer(state(2));
    expect(await current).to.include({ version: 3 });
  });

  it('says a deleted task is gone, to the watches waiting and to those that join after', async () => {
    const watch = watched.join(ID, quiet());
    const current = watch.current();
    store.reads[0]!.answer(state(2));
    await current;
    store.event(null);
    expect(await watch.current()).to.equal(undefined);
    expect(await watched.join(ID, quiet()).current()).to.equal(undefined);
  });

  it('fails every watch waiting on a read that fails, and reads again for the next one', async () => {
    const a = watched.join(ID, quiet()).current();
    const b = watched.join(ID, quiet()).current();
    await settle();
    store.reads[0]!.fail(new Error('store unavailable'));
    for (const current of [a, b]) {
      const err = await current.then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.equal('store unavailable');
    }
    const c = watched.join(ID, quiet()).current();
    expect(store.reads).to.have.length(2);
    store.reads[1]!.answer(state(7));
    expect(await c).to.include({ version: 7 });
  });

  it('lets a caller with a deadline read for itself while nothing is known, and share once something is', async () => {
    const watch = watched.join(ID, quiet());
    const own = watch.current(Date.now() + 1000);
    expect(store.reads.map((r) => r.deadline !== undefined)).to.deep.equal([true]);
    store.reads[0]!.answer(state(2));
    expect(await own).to.include({ version: 2 });
    const shared = watch.current();
    store.reads[1]!.answer(state(2));
    await shared;
    expect(await watch.current(Date.now() + 1000)).to.include({ version: 2 });
    expect(store.reads).to.have.length(2);
  });

  it("takes a seeded state (a create's reply) for the read, with the changes heard since joining", async () => {
    const held = watched.join(ID, quiet());
    store.event(state(2));
    held.seed(state(1));
    expect(await watched.join(ID, quiet()).current()).to.include({ version: 2 });
    store.event(state(3));
    expect(await held.current()).to.include({ version: 3 });
    expect(store.reads).to.have.length(0);
  });

  it("tells each watch's listener every change from when it joined, through one subscription", async () => {
    const heard: [string, number | null][] = [];
    const a = watched.join(ID, (t) => heard.push(['a', t?.version ?? null]));
    store.event(state(2));
    const b = watched.join(ID, (t) => heard.push(['b', t?.version ?? null]));
    store.event(state(3));
    b.leave();
    store.event(null);
    expect(heard).to.deep.equal([
      ['a', 2],
      ['a', 3],
      ['b', 3],
      ['a', null],
    ]);
    expect(store.listeners.size).to.equal(1);
    expect(watched.watches).to.equal(1);
    a.leave();
  });

  it('releases the task once its last watch leaves; leaving twice counts once', async () => {
    const a = watched.join(ID, quiet());
    const b = watched.join(ID, quiet());
    expect(store.listeners.size).to.equal(1);
    expect(watched.watches).to.equal(2);
    a.leave();
    a.leave();
    expect(watched.size).to.equal(1);
    b.leave();
    expect(watched.size).to.equal(0);
    expect(watched.watches).to.equal(0);
    expect(store.listeners.size).to.equal(0);
    // A new watch starts afresh: it reads, rather than trust a state nobody kept up to date.
    void watched.join(ID, quiet()).current();
    expect(store.reads).to.have.length(1);
  });
});
