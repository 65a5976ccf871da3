/**
 * ListTasks on Redis among many running tasks, timed from the Go client, beside the server's young-generation
 * GCs: for each build given, in turn, a fresh redis-server and server bundle under `--trace-gc-nvp`, `tasks` idle
 * tasks started (bench/load/scale.ts), then `rounds` rounds of 1,000 ListTasks calls (pages of 50, one at a
 * time, bench/go/listtasks). Prints each round's p50/p99 and the server's scavenges during the listing.
 *
 *   npm run build && npx tsx bench/listtasks-gc.ts [--tasks=100000] [--rounds=3] [--compare=dist/old] [--repeat=1]
 *
 * To compare with an earlier version: build it, copy dist/ to dist/old (ignored by git, and inside the checkout,
 * so that its bundle finds node_modules), build the current one, and give `--compare=dist/old`: the two take
 * turns, the earlier first, `--repeat=N` times. Scenario 5 of docs/PERFORMANCE.md.
 */
import { RedisServer } from '../test/helpers/redis.js';
import { numberOption } from './lib/args.js';
import { comparedBuilds, startTraced, type TracedServer } from './lib/gc-trace.js';
import { buildGoPrograms, GO_LIST_TASKS } from './lib/load.js';
import { LoadProcess } from './lib/procs.js';
import type { LatencySummary } from './lib/stats.js';

const TASKS = numberOption('tasks', 100_000);
const ROUNDS = numberOption('rounds', 3);
const { builds: BUILDS, repeat: REPEAT } = comparedBuilds();

async function measure(build: string): Promise<void> {
  const redis = await RedisServer.start();
  let traced: TracedServer | undefined;
  try {
    traced = await startTraced(
      `${build}/main.mjs`,
      {
        TASKSERVICE_TOOL_MODULES: 'bench/tools.ts',
        REDIS_URL: redis.url,
        TASKSERVICE_MAX_RUNNING: '1000000',
        TASKSERVICE_MAX_RUNNING_PER_USER: '1000000',
      },
      'TASKSERVICE_ADDR',
    );
    const { address } = traced.server;
    const userId = 'listtasks-gc';
    const starter = new LoadProcess<{ started: number }>('bench/load/scale.ts', {
      address,
      tasks: TASKS,
      lists: 10,
      pageSize: 50,
      userId,
    });
    await starter.ready();
    starter.go();
    await starter.result();
    starter.go(); // its own ten lists: the code is warm before the Go client's first round
    await starter.result();
    await starter.close();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    for (let round = 1; round <= ROUNDS; round++) {
      const mark = traced.mark();
      const client = new LoadProcess<LatencySummary>(
        GO_LIST_TASKS,
        { address, userId, lists: 1000, pageSize: 50 },
        { program: true },
      );
      await client.ready();
      client.go();
      const { p50, p99 } = await client.result();
      await client.close();
      const gc = traced.scavengesSince(mark);
      console.log(
        `${build.padEnd(12)} round ${round}  p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  ` +
          `scavenges ${gc.count}, mean pause ${gc.meanMs.toFixed(2)} ms`,
      );
    }
  } finally {
    await traced?.close();
    await redis.stop();
  }
}

buildGoPrograms();
console.log(`ListTasks among ${TASKS} running tasks on Redis, Go client, ${ROUNDS} x 1000 calls per build`);
for (let i = 0; i < REPEAT; i++) for (const build of BUILDS) await measure(build);
