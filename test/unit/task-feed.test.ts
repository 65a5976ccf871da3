import { expect } from 'chai';
import type { Caller } from '../../src/core/caller.js';
import { TaskFeed } from '../../src/core/task-feed.js';
import type { TaskRecord } from '../../src/core/task.js';
import { defineTool } from '../../src/tools/define.js';
import { eventually, type Harness, makeManager, origin } from '../helpers/core.js';
import { silentLogger } from '../../src/core/logger.js';
import { newTaskId } from '../../src/core/ids.js';
import { MemoryStore } from '../../src/store/memory.js';

const ALICE: Caller = { name: 'alice-console', users: new Set(['alice']) };
const ANY: Caller = { name: 'ops', users: null };

/** A tool that reports progress once, then waits for the test to release it. */
const releases = new Map<string, () => void>();
const held = defineTool<{ tag: string }>({
  name: 'held',
  description: 'waits for the test',
  parameters: { type: 'object', properties: { tag: { type: 'string' } }, required: ['tag'] },
  handler: ({ tag }, ctx) =>
    new Promise<string>((resolve) => {
      ctx.progress(0.5, 'half');
      releases.set(tag, () => resolve(`done ${tag}`));
    }),
});

describe('TaskFeed: what a console follows', () => {
  let h: Harness;
  let feed: TaskFeed;
  beforeEach(() => {
    h = makeManager([held]);
    feed = new TaskFeed(h.store, { pollMs: 20, pageSize: 50, maxPages: 10 }, silentLogger);
  });
  afterEach(async () => {
    for (const release of releases.values()) release();
    releases.clear();
    await h.close();
  });

  const start = async (tag: string, userId: string) =>
    (
      await h.manager.execute({
        toolName: 'held',
        argumentsJson: JSON.stringify({ tag }),
        origin: origin(userId),
        budgetSeconds: 0.001,
      })
    ).task.taskId;

  it("tells of a task found new by listing, then of its changes; a user's console hears only that user's", async () => {
    const heardByAlice: TaskRecord[] = [];
    const heardByOps: TaskRecord[] = [];
    const stopAlice = feed.follow(ALICE, (t) => heardByAlice.push(t));
    const stopOps = feed.follow(ANY, (t) => heardByOps.push(t));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first poll learns what exists
    const alices = await start('a', 'alice');
    const bobs = await start('b', 'bob');
    await eventually(() => heardByOps.some((t) => t.taskId === bobs) && heardByAlice.some((t) => t.taskId === alices));
    releases.get('a')!();
    await eventually(() => heardByAlice.some((t) => t.taskId === alices && t.status === 'completed'));
    expect(heardByAlice.every((t) => t.userId === 'alice')).to.equal(true);
    expect(heardByOps.map((t) => t.taskId))
      .to.include(bobs)
      .and.include(alices);
    stopAlice();
    stopOps();
  });

  it('does not announce the tasks that existed before the first follower came', async () => {
    const before = await start('old', 'alice');
    const heard: TaskRecord[] = [];
    const stop = feed.follow(ANY, (t) => heard.push(t));
    const after = await start('new', 'alice');
    await eventually(() => heard.some((t) => t.taskId === after));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(heard.map((t) => t.taskId)).to.not.include(before);
    stop();
  });

  it('releases its subscription and poll with the last follower; a failing follower does not stop others', async () => {
    const baseline = h.store.listenerCount;
    const heard: TaskRecord[] = [];
    const stopBad = feed.follow(ANY, () => {
      throw new Error('a broken console');
    });
    const stopGood = feed.follow(ANY, (t) => heard.push(t));
    expect(h.store.listenerCount).to.equal(baseline + 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const x = await start('x', 'alice');
    await eventually(() => heard.length > 0);
    releases.get('x')!();
    await eventually(() => heard.some((t) => t.taskId === x && t.status === 'completed'));
    stopBad();
    stopGood();
    stopGood(); // twice is harmless
    expect(feed.size).to.equal(0);
    // The finished task's own listener went with it: what is left is what was there before.
    await eventually(() => h.store.listenerCount === baseline);
    const count = heard.length;
    await start('y', 'alice');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(heard.length).to.equal(count);
  });
});

describe('TaskFeed: bursts of new tasks, and a store that was unreachable', () => {
  let store: MemoryStore;
  beforeEach(() => {
    store = new MemoryStore({ retentionMs: 60_000 });
  });
  afterEach(() => store.close());

  /** Creates `n` tasks at once (a store does not announce creation: only the feed's poll finds them). */
  const burst = (n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.create({
          taskId: newTaskId(),
          toolName: 'echo',
          owner: 'i',
          userId: `u${i % 3}`,
          channelId: '',
          platform: '',
        }),
      ),
    );

  for (const { maxPages, heard } of [
    { maxPages: 10, heard: 60 },
    { maxPages: 3, heard: 30 },
  ]) {
    it(`hears of ${heard} of 60 tasks made between two polls with pages of 10, at most ${maxPages} pages`, async () => {
      const feed = new TaskFeed(store, { pollMs: 200, pageSize: 10, maxPages }, silentLogger);
      await burst(5); // there before: learnt by the first poll, never told
      const told: TaskRecord[] = [];
      const stop = feed.follow(ANY, (t) => told.push(t));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const made = await burst(60);
      await eventually(() => told.length >= heard);
      await new Promise((resolve) => setTimeout(resolve, 250)); // and no more on the next poll
      stop();
      const newest = made.map((m) => m.task.taskId).slice(-heard);
      expect(told.map((t) => t.taskId)).to.have.members(newest);
      expect(told).to.have.length(heard);
    });
  }

  it('tells its followers to read again once an unreachable store is back, and lets go of the watch', async () => {
    const watchers = new Set<(available: boolean) => void>();
    const flaky = new Proxy(store, {
      get(target, property) {
        if (property === 'watchAvailability')
          return (listener: (available: boolean) => void) => {
            watchers.add(listener);
            return () => watchers.delete(listener);
          };
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const feed = new TaskFeed(flaky, { pollMs: 1000, pageSize: 10, maxPages: 1 }, silentLogger);
    let resyncs = 0;
    const stop = feed.follow(
      ANY,
      () => undefined,
      () => resyncs++,
    );
    const say = (available: boolean) => [...watchers].forEach((w) => w(available));
    say(true);
    expect(resyncs, 'available without having been lost').to.equal(0);
    say(false);
    say(false);
    expect(resyncs, 'not while it is away').to.equal(0);
    say(true);
    say(true);
    expect(resyncs).to.equal(1);
    stop();
    expect(watchers.size).to.equal(0);
  });
});
