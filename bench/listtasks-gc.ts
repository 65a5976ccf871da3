/**
 * ListTasks on Redis among many running tasks, timed from the Go client, beside the server's young-generation
 * GCs: for each build given, in turn, a fresh redis-server and server bundle under `--trace-gc`, `tasks` idle
 * tasks started (bench/load/scale.ts), then `rounds` rounds of 1,000 ListTasks calls (pages of 50, one at a
 * time, bench/go/listtasks). Prints each round's p50/p99 and the server's scavenges during the listing.
 *
 *   npm run build && npx tsx bench/listtasks-gc.ts [--tasks=100000] [--rounds=3] [--compare=dist/old] [--repeat=1]
 *
 * To compare with an earlier version: build it, copy dist/ to dist/old (ignored by git, and inside the checkout,
 * so that its bundle finds node_modules), build the current one, and give `--compare=dist/old`: the two take
 * turns, the earlier first, `--repeat=N` times. Scenario 5 of docs/PERFORMANCE.md.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '../test/helpers/redis.js';
import { numberOption } from './lib/args.js';
import { buildGoPrograms, GO_LIST_TASKS } from './lib/load.js';
import { type BenchServer, LoadProcess, startServer } from './lib/procs.js';
import type { LatencySummary } from './lib/stats.js';

const TASKS = numberOption('tasks', 100_000);
const ROUNDS = numberOption('rounds', 3);
const REPEAT = numberOption('repeat', 1);
const COMPARE = process.argv.find((a) => a.startsWith('--compare='))?.slice(10);
const BUILDS = COMPARE ? [COMPARE, 'dist'] : ['dist'];

/** The scavenges V8 printed after `from` (a byte offset of the server's output): how many, and their mean pause. */
function scavengesSince(file: string, from: number): { count: number; meanMs: number } {
  const pauses = [
    ...readFileSync(file, 'utf8')
      .slice(from)
      .matchAll(/Scavenge [^,]*, ([\d.]+) \//g),
  ].map((m) => Number(m[1]));
  return { count: pauses.length, meanMs: pauses.reduce((a, b) => a + b, 0) / Math.max(1, pauses.length) };
}

async function measure(build: string): Promise<void> {
  const redis = await RedisServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'listtasks-gc-'));
  const output = join(dir, 'server.out');
  let server: BenchServer | undefined;
  try {
    server = await startServer(
      `${build}/main.mjs`,
      {
        TASKSERVICE_TOOL_MODULES: 'bench/tools.ts',
        REDIS_URL: redis.url,
        TASKSERVICE_MAX_RUNNING: '1000000',
        TASKSERVICE_MAX_RUNNING_PER_USER: '1000000',
      },
      'TASKSERVICE_ADDR',
      ['--trace-gc'],
      output,
    );
    const { address } = server;
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
      const from = readFileSync(output, 'utf8').length;
      const client = new LoadProcess<LatencySummary>(
        GO_LIST_TASKS,
        { address, userId, lists: 1000, pageSize: 50 },
        { program: true },
      );
      await client.ready();
      client.go();
      const { p50, p99 } = await client.result();
      await client.close();
      const gc = scavengesSince(output, from);
      console.log(
        `${build.padEnd(12)} round ${round}  p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  ` +
          `scavenges ${gc.count}, mean pause ${gc.meanMs.toFixed(2)} ms`,
      );
    }
  } finally {
    await server?.kill();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

buildGoPrograms();
console.log(`ListTasks among ${TASKS} running tasks on Redis, Go client, ${ROUNDS} x 1000 calls per build`);
for (let i = 0; i < REPEAT; i++) for (const build of BUILDS) await measure(build);
