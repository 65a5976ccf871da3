/**
 * `npm run bench`: every scenario, side by side with its baseline, on
 * loopback. Prints a table and writes bench/results/<time>.json with the
 * machine it ran on. `--smoke` (CI) runs each scenario briefly, once.
 * `--only=inline,startup,...` picks scenarios; `--runs=N` sets the runs per scenario (3).
 *
 * Bounded: every load runs a fixed count of operations with deadlines, and
 * every process the bench starts is stopped before it exits.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { flag, numberOption, stringOption, wanted } from './lib/args.js';
import { buildGoPrograms, GO_LIST_TASKS } from './lib/load.js';
import { machine } from './lib/machine.js';
import { type BenchServer, startServer } from './lib/procs.js';
import { type LatencySummary, show, spread } from './lib/stats.js';
import { freePort, RedisServer } from '../test/helpers/redis.js';
import { type ConsoleFollowRow, consoleFirstPage, consoleFollowers } from './scenarios/console.js';
import { inline } from './scenarios/inline.js';
import { lifecycle } from './scenarios/lifecycle.js';
import { mcpSource } from './scenarios/mcp-source.js';
import { notify } from './scenarios/notify.js';
import { redisCost } from './scenarios/redis-cost.js';
import { type HeapRow, heapPerTask, scale, type ScaleRow } from './scenarios/scale.js';

const smoke = flag('smoke');
/** Runs per scenario: 3, or --runs=N (more runs narrow the spread on a noisy machine). */
const RUNS = smoke ? 1 : numberOption('runs', 3);

const TASKSERVICE_ENV = { TASKSERVICE_TOOL_MODULES: 'bench/tools.ts', REDIS_URL: '' };
const results: Record<string, unknown> = {};
const resultsFile = `bench/results/${new Date().toISOString().replace(/[:.]/g, '-')}${smoke ? '-smoke' : ''}.json`;
/** Written after every scenario, so a run that fails later keeps what it measured. */
function save(): void {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      { machine: about, server: SERVER, smoke, seconds: Math.round((Date.now() - started) / 1000), results },
      null,
      2,
    )}\n`,
  );
}
const servers: BenchServer[] = [];
const started = Date.now();
const line = (text = '') => process.stdout.write(`${text}\n`);

/** A TaskService process with the bench tools and a metrics port. */
async function taskservice(env: Record<string, string> = {}) {
  const metricsPort = await freePort();
  const server = await startServer(SERVER, {
    ...TASKSERVICE_ENV,
    TASKSERVICE_HTTP_ADDR: `127.0.0.1:${metricsPort}`,
    ...env,
  });
  servers.push(server);
  return { ...server, metricsPort };
}

async function stopAll(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
}

// What `npm start` runs: the bundle, built from the checkout; or, with --server=<bundle>, one built earlier as it is
// (an earlier commit's dist/ copied to dist/old, to compare builds in turn: docs/PERFORMANCE.md).
const GIVEN_SERVER = stringOption('server');
if (!GIVEN_SERVER) execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
const SERVER = GIVEN_SERVER ?? 'dist/main.mjs';
// The Go load generator and the Go ListTasks client: the servers' figures come from clients that use little CPU.
buildGoPrograms();

const about = machine();
line(`TaskService bench${smoke ? ' (smoke: one short run per scenario; figures are not meaningful)' : ''}`);
line(`machine: ${about.cpu} x${about.cores}, ${about.memoryGiB} GiB, node ${about.node}, ${about.redis}`);
if (GIVEN_SERVER) line(`server: ${SERVER} as it is (not rebuilt)`);

try {
  if (wanted('inline')) {
    const echo = await startServer('bench/echo-server.ts', {}, 'ECHO_ADDR');
    const echoWithLog = await startServer('bench/echo-server.ts', { ECHO_LOG: '1' }, 'ECHO_ADDR');
    servers.push(echo, echoWithLog);
    const calls = smoke ? 1000 : 40_000;
    const { rows, ratios } = await inline(
      { echo, 'echo+log': echoWithLog, taskservice: await taskservice() },
      RUNS,
      calls,
    );
    results.inline = { calls, runs: RUNS, rows, ratios };
    save();
    line(
      `\n1. Inline Execute of a trivial tool vs a bare grpc-js echo server (${calls} calls per case, ` +
        `${RUNS} run(s); median (min-max))`,
    );
    line(
      'target        in flight  calls/s                 p50 ms             p99 ms             ' +
        'server CPU us/call   Go client CPU us/call   server-bound runs',
    );
    for (const r of rows) {
      line(
        `${r.target.padEnd(13)} ${String(r.inFlight).padStart(9)}  ${show(r.callsPerSecond, 0).padEnd(22)}  ` +
          `${show(r.p50Ms, 3).padEnd(17)}  ${show(r.p99Ms, 3).padEnd(17)}  ` +
          `${show(r.serverCpuUsPerCall, 0).padEnd(19)}  ${show(r.clientCpuUsPerCall, 0).padEnd(22)}  ` +
          `${r.serverBoundRuns}/${RUNS}`,
      );
    }
    for (const [n, r] of Object.entries(ratios)) {
      line(
        `   ${n} in flight: server CPU/call ${show(r.serverCpu)}x echo (target <= 1.15), ` +
          `throughput ${show(r.throughput)}x (target >= 0.95), p50 +${show(r.p50ExtraUs, 0)} us`,
      );
      line(
        `      the floor, echo + one RPC log line per call: server CPU/call ${show(r.logLine.serverCpu)}x echo, ` +
          `throughput ${show(r.logLine.throughput)}x`,
      );
    }
    await stopAll();
  }

  if (wanted('lifecycle')) {
    const redis = await RedisServer.start();
    try {
      const count = smoke ? 400 : 6000;
      const echo = await startServer('bench/echo-server.ts', {}, 'ECHO_ADDR');
      servers.push(echo);
      const { rows, ratios, toolMs, inFlight } = await lifecycle(
        redis,
        { taskservice: await taskservice({ REDIS_URL: redis.url }), echo },
        RUNS,
        count,
      );
      results.lifecycle = { count, runs: RUNS, toolMs, inFlight, rows, ratios };
      save();
      line(
        `\n2. Background lifecycle on Redis, ${inFlight} in flight, a ${toolMs} ms job (${count} per case, ` +
          `${RUNS} run(s))`,
      );
      line(
        'system              tasks/s              p50 ms            p99 ms            ' +
          'service+Redis CPU us/task   of which Redis   client CPU us/task   server-bound runs',
      );
      for (const r of rows) {
        line(
          `${r.system.padEnd(19)} ${show(r.perSecond, 0).padEnd(20)} ${show(r.p50Ms, 2).padEnd(17)} ` +
            `${show(r.p99Ms, 2).padEnd(17)} ${show(r.serviceCpuUs, 0).padEnd(27)} ` +
            `${show(r.redisCpuUs, 0).padEnd(16)} ${show(r.clientCpuUs, 0).padEnd(20)} ${r.serverBoundRuns}/${RUNS}`,
        );
      }
      for (const [path, r] of [
        ['ExecuteStream', ratios.stream],
        ['Execute + AwaitResult', ratios],
      ] as const) {
        line(
          `   TaskService through ${path}: service+Redis CPU per task ${show(r.cpu)}x BullMQ's worker+Redis ` +
            `(target <= 1), whole system ${show(r.systemCpu)}x (target <= 1), tasks/s ${show(r.throughput)}x`,
        );
      }
      line(
        `   the floor, grpc-js streaming the same messages with nothing tracked: ${show(ratios.floor.cpu)}x ` +
          "BullMQ's worker+Redis CPU per task",
      );
      line(
        `   ExecuteStream against Execute + AwaitResult: CPU ${show(ratios.streamVsTwoCall.cpu)}x, ` +
          `tasks/s ${show(ratios.streamVsTwoCall.throughput)}x`,
      );
      await stopAll();
    } finally {
      await redis.stop();
    }
  }

  if (wanted('notify')) {
    const redis = await RedisServer.start();
    try {
      const env = { REDIS_URL: redis.url };
      const [a, b] = [await taskservice(env), await taskservice(env)];
      const floor = await startServer('bench/echo-server.ts', {}, 'ECHO_ADDR');
      servers.push(floor);
      const rows = await notify(a, b, floor, RUNS, smoke);
      results.notify = { runs: RUNS, rows };
      save();
      line(
        `\n3. AwaitResult notification latency: tool settles -> terminal update received (Redis store, ${RUNS} run(s))`,
      );
      line(
        'path            rate    heard+late/expected  notifications/s   p50 ms           p99 ms           ' +
          'servers CPU us/notification   Go client CPU us/notification',
      );
      for (const r of rows) {
        line(
          `${r.path.padEnd(15)} ${r.rate.padEnd(7)} ${`${r.delivered}+${r.late}/${r.expected}`.padEnd(20)} ` +
            `${show(r.notificationsPerSecond, 0).padEnd(17)} ${show(r.p50Ms, 2).padEnd(16)} ` +
            `${show(r.p99Ms, 2).padEnd(16)} ${show(r.serverCpuUsPerNotification, 0).padEnd(29)} ` +
            show(r.clientCpuUsPerNotification, 0),
        );
      }
      line('   targets: p50 <= 1 ms, p99 <= 5 ms at 1k notifications/s, nothing lost');
      await stopAll();
    } finally {
      await redis.stop();
    }
  }

  if (wanted('redis-cost')) {
    const redis = await RedisServer.start();
    try {
      const server = await taskservice({ REDIS_URL: redis.url });
      const n = smoke ? 30 : 300;
      const rows = await redisCost(redis, server, n);
      results.redisCost = { perCase: n, rows };
      save();
      line(
        `\n4. Redis cost per task lifecycle (${n} of each, one at a time; INFO commandstats, ` +
          `idle housekeeping subtracted)`,
      );
      line('lifecycle                                   commands   round trips   by command');
      for (const r of rows) {
        const by = Object.entries(r.byCommand)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        line(
          `${r.lifecycle.padEnd(43)} ${r.commands.toFixed(2).padStart(8)}   ` +
            `${(r.roundTrips?.toFixed(2) ?? 'n/a').padStart(11)}   ${by}`,
        );
      }
      line('   targets: at most one round trip per state change; <= 4 per background lifecycle');
      await stopAll();
    } finally {
      await redis.stop();
    }
  }

  if (wanted('scale')) {
    const counts = smoke ? [1000] : [10_000, 100_000];
    const rows: ScaleRow[] = [];
    /** The console's first page among the same tasks (scenario 8's first target). */
    const pages: ({ store: string; tasks: number } & LatencySummary)[] = [];
    const limits = { TASKSERVICE_MAX_RUNNING: '1000000', TASKSERVICE_MAX_RUNNING_PER_USER: '1000000' };
    for (const store of ['memory', 'redis'] as const) {
      for (const tasks of counts) {
        const redis = store === 'redis' ? await RedisServer.start() : undefined;
        try {
          const server = await taskservice({ ...limits, ...(redis && { REDIS_URL: redis.url }) });
          rows.push(await scale(store, server, tasks, smoke ? 50 : 1000, GO_LIST_TASKS, redis));
          pages.push({ store, tasks, ...(await consoleFirstPage(server.metricsPort, smoke ? 20 : 500)) });
          results.scale = { rows, consolePages: pages };
          save();
          await server.kill();
          servers.splice(servers.indexOf(server), 1);
        } finally {
          await redis?.stop();
        }
      }
    }
    const heap: HeapRow[] = [];
    for (const store of ['memory', 'redis'] as const) {
      for (const tool of ['idle', 'wait_ms'] as const) {
        const redis = store === 'redis' ? await RedisServer.start() : undefined;
        try {
          heap.push(await heapPerTask(store, tool, smoke ? 1000 : 10_000, redis));
        } finally {
          await redis?.stop();
        }
      }
    }
    results.scale = { rows, consolePages: pages, heap };
    save();
    line('\n5. Scale: running background tasks of one user, memory per task, and ListTasks (page of 50) among them');
    line(
      'store    tasks     started in   retried   RSS B/task   heap B/task   Redis B/task   ' +
        'ListTasks p50/p99 ms: Node client   Go client',
    );
    for (const r of rows) {
      line(
        `${r.store.padEnd(8)} ${String(r.tasks).padStart(6)}   ` +
          `${`${r.startSeconds.toFixed(1)} s`.padStart(10)}   ${String(r.unavailable).padStart(7)}   ` +
          `${r.rssBytesPerTask.toFixed(0).padStart(10)}   ${r.heapBytesPerTask.toFixed(0).padStart(11)}   ` +
          `${(r.redisBytesPerTask?.toFixed(0) ?? '-').padStart(12)}   ` +
          `${`${r.list.p50.toFixed(3)} / ${r.list.p99.toFixed(3)}`.padStart(30)}   ${r.listGo.p50.toFixed(3)} / ` +
          `${r.listGo.p99.toFixed(3)}`,
      );
    }
    for (const r of rows.filter((row) => row.redisSlowCommands)) {
      const slow = r.redisSlowCommands!;
      const slowest = slow.reduce((a, b) => (b.us > a.us ? b : a), { command: '-', us: 0 });
      line(
        `   redis ${r.tasks}: ${slow.length} Redis command(s) of 1 ms or more during the Go listing` +
          (slow.length ? `, the slowest ${slowest.us} µs (${slowest.command})` : ''),
      );
    }
    line('   heap per running task with GC forced (in process, bench/load/heap.ts):');
    for (const h of heap)
      line(
        `   ${h.store.padEnd(8)} ${h.tool.padEnd(8)} ${String(h.tasks).padStart(6)} tasks   ` +
          `${h.heapBytesPerTask.toFixed(0).padStart(6)} B/task`,
      );
    line(
      "   targets: <= 2 KiB per running task in-process (beyond the tool's own state: " +
        'the idle tool holds none); ListTasks p99 <= 5 ms at 100k tasks',
    );
    line("   the console's first page (every user, 50 newest), server time from Server-Timing:");
    for (const p of pages)
      line(
        `   ${p.store.padEnd(8)} ${String(p.tasks).padStart(6)} tasks   ` +
          `p50 ${p.p50.toFixed(2)} ms   p99 ${p.p99.toFixed(2)} ms`,
      );
    line('   targets: p99 < 50 ms on the memory store, < 100 ms on Redis, at 100k tasks');
  }

  if (wanted('startup')) {
    const runs = smoke ? 1 : 5;
    const memory: number[] = [];
    const redisTimes: number[] = [];
    const fromSource: number[] = [];
    const redis = await RedisServer.start();
    try {
      for (let i = 0; i < runs; i++) {
        for (const [script, env, into] of [
          [SERVER, { REDIS_URL: '' }, memory],
          [SERVER, { REDIS_URL: redis.url }, redisTimes],
          ['src/main.ts', { REDIS_URL: '' }, fromSource],
        ] as const) {
          const server = await startServer(script, env);
          into.push(server.startupMs);
          await server.stop();
        }
      }
    } finally {
      await redis.stop();
    }
    results.startup = { memory: spread(memory), redis: spread(redisTimes), fromSource: spread(fromSource) };
    save();
    line(
      `\n6. Start-up to SERVING (spawn -> gRPC health SERVING, ms; ${runs} run(s)): npm start's bundle: ` +
        `memory store ${show(spread(memory), 0)}, Redis ${show(spread(redisTimes), 0)}; ` +
        `from source through tsx ${show(spread(fromSource), 0)}   target < 1000`,
    );
  }
  if (wanted('mcp-source')) {
    const calls = smoke ? 200 : 3000;
    const rows = await mcpSource(taskservice, RUNS, calls);
    results.mcpSource = { calls, runs: RUNS, rows };
    save();
    line(
      `\n7. A tool from an MCP server vs the same tool in process, inline Execute (${calls} calls per case, ` +
        `${RUNS} run(s))`,
    );
    line(
      'tool source   in flight  calls/s                 p50 ms             ' +
        'TaskService CPU us/call   MCP server CPU us/call',
    );
    for (const r of rows) {
      line(
        `${r.target.padEnd(13)} ${String(r.inFlight).padStart(9)}  ${show(r.callsPerSecond, 0).padEnd(22)}  ` +
          `${show(r.p50Ms, 3).padEnd(17)}  ${show(r.serverCpuUsPerCall, 0).padEnd(24)}  ` +
          `${r.mcpServerCpuUsPerCall ? show(r.mcpServerCpuUsPerCall, 0) : '-'}`,
      );
    }
    await stopAll();
  }
  if (wanted('console')) {
    const consoles = smoke ? 10 : 100;
    const seconds = smoke ? 2 : 10;
    const rows: ConsoleFollowRow[] = [];
    for (const store of ['memory', 'redis'] as const) {
      const redis = store === 'redis' ? await RedisServer.start() : undefined;
      try {
        const server = await taskservice({ ...(redis && { REDIS_URL: redis.url }) });
        rows.push(await consoleFollowers(store, server, consoles, 100, seconds));
        results.console = { rows };
        save();
        await server.kill();
        servers.splice(servers.indexOf(server), 1);
      } finally {
        await redis?.stop();
      }
    }
    line(
      `\n8. The console: ${consoles} consoles following the live feed at 100 task changes a second (${seconds} s each)`,
    );
    line('store    heard per console /s   server CPU without / with consoles   cost');
    for (const r of rows) {
      line(
        `${r.store.padEnd(8)} ` +
          `${`${r.heardPerSecond.fewest.toFixed(0)}-${r.heardPerSecond.most.toFixed(0)}`.padStart(20)}   ` +
          `${`${(r.cpuWithout * 100).toFixed(1)}% / ${(r.cpuWith * 100).toFixed(1)}% of a core`.padStart(34)}   ` +
          `${((r.cpuWith - r.cpuWithout) * 100).toFixed(1)}% of a core`,
      );
    }
    line('   target: under 5% of a core for 100 consoles');
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}

save();
line(`\ntook ${Math.round((Date.now() - started) / 1000)} s`);
line(`results: ${resultsFile}`);
