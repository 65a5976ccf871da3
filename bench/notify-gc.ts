/**
 * The service's young-generation GCs under scenario 3's 1k/s notification load (one replica on Redis, 100 tasks
 * a second of a 300 ms tool, ten AwaitResult watchers each, from the Go generator), beside the watchers'
 * latency: for each build given, in turn, a fresh redis-server and server bundle under `--trace-gc-nvp`, then
 * `--rounds` rounds of `--tasks` tasks. Prints per round the notification p50/p99 and the scavenges: how many,
 * their mean and longest pause, and what each copied and promoted on average.
 *
 *   npm run build && npx tsx bench/notify-gc.ts [--tasks=1000] [--rounds=3] [--compare=dist/old] [--repeat=1]
 *                                               [--echo] [--semi-space=MB]
 *
 * `--compare` as in bench/listtasks-gc.ts: an earlier build copied to dist/old, the two taking turns. `--echo`
 * adds the grpc floor (bench/echo-server.ts) after the builds; `--semi-space` starts every server with V8's
 * `--max-semi-space-size`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '../test/helpers/redis.js';
import { flag, numberOption } from './lib/args.js';
import { buildGoPrograms, goLoad } from './lib/load.js';
import { type BenchServer, startServer } from './lib/procs.js';

const TASKS = numberOption('tasks', 1000);
const ROUNDS = numberOption('rounds', 3);
const REPEAT = numberOption('repeat', 1);
const COMPARE = process.argv.find((a) => a.startsWith('--compare='))?.slice(10);
const BUILDS = COMPARE ? [COMPARE, 'dist'] : ['dist'];
/** The grpc floor too: bench/echo-server.ts's settle_stamp under the same load. */
if (flag('echo')) BUILDS.push('echo');
/** V8's largest semi-space for every server started (0: V8's default). */
const SEMI_SPACE_MB = numberOption('semi-space', 0);

interface Scavenges {
  count: number;
  meanMs: number;
  maxMs: number;
  /** Kilobytes a scavenge kept (copied or promoted), on average. */
  survivedKb: number;
}

/** The scavenges of `--trace-gc-nvp` lines printed after byte offset `from` of the server's output. */
export function scavengesSince(file: string, from: number): Scavenges {
  const lines = readFileSync(file, 'utf8')
    .slice(from)
    .split('\n')
    .filter((l) => l.includes('gc=s '));
  const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
  const pauses = lines.map((l) => field(l, 'pause'));
  // V8's new_space_survived: what a scavenge kept, copied within the young generation or promoted.
  const survived = lines.map((l) => field(l, 'new_space_survived'));
  const n = Math.max(1, lines.length);
  return {
    count: lines.length,
    meanMs: pauses.reduce((a, b) => a + b, 0) / n,
    maxMs: Math.max(0, ...pauses),
    survivedKb: survived.reduce((a, b) => a + b, 0) / n / 1024,
  };
}

async function measure(build: string): Promise<void> {
  const redis = await RedisServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'notify-gc-'));
  const output = join(dir, 'server.out');
  let server: BenchServer | undefined;
  try {
    const echo = build === 'echo';
    server = await startServer(
      echo ? 'bench/echo-server.ts' : `${build}/main.mjs`,
      echo ? {} : { TASKSERVICE_TOOL_MODULES: 'bench/tools.ts', REDIS_URL: redis.url },
      echo ? 'ECHO_ADDR' : 'TASKSERVICE_ADDR',
      ['--trace-gc-nvp', ...(SEMI_SPACE_MB ? [`--max-semi-space-size=${SEMI_SPACE_MB}`] : [])],
      output,
    );
    const { address, pid } = server;
    const config = (tasks: number) => ({
      mode: 'notify',
      execAddress: address,
      awaitAddress: address,
      toolMs: 300,
      rate: '1k/s',
      tasksPerSecond: 100,
      watchers: 10,
      tasks,
    });
    await goLoad([config(200)], { a: pid }); // warm-up: the code is optimised before the first round
    for (let round = 1; round <= ROUNDS; round++) {
      const from = readFileSync(output, 'utf8').length;
      const m = await goLoad([config(TASKS)], { a: pid });
      const gc = scavengesSince(output, from);
      console.log(
        `${build.padEnd(10)} round ${round}  p50 ${m.latency.p50.toFixed(2)} ms  p99 ${m.latency.p99.toFixed(2)} ms  ` +
          `heard ${m.latency.count}  scavenges ${gc.count}: mean ${gc.meanMs.toFixed(2)} ms, ` +
          `max ${gc.maxMs.toFixed(1)} ms, survived ${gc.survivedKb.toFixed(0)} KB each`,
      );
    }
  } finally {
    await server?.kill();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

buildGoPrograms();
console.log(`1k notifications/s on Redis (100 tasks/s x 10 watchers), ${ROUNDS} x ${TASKS} tasks per build`);
for (let i = 0; i < REPEAT; i++) for (const build of BUILDS) await measure(build);
