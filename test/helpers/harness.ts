/**
 * Loaded before every mocha run (.mocharc.json). It fails the run loudly:
 * - an unhandled rejection anywhere fails the test during which it happened;
 * - a test file that leaves behind what it started (timers, sockets, servers,
 *   child processes; test/helpers/leaks.ts says exactly what counts and what
 *   does not) fails, naming the file and what leaked; a last check after the
 *   root hooks (the Redis servers of test-store.ts) catches what no file owns.
 *
 * Mocha runs every file in one process, so a file's bounds are found in the
 * suite tree: the top-level suites of one file get a hook before all of their
 * own hooks (the baseline) and one after all of them (the check).
 */
import { type Counts, fileStarted, leftBehind, repoPath, trackTimers } from './leaks.js';

const problems: unknown[] = [];
process.on('unhandledRejection', (reason) => problems.push(reason));
trackTimers();

/** A suite's hook list; mocha appends hooks, and only its private array lets ours go first. */
function hookList(suite: Mocha.Suite, which: '_beforeAll'): Mocha.Hook[] {
  const list = (suite as unknown as Record<string, Mocha.Hook[] | undefined>)[which];
  if (!Array.isArray(list))
    throw new Error(`mocha's Suite has no ${which} list any more: test/helpers/harness.ts needs updating`);
  return list;
}

function checkEachFile(root: Mocha.Suite): void {
  const byFile = new Map<string, Mocha.Suite[]>();
  for (const suite of root.suites) {
    if (suite.file) byFile.set(suite.file, [...(byFile.get(suite.file) ?? []), suite]);
  }
  for (const [file, suites] of byFile) {
    let baseline: Counts | undefined;
    const first = suites[0]!;
    first.beforeAll('leak check: baseline', async () => {
      baseline = await fileStarted(file);
    });
    // First of the file's hooks: what its own `before` starts belongs to it.
    const before = hookList(first, '_beforeAll');
    before.unshift(before.pop()!);
    suites.at(-1)!.afterAll('leak check', async () => {
      if (!baseline) return; // none of its tests ran (--grep)
      const found = await leftBehind(baseline, file);
      if (found.length > 0) throw new Error(`${repoPath(file)} left behind: ${found.join(', ')}`);
    });
  }
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    const root = this.test!.parent!;
    const atStart = await fileStarted('(the run)');
    checkEachFile(root);
    // Appended now, so it runs after every other root hook, test-store.ts's included.
    root.afterAll('leak check: after the last file', async () => {
      const found = await leftBehind(atStart, null);
      if (found.length > 0) throw new Error(`the run left behind (root hooks, or between files): ${found.join(', ')}`);
    });
  },
  afterEach(this: Mocha.Context) {
    if (problems.length > 0) {
      const first = problems.splice(0);
      throw new Error(`unhandled rejection during "${this.currentTest?.fullTitle()}": ${String(first[0])}`, {
        cause: first[0],
      });
    }
  },
};
