/**
 * `npm run bench:profile`: where TaskService's inline Execute spends CPU
 * beyond the bare grpc-js echo server. Both servers run under `--cpu-prof`
 * and the same load from the Go generator; only the samples inside the
 * measured window count. Prints CPU per call by component (grpc-js, the
 * service's own code, Node, GC, ...) for each server, the functions where
 * TaskService spends the most beyond the echo server, and writes it all to
 * bench/results/profile-<time>.json.
 *
 *   npm run bench:profile -- --calls=60000 --in-flight=64 [--redis] [--with-log]
 *
 * --lifecycle profiles TaskService alone through background lifecycles
 * (ExecuteStream of a 20 ms tool, on Redis) and prints where its CPU goes.
 *
 * --with-log profiles the echo server with TaskService's RPC log line
 * (ECHO_LOG=1) in place of TaskService: what the line alone costs.
 *
 * A profiler costs CPU of its own (a sample every 1 ms, each a stack walk): the
 * figures are for attribution, and `npm run bench` gives the unprofiled ones.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from '../test/helpers/redis.js';
import { flag, numberOption } from './lib/args.js';
import { byComponent, type FunctionTime, selfTimes } from './lib/cpu-profile.js';
import { buildGoPrograms, goLoad } from './lib/load.js';
import { machine } from './lib/machine.js';
import { startServer } from './lib/procs.js';

const calls = numberOption('calls', 60_000);
const inFlight = numberOption('in-flight', 64);
const withRedis = flag('redis');
const withLog = flag('with-log');
/** Background lifecycles through ExecuteStream on Redis (a 20 ms tool), TaskService alone: no echo server does them. */
const lifecycle = flag('lifecycle');

execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
buildGoPrograms();
const redis = withRedis || lifecycle ? await RedisServer.start() : undefined;

interface Profiled {
  target: string;
  cpuUsPerCall: number;
  callsPerSecond: number;
  /** Profiled µs per call by component. */
  components: Record<string, number>;
  functions: FunctionTime[];
}

async function profile(target: 'echo' | 'echo+log' | 'taskservice'): Promise<Profiled> {
  const dir = mkdtempSync(join(tmpdir(), `profile-${target}-`));
  const profiling = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const server =
    target !== 'taskservice'
      ? await startServer('bench/echo-server.ts', target === 'echo' ? {} : { ECHO_LOG: '1' }, 'ECHO_ADDR', profiling)
      : await startServer(
          'dist/main.mjs',
          { TASKSERVICE_TOOL_MODULES: 'bench/tools.ts', REDIS_URL: redis?.url ?? '' },
          'TASKSERVICE_ADDR',
          profiling,
        );
  try {
    const config = {
      mode: 'unary',
      address: server.address,
      calls,
      inFlight,
      tool: target === 'taskservice' ? 'noop' : 'echo',
      ...(lifecycle && { mode: 'stream', count: calls, toolMs: 20 }),
    };
    const measured = await goLoad([config], { server: server.pid });
    await server.stop(); // the profile is written at exit
    const functions = selfTimes(dir, measured.window);
    const perCall = (us: number) => us / calls;
    return {
      target,
      cpuUsPerCall: measured.cpuUsPerOp.server!,
      callsPerSecond: measured.perSecond,
      components: Object.fromEntries([...byComponent(functions)].map(([c, us]) => [c, perCall(us)])),
      functions: functions.map((f) => ({ ...f, us: perCall(f.us) })),
    };
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

const line = (text = '') => process.stdout.write(`${text}\n`);
try {
  const about = machine();
  if (lifecycle) {
    const p = await profile('taskservice');
    const rate = `${p.cpuUsPerCall.toFixed(0)} µs CPU/task, ${p.callsPerSecond.toFixed(0)}/s`;
    line(`lifecycles through ExecuteStream on Redis: ${rate}`);
    for (const [c, us] of Object.entries(p.components).sort(([, a], [, b]) => b - a)) {
      if (c !== 'idle') line(`${us.toFixed(2).padStart(8)}  ${c}`);
    }
    line('\nfunctions (profiled µs per task, self time)');
    for (const f of p.functions.filter((f) => f.component !== 'idle').slice(0, 60)) {
      line(`${f.us.toFixed(2).padStart(8)}  ${f.component}|${f.name}`);
    }
    process.exit(0);
  }
  const echo = await profile('echo');
  const taskservice = await profile(withLog ? 'echo+log' : 'taskservice');
  line(`machine: ${about.cpu} x${about.cores}, node ${about.node}; ${calls} calls, ${inFlight} in flight, Go client`);
  line(`store: ${withRedis ? 'Redis' : 'memory'}\n`);
  for (const p of [echo, taskservice]) {
    const cpu = `${p.cpuUsPerCall.toFixed(1)} µs CPU/call (unprofiled would be less)`;
    line(`${p.target}: ${cpu}, ${p.callsPerSecond.toFixed(0)} calls/s`);
  }
  line('\nprofiled µs per call by component (self time; idle excluded)');
  const components = [...new Set([...Object.keys(echo.components), ...Object.keys(taskservice.components)])]
    .filter((c) => c !== 'idle')
    .sort((a, b) => (taskservice.components[b] ?? 0) - (taskservice.components[a] ?? 0));
  line(`${'component'.padEnd(24)} ${'echo'.padStart(8)} ${'TaskService'.padStart(12)} ${'difference'.padStart(11)}`);
  for (const c of components) {
    const [e, t] = [echo.components[c] ?? 0, taskservice.components[c] ?? 0];
    line(`${c.padEnd(24)} ${e.toFixed(2).padStart(8)} ${t.toFixed(2).padStart(12)} ${(t - e).toFixed(2).padStart(11)}`);
  }
  const busy = (p: Profiled) => Object.entries(p.components).reduce((s, [c, us]) => (c === 'idle' ? s : s + us), 0);
  line(`${'busy'.padEnd(24)} ${busy(echo).toFixed(2).padStart(8)} ${busy(taskservice).toFixed(2).padStart(12)}`);

  // Function by function: what TaskService spends beyond the echo server in the same function.
  const echoBy = new Map(echo.functions.map((f) => [`${f.component}|${f.name}`, f.us]));
  const tsBy = new Map(taskservice.functions.map((f) => [`${f.component}|${f.name}`, f.us]));
  const keys = new Set([...echoBy.keys(), ...tsBy.keys()]);
  const differences = [...keys]
    .filter((k) => !k.startsWith('idle|'))
    .map((k) => ({ key: k, echo: echoBy.get(k) ?? 0, taskservice: tsBy.get(k) ?? 0 }))
    .map((d) => ({ ...d, more: d.taskservice - d.echo }))
    .sort((a, b) => b.more - a.more);
  line('\nwhere TaskService spends more, function by function (profiled µs per call)');
  for (const d of differences.slice(0, 40)) {
    const [more, mine, echoUs] = [d.more, d.taskservice, d.echo].map((us) => us.toFixed(2).padStart(7));
    line(`${more}  ${mine}  ${echoUs}  ${d.key}`);
  }
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/profile-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  const top = (p: Profiled) => ({ ...p, functions: p.functions.slice(0, 200) });
  const report = {
    machine: about,
    calls,
    inFlight,
    store: withRedis ? 'redis' : 'memory',
    echo: top(echo),
    [withLog ? 'echoWithLog' : 'taskservice']: top(taskservice),
    differences: differences.slice(0, 200),
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  line(`\nwritten to ${file}`);
} finally {
  await redis?.stop();
}
