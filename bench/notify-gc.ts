/**
 * The service's young-generation GCs under scenario 3's 1k/s notification load (one replica on Redis, 100 tasks
 * a second of a 300 ms tool, ten AwaitResult watchers each, from the Go generator), beside the watchers'
 * latency: for each build given, in turn, a fresh redis-server and server bundle under `--trace-gc-nvp`, then
 * `--rounds` rounds of `--tasks` tasks. Prints per round the notification p50/p99 and the scavenges: how many,
 * their mean and longest pause, and what each copied and promoted on average.
 *
 *   npm run build && npx tsx bench/notify-gc.ts [--tasks=1000] [--rounds=3] [--compare=dist/old] [--repeat=1]
 *                                               [--echo] [--node-flags="--flag ..."]
 *
 * `--compare` as in bench/listtasks-gc.ts: an earlier build copied to dist/old, the two taking turns. `--echo`
 * adds the grpc floor (bench/echo-server.ts) after the builds; `--node-flags` starts every server with those Node
 * and V8 options (`--max-semi-space-size=64`, `--single-threaded-gc`, ...).
 */
import { RedisServer } from '../test/helpers/redis.js';
import { flag, numberOption, stringOption } from './lib/args.js';
import { comparedBuilds, startTraced, type TracedServer } from './lib/gc-trace.js';
import { buildGoPrograms, goLoad } from './lib/load.js';
import { notifyLoad } from './scenarios/notify.js';

const TASKS = numberOption('tasks', 1000);
const ROUNDS = numberOption('rounds', 3);
const { builds: BUILDS, repeat: REPEAT } = comparedBuilds();
/** The grpc floor too: bench/echo-server.ts's settle_stamp under the same load. */
if (flag('echo')) BUILDS.push('echo');
/** Node and V8 options for every server started, space-separated. */
const NODE_FLAGS = (stringOption('node-flags') ?? '').split(' ').filter(Boolean);

async function measure(build: string): Promise<void> {
  const redis = await RedisServer.start();
  let traced: TracedServer | undefined;
  try {
    const echo = build === 'echo';
    traced = await startTraced(
      echo ? 'bench/echo-server.ts' : `${build}/main.mjs`,
      echo ? {} : { TASKSERVICE_TOOL_MODULES: 'bench/tools.ts', REDIS_URL: redis.url },
      echo ? 'ECHO_ADDR' : 'TASKSERVICE_ADDR',
      NODE_FLAGS,
    );
    const { address, pid } = traced.server;
    // Warm-up: the code is optimised before the first round.
    await goLoad([notifyLoad(address, address, '1k/s', 200)], { a: pid });
    for (let round = 1; round <= ROUNDS; round++) {
      const mark = traced.mark();
      const m = await goLoad([notifyLoad(address, address, '1k/s', TASKS)], { a: pid });
      const gc = traced.scavengesSince(mark);
      console.log(
        `${build.padEnd(10)} round ${round}  p50 ${m.latency.p50.toFixed(2)} ms  p99 ${m.latency.p99.toFixed(2)} ms  ` +
          `heard ${m.latency.count}  scavenges ${gc.count}: mean ${gc.meanMs.toFixed(2)} ms, ` +
          `max ${gc.maxMs.toFixed(1)} ms, survived ${gc.survivedKb.toFixed(0)} KB each ` +
          `(${gc.promotedKb.toFixed(0)} promoted)`,
      );
      console.log(`${''.padEnd(10)} a pause: ${gc.phases.map(([name, ms]) => `${name} ${ms.toFixed(2)}`).join(', ')}`);
    }
  } finally {
    await traced?.close();
    await redis.stop();
  }
}

buildGoPrograms();
console.log(
  `1k notifications/s on Redis (100 tasks/s x 10 watchers), ${ROUNDS} x ${TASKS} tasks per build` +
    (NODE_FLAGS.length ? `, servers started with ${NODE_FLAGS.join(' ')}` : ''),
);
for (let i = 0; i < REPEAT; i++) for (const build of BUILDS) await measure(build);
