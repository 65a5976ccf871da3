import { expect } from 'chai';
import { silentLogger } from '../../src/core/logger.js';
import { OrphanCheck, RecentOutcomes } from '../../src/core/orphans.js';
import { FailureReason, type Outcome, type TaskRecord, TaskStatus } from '../../src/core/task.js';

const done: Outcome = { status: TaskStatus.Completed, result: 'the result' };

/** An orphan check over a scripted store; its timer is stopped at once and check() driven by hand. */
function orphanCheck(listed: string[][], tasks: Record<string, Partial<TaskRecord>>, runsHere = new Set<string>()) {
  const settled: [string, Outcome][] = [];
  const recent = new RecentOutcomes();
  const check = new OrphanCheck(
    {
      store: {
        tasksRunningHere: async () => listed.shift() ?? [],
        get: async (taskId: string) => tasks[taskId] as TaskRecord | undefined,
      },
      instanceId: 'me',
      runsHere: (taskId) => runsHere.has(taskId),
      recent,
      settle: async (taskId, outcome) => void settled.push([taskId, outcome]),
      logger: silentLogger,
    },
    60_000,
  );
  check.stop();
  return { check, settled, recent };
}

describe('OrphanCheck', () => {
  const running = { status: TaskStatus.Running, owner: 'me' };

  it('ends a task only when two checks in a row list it and nothing here runs it', async () => {
    const { check, settled } = orphanCheck([['a', 'b'], ['b'], ['a', 'b']], { a: running, b: running }, new Set(['a']));
    expect(await check.check()).to.equal(0);
    expect(await check.check()).to.equal(1);
    expect(settled).to.deep.equal([
      [
        'b',
        {
          status: TaskStatus.Failed,
          reason: FailureReason.WorkerLost,
          error: 'this replica no longer runs it: the store lost its end (a Redis failover?)',
        },
      ],
    ]);
  });

  it('needs the two sightings in a row: a task missing from one check starts again', async () => {
    const { check, settled } = orphanCheck([['b'], [], ['b']], { b: running });
    for (let i = 0; i < 3; i++) await check.check();
    expect(settled).to.deep.equal([]);
  });

  it('writes the outcome it stored lately again rather than failing the task', async () => {
    const { check, settled, recent } = orphanCheck([['b'], ['b']], { b: running });
    recent.remember('b', done);
    await check.check();
    await check.check();
    expect(settled).to.deep.equal([['b', done]]);
  });

  it("leaves finished tasks, other replicas' tasks and gone tasks alone", async () => {
    const { check, settled } = orphanCheck(
      [
        ['f', 'o', 'g'],
        ['f', 'o', 'g'],
      ],
      { f: { status: TaskStatus.Completed, owner: 'me' }, o: { status: TaskStatus.Running, owner: 'other' } },
    );
    await check.check();
    expect(await check.check()).to.equal(0);
    expect(settled).to.deep.equal([]);
  });
});

describe('RecentOutcomes', () => {
  it('keeps at most 2,000 outcomes, dropping the oldest', () => {
    const recent = new RecentOutcomes();
    for (let i = 0; i < 2001; i++) recent.remember(`t${i}`, done);
    expect(recent.get('t0')).to.equal(undefined);
    expect(recent.get('t1')).to.deep.equal(done);
    expect(recent.get('t2000')).to.deep.equal(done);
  });

  it('keeps at most 16 MiB of text', () => {
    const recent = new RecentOutcomes();
    const big: Outcome = { status: TaskStatus.Completed, result: 'x'.repeat(6 * 1024 * 1024) };
    for (const id of ['a', 'b', 'c']) recent.remember(id, big);
    expect(recent.get('a')).to.equal(undefined);
    expect(recent.get('b')).to.equal(big);
    expect(recent.get('c')).to.equal(big);
  });
});
