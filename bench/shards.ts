/**
 * `npm run bench:shards`: the sharded Redis layout (docs/REDIS.md, "Shards"),
 * measured. Prints tables and writes bench/results/<time>-shards.json with the
 * machine it ran on.
 *
 * 1. spread: a real 3-master Redis Cluster (one replica per master), two
 *    TaskService replicas (the bundle, `npm start`'s), and `--tasks` (10,000)
 *    background tasks of the `sleep` tool over 64 user ids through Execute.
 *    Per master: DBSIZE, INFO commandstats (after CONFIG RESETSTAT) and
 *    INFO cpu, against an even third. Layouts: the Cluster with the default
 *    12 shards, the Cluster with TASKSERVICE_REDIS_SHARDS=1 (the old layout:
 *    one slot), and one plain redis-server (for Redis CPU per lifecycle).
 * 2. listing: one redis-server, TASKSERVICE_REDIS_SHARDS=N for N = 1, 4, 16,
 *    `--list-tasks` (100,000) finished tasks written in process through the
 *    store's own API (RedisStore.create + finish: the records the service
 *    writes), then ListTasks pages of 50 timed from the Go client
 *    (bench/go/listtasks), walking the whole listing page token after page
 *    token, for one user (half the tasks) and unfiltered. Also at a tenth of
 *    the tasks for N = 1 and 16: a page costs more with more shards, not with
 *    more tasks.
 *
 * `--only=spread,listing` picks parts; `--smoke` runs both small (figures not
 * meaningful). Bounded: every load is a fixed count with deadlines, every wait
 * has a time limit, and every process started here is stopped before exit.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/index.js';
import { newTaskId } from '../src/core/ids.js';
import { silentLogger } from '../src/core/logger.js';
import { TaskStatus } from '../src/core/task.js';
import { createRedisBackend } from '../src/store/redis/backend.js';
import { keySlot, RedisKeys } from '../src/store/redis/keys.js';
import { RedisServer } from '../test/helpers/redis.js';
import { RedisCluster } from '../test/helpers/redis-cluster.js';
import { CpuMeter } from './lib/cpu.js';
import { flag, numberOption, wanted } from './lib/args.js';
import { buildGoPrograms, GO_LIST_TASKS, type LoadResult } from './lib/load.js';
import { machine } from './lib/machine.js';
import { type BenchServer, LoadProcess, startServer } from './lib/procs.js';
import { type LatencySummary, summarize } from './lib/stats.js';

const smoke = flag('smoke');

const SPREAD_TASKS = numberOption('tasks', smoke ? 600 : 10_000);
const LIST_TASKS = numberOption('list-tasks', smoke ? 2_000 : 100_000);
const USERS = numberOption('users', 64);
/** The sleep each task runs, and its budget: backgrounded at 1 ms, finished 50 ms later. */
const TOOL_SECONDS = 0.05;
const BUDGET_SECONDS = 0.001;
/** Execute calls in flight per load process (one process per service replica). */
const IN_FLIGHT = 32;
const IDLE_SECONDS = smoke ? 1 : 3;
const PAGE_SIZE = 50;

const SERVER = 'dist/main.mjs';
const LIMITS = {
  TASKSERVICE_MAX_RUNNING: '1000000',
  TASKSERVICE_MAX_RUNNING_PER_USER: '1000000',
};

const started = Date.now();
const results: Record<string, unknown> = {};
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsFile = `bench/results/${stamp}-shards${smoke ? '-smoke' : ''}.json`;
const command = `npm run bench:shards -- ${process.argv.slice(2).join(' ')}`.trim();
const line = (text = '') => process.stdout.write(`${text}\n`);
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** Written after every part, so a run that fails later keeps what it measured. */
function save(): void {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      { machine: about, code, smoke, command, seconds: Math.round((Date.now() - started) / 1000), results },
      null,
      2,
    )}\n`,
  );
}

// What `npm start` runs: the bundle; and the Go clients.
execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
buildGoPrograms();
const about = machine();
/** The code measured: the commit, and whether src/ had changes not yet committed (other work in progress). */
const code = {
  commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
  uncommittedInSrc: execFileSync('git', ['status', '--porcelain', 'src'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean).length,
};
line(`TaskService shards bench${smoke ? ' (smoke: small counts; figures are not meaningful)' : ''}`);
line(`machine: ${about.cpu} x${about.cores}, ${about.memoryGiB} GiB, node ${about.node}, ${about.redis}`);
line(`command: ${command}`);
line(`code: commit ${code.commit}, ${code.uncommittedInSrc} file(s) in src/ changed since (uncommitted)`);

/**
 * CPU seconds the whole machine has been busy (every process, ours and others': /proc/stat). Other work on a
 * shared machine shows as the busy time none of our processes account for.
 */
function machineBusySeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

// ---------------------------------------------------------------------------------------------------------------
// Redis readings

/** The slot a key lives in: its hash tag's when it has one (Redis Cluster's rule). */
function slotOf(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return keySlot(key.slice(open + 1, close));
  }
  return keySlot(key);
}

function infoFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of text.split('\r\n')) {
    const at = row.indexOf(':');
    if (at > 0) out[row.slice(0, at)] = row.slice(at + 1);
  }
  return out;
}

/** Redis's own CPU (main thread and the rest of the process), seconds. */
async function redisCpu(redis: Redis): Promise<number> {
  const f = infoFields(await redis.info('cpu'));
  return Number(f.used_cpu_sys) + Number(f.used_cpu_user);
}

/** Read events the server processed (INFO stats): commands per read says how much the clients batched. */
async function redisReads(redis: Redis): Promise<number> {
  return Number(infoFields(await redis.info('stats')).total_reads_processed);
}

/** The bench's own reads (INFO, CONFIG RESETSTAT, DBSIZE): not counted as the service's commands. */
const BENCH_COMMANDS = new Set(['info', 'config', 'dbsize']);

interface Commands {
  evalsha: number;
  eval: number;
  /** Every other command, the ones Lua scripts run inside evalsha included (Redis counts them one by one). */
  other: number;
  all: number;
  byCommand: Record<string, number>;
}

async function commandStats(redis: Redis): Promise<Commands> {
  const c: Commands = { evalsha: 0, eval: 0, other: 0, all: 0, byCommand: {} };
  for (const [key, value] of Object.entries(infoFields(await redis.info('commandstats')))) {
    const name = key.replace(/^cmdstat_/, '');
    if (BENCH_COMMANDS.has(name.split('|')[0]!)) continue;
    const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
    c.byCommand[name] = calls;
    c.all += calls;
    if (name === 'evalsha') c.evalsha += calls;
    else if (name === 'eval') c.eval += calls;
    else c.other += calls;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// Part 1: spread over the masters

interface Layout {
  name: string;
  /** A 3-master Cluster (one replica each), or one plain redis-server. */
  cluster: boolean;
  /** TASKSERVICE_REDIS_SHARDS; undefined: unset (the Cluster default, 12). */
  shards?: number;
}

interface MasterRow {
  port: number;
  slots: string;
  keys: number;
  keyShare: number;
  commands: Commands;
  evalshaShare: number;
  allShare: number;
  /** Tasks of the run whose shard lives on this master. */
  tasks: number;
  redisCpuSeconds: number;
  idleCpuSeconds: number;
  /**
   * Script calls (evalsha) per read event (INFO stats total_reads_processed): how many arrived together. A
   * master that gets a third of the calls gets smaller batches from each client's auto-pipelining.
   */
  evalshaPerRead: number;
  /** (CPU over the run - idle CPU over as long) / tasks served here. */
  redisCpuUsPerTask?: number;
}

interface SpreadResult {
  layout: string;
  shards: number;
  tasks: number;
  inline: number;
  seconds: number;
  tasksPerSecond: number;
  execute: LatencySummary;
  masters: MasterRow[];
  maxDeviation: { keys: number; evalsha: number; commands: number };
  /** CPU per task, microseconds: the two service replicas, the load processes, every master's Redis. */
  cpuUsPerTask: { services: number; generators: number; redisMasters: number };
  /**
   * CPU used over the run, as cores busy on average: ours, every Redis node (replicas included, from /proc),
   * and what the rest of the machine used meanwhile (its busy time less ours).
   */
  coresBusy: { services: number; generators: number; redisMasters: number; redisNodes: number; others: number };
}

/**
 * A 3-master Cluster with a replica each. The nodes run in a directory of their own (a replica's full sync
 * writes an RDB file into it). `redis-cli --cluster create` fails now and then when a port picked as free
 * was taken meanwhile (other Redis servers come and go on this machine): tried three times.
 */
async function startCluster(): Promise<{ cluster: RedisCluster; dir: string }> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'taskservice-shards-'));
    try {
      return { cluster: await RedisCluster.start({ replicasPerMaster: 1, nodeArgs: ['--dir', dir] }), dir };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      if (attempt === 3) throw err;
      line(`   (the Cluster did not form, trying again: ${String(err).split('\n')[0]})`);
    }
  }
}

async function spreadRun(layout: Layout, tasks: number): Promise<SpreadResult> {
  const formed = layout.cluster ? await startCluster() : undefined;
  const cluster = formed?.cluster;
  const single = layout.cluster ? undefined : await RedisServer.start();
  const servers: BenchServer[] = [];
  const admins: Redis[] = [];
  const loads: LoadProcess<Record<string, unknown>>[] = [];
  try {
    const prefix = layout.cluster ? '{sg}:' : 'sg:';
    const shards = layout.shards ?? (layout.cluster ? 12 : 1);
    const keys = new RedisKeys(prefix, shards);
    const storeEnv: Record<string, string> = cluster
      ? { REDIS_URL: '', TASKSERVICE_REDIS_CLUSTER_NODES: cluster.addresses }
      : { REDIS_URL: single!.url };
    const instances = ['shards-a', 'shards-b'];
    for (const id of instances) {
      servers.push(
        await startServer(SERVER, {
          ...LIMITS,
          ...storeEnv,
          TASKSERVICE_REDIS_PREFIX: prefix,
          ...(layout.shards !== undefined && { TASKSERVICE_REDIS_SHARDS: String(layout.shards) }),
          TASKSERVICE_INSTANCE_ID: id,
        }),
      );
    }
    const masters = cluster ? await cluster.masters() : [single!];
    for (const m of masters) admins.push(new Redis(m.port, '127.0.0.1'));
    // Which master holds which slots.
    const ranges: { from: number; to: number; port: number }[] = [];
    if (cluster) {
      const slots = (await admins[0]!.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      for (const [from, to, [, port]] of slots) ranges.push({ from, to, port: Number(port) });
    } else ranges.push({ from: 0, to: 16383, port: single!.port });
    const masterOfSlot = (slot: number) => ranges.find((r) => slot >= r.from && slot <= r.to)!.port;

    for (let i = 0; i < servers.length; i++) {
      loads.push(
        new LoadProcess('bench/load/spread.ts', {
          address: servers[i]!.address,
          count: tasks / servers.length,
          inFlight: IN_FLIGHT,
          users: USERS,
          userPrefix: 'user-',
          toolSeconds: TOOL_SECONDS,
          budgetSeconds: BUDGET_SECONDS,
        }),
      );
    }
    await Promise.all(loads.map((l) => l.ready()));
    // The warm-up's tasks finish; then the housekeeping alone, for as long, is the idle baseline.
    await sleep(500);
    const idle0 = await Promise.all(admins.map(redisCpu));
    await sleep(IDLE_SECONDS * 1000);
    const idle1 = await Promise.all(admins.map(redisCpu));
    const idleRate = idle1.map((v, i) => (v - idle0[i]!) / IDLE_SECONDS);

    await Promise.all(admins.map((a) => a.config('RESETSTAT')));
    const cpu0 = await Promise.all(admins.map(redisCpu));
    const reads0 = await Promise.all(admins.map(redisReads));
    const meter = new CpuMeter({ a: servers[0]!.pid, b: servers[1]!.pid });
    const nodes = new CpuMeter(
      Object.fromEntries((cluster ? cluster.nodes : [single!]).map((n, i) => [String(i), n.pid!])),
    );
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    for (const l of loads) l.go();
    const runs = (await Promise.all(loads.map((l) => l.result()))) as unknown as (LoadResult & { inline: number })[];
    const ids = (await Promise.all(loads.map((l) => l.result()))).flatMap((r) => r.taskIds as string[]);
    // Every task finishes 50 ms after it was backgrounded: wait until no running set holds one.
    const runningKeys = keys.shards.flatMap((k) => instances.map((id) => k.running(id)));
    const deadline = Date.now() + 60_000;
    for (;;) {
      await sleep(200);
      let running = 0;
      for (const key of runningKeys) {
        const admin = admins[masters.findIndex((m) => m.port === masterOfSlot(slotOf(key)))]!;
        running += await admin.scard(key);
      }
      if (running === 0) break;
      if (Date.now() > deadline) throw new Error(`${running} tasks still running 60 s after the load`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = await Promise.all(admins.map(redisCpu));
    const reads1 = await Promise.all(admins.map(redisReads));
    const serviceCpu = meter.read();
    const nodeCpu = Object.values(nodes.read()).reduce((a, b) => a + b, 0);
    const busy = machineBusySeconds() - busy0;
    const stats = await Promise.all(admins.map(commandStats));
    const sizes = await Promise.all(admins.map((a) => a.dbsize()));

    const perMaster = masters.map(() => 0);
    for (const id of ids) {
      const port = masterOfSlot(slotOf(keys.of(id).task(id)));
      perMaster[masters.findIndex((m) => m.port === port)]!++;
    }
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    const totalKeys = sum(sizes);
    const totalEvalsha = sum(stats.map((s) => s.evalsha));
    const totalAll = sum(stats.map((s) => s.all));
    const rows: MasterRow[] = masters.map((m, i) => {
      const used = cpu1[i]! - cpu0[i]!;
      const idle = idleRate[i]! * seconds;
      return {
        port: m.port,
        slots: ranges
          .filter((r) => r.port === m.port)
          .map((r) => `${r.from}-${r.to}`)
          .join(','),
        keys: sizes[i]!,
        keyShare: sizes[i]! / totalKeys,
        commands: stats[i]!,
        evalshaShare: stats[i]!.evalsha / totalEvalsha,
        allShare: stats[i]!.all / totalAll,
        tasks: perMaster[i]!,
        redisCpuSeconds: used,
        idleCpuSeconds: idle,
        evalshaPerRead: stats[i]!.evalsha / Math.max(1, reads1[i]! - reads0[i]!),
        ...(perMaster[i]! > 0 && { redisCpuUsPerTask: ((used - idle) * 1e6) / perMaster[i]! }),
      };
    });
    const even = 1 / masters.length;
    const deviation = (share: (r: MasterRow) => number) => Math.max(...rows.map((r) => Math.abs(share(r) / even - 1)));
    const services = serviceCpu.a! + serviceCpu.b!;
    const generators = sum(runs.map((r) => r.cpuSeconds));
    const redisMasters = sum(rows.map((r) => r.redisCpuSeconds));
    return {
      layout: layout.name,
      shards,
      tasks: ids.length,
      inline: sum(runs.map((r) => r.inline)),
      seconds,
      tasksPerSecond: ids.length / Math.max(...runs.map((r) => r.seconds)),
      execute: summarize(runs.flatMap((r) => r.latencies)),
      masters: rows,
      maxDeviation: {
        keys: deviation((r) => r.keyShare),
        evalsha: deviation((r) => r.evalshaShare),
        commands: deviation((r) => r.allShare),
      },
      cpuUsPerTask: {
        services: (services * 1e6) / ids.length,
        generators: (generators * 1e6) / ids.length,
        redisMasters: (redisMasters * 1e6) / ids.length,
      },
      coresBusy: {
        services: services / seconds,
        generators: generators / seconds,
        redisMasters: redisMasters / seconds,
        redisNodes: nodeCpu / seconds,
        others: Math.max(0, busy - services - generators - nodeCpu) / seconds,
      },
    };
  } finally {
    await Promise.all(loads.map((l) => l.close()));
    for (const a of admins) a.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
    await cluster?.stop();
    if (formed) rmSync(formed.dir, { recursive: true, force: true });
    await single?.stop();
  }
}

function printSpread(r: SpreadResult): void {
  line(
    `\n${r.layout}: ${r.tasks} tasks (${r.inline} answered inline), ${r.shards} shard(s), ` +
      `${r.tasksPerSecond.toFixed(0)} tasks/s, Execute p50 ${r.execute.p50.toFixed(2)} ms ` +
      `p99 ${r.execute.p99.toFixed(2)} ms`,
  );
  line(
    'master  slots          keys  share vs 1/n   evalsha  share vs 1/n    eval    other   all cmds  share vs 1/n' +
      '   tasks  Redis CPU s (idle)  CPU us/task  evalsha/read',
  );
  const n = r.masters.length;
  for (const m of r.masters) {
    line(
      `${String(m.port).padEnd(6)}  ${m.slots.padEnd(11)} ${String(m.keys).padStart(7)}  ` +
        `${(m.keyShare * 100).toFixed(1).padStart(5)}% ${pct(m.keyShare * n - 1).padStart(7)}  ` +
        `${String(m.commands.evalsha).padStart(7)}  ${(m.evalshaShare * 100).toFixed(1).padStart(5)}% ` +
        `${pct(m.evalshaShare * n - 1).padStart(7)}  ${String(m.commands.eval).padStart(6)}  ` +
        `${String(m.commands.other).padStart(7)}  ${String(m.commands.all).padStart(9)}  ` +
        `${(m.allShare * 100).toFixed(1).padStart(5)}% ${pct(m.allShare * n - 1).padStart(7)}  ` +
        `${String(m.tasks).padStart(6)}  ` +
        `${`${m.redisCpuSeconds.toFixed(2)} (${m.idleCpuSeconds.toFixed(2)})`.padStart(18)}  ` +
        `${(m.redisCpuUsPerTask?.toFixed(0) ?? '-').padStart(11)}  ${m.evalshaPerRead.toFixed(2).padStart(12)}`,
    );
  }
  if (n > 1) {
    line(
      `   max deviation from an even share: keys ${pct(r.maxDeviation.keys)}, ` +
        `evalsha ${pct(r.maxDeviation.evalsha)}, ` +
        `all commands ${pct(r.maxDeviation.commands)}   (target: within 15%)`,
    );
  }
  line(
    `   CPU us/task: services ${r.cpuUsPerTask.services.toFixed(0)}, load generators ` +
      `${r.cpuUsPerTask.generators.toFixed(0)}, Redis masters ${r.cpuUsPerTask.redisMasters.toFixed(0)}; ` +
      `cores busy over ${r.seconds.toFixed(1)} s: services ${r.coresBusy.services.toFixed(2)}, generators ` +
      `${r.coresBusy.generators.toFixed(2)}, Redis masters ${r.coresBusy.redisMasters.toFixed(2)} ` +
      `(all nodes ${r.coresBusy.redisNodes.toFixed(2)}), ` +
      `other processes on the machine ${r.coresBusy.others.toFixed(2)}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Part 2: ListTasks across shards

interface ListingRow {
  shards: number;
  tasks: number;
  fillSeconds: number;
  /** `lister` (half the tasks) or '' (every user). */
  user: string;
  listed: number;
  pages: number;
  p50: number;
  p99: number;
  max: number;
  /** The first complete walk: tasks returned and distinct ids among them (both should equal listed). */
  firstWalkTasks: number;
  firstWalkDistinct: number;
  /** CPU per page, microseconds. */
  serverUsPerPage: number;
  redisUsPerPage: number;
  clientUsPerPage: number;
  /** Redis commands per page (INFO commandstats over the walk, the service's housekeeping included). */
  commandsPerPage: number;
  zrangePerPage: number;
  /** The walk's wall time, and how many cores the machine's other processes kept busy meanwhile. */
  seconds: number;
  othersCores: number;
}

const LISTER = 'lister';

/** `tasks` finished tasks, half of them `lister`'s and the rest over 63 other users, through the store's API. */
async function fill(url: string, shards: number, tasks: number): Promise<number> {
  const config = loadConfig({
    REDIS_URL: url,
    TASKSERVICE_REDIS_SHARDS: String(shards),
    TASKSERVICE_INSTANCE_ID: 'filler',
  });
  const backend = createRedisBackend(config, {
    logger: silentLogger,
    observer: { command: () => undefined, roundTrip: () => undefined, connectionError: () => undefined },
    deliver: () => undefined,
  });
  const t0 = performance.now();
  try {
    await backend.waitUntilConnected();
    let next = 0;
    await Promise.all(
      Array.from({ length: 128 }, async () => {
        while (next < tasks) {
          const i = next++;
          const taskId = newTaskId();
          await backend.store.create({
            taskId,
            toolName: 'sleep',
            owner: 'filler',
            userId: i % 2 === 0 ? LISTER : `user-${(i >> 1) % 63}`,
            channelId: '',
            platform: '',
          });
          await backend.store.finish(taskId, { status: TaskStatus.Completed, result: `done ${i}` });
        }
      }),
    );
  } finally {
    await backend.close();
  }
  return (performance.now() - t0) / 1000;
}

async function listingRun(shards: number, tasks: number, calls: number): Promise<ListingRow[]> {
  const redis = await RedisServer.start();
  const admin = new Redis(redis.url);
  let server: BenchServer | undefined;
  try {
    const fillSeconds = await fill(redis.url, shards, tasks);
    server = await startServer(SERVER, {
      REDIS_URL: redis.url,
      TASKSERVICE_REDIS_SHARDS: String(shards),
      TASKSERVICE_INSTANCE_ID: 'lister-service',
    });
    const rows: ListingRow[] = [];
    // Warm-up: the service's first pages run cold (JIT, connections); not measured.
    const warm = new LoadProcess<LatencySummary>(
      GO_LIST_TASKS,
      { address: server.address, userId: '', lists: 200, pageSize: PAGE_SIZE, resetEvery: 0 },
      { program: true },
    );
    await warm.ready();
    warm.go();
    await warm.result();
    await warm.close();
    for (const user of [LISTER, '']) {
      const client = new LoadProcess<LatencySummary & Record<string, number>>(
        GO_LIST_TASKS,
        { address: server.address, userId: user, lists: calls, pageSize: PAGE_SIZE, resetEvery: 0 },
        { program: true },
      );
      try {
        await client.ready();
        // The Go client reports its own CPU: it exits as soon as it has printed.
        const meter = new CpuMeter({ server: server.pid });
        const busy0 = machineBusySeconds();
        await admin.config('RESETSTAT');
        const redis0 = await redisCpu(admin);
        client.go();
        const r = await client.result();
        const redis1 = await redisCpu(admin);
        const cpu = meter.read();
        const busy = machineBusySeconds() - busy0;
        const commands = await commandStats(admin);
        const perPage = (s: number) => (s * 1e6) / r.count;
        rows.push({
          shards,
          tasks,
          fillSeconds,
          user,
          listed: user ? tasks / 2 : tasks,
          pages: r.count,
          p50: r.p50,
          p99: r.p99,
          max: r.max,
          firstWalkTasks: r.firstWalkTasks!,
          firstWalkDistinct: r.firstWalkDistinct!,
          serverUsPerPage: perPage(cpu.server!),
          redisUsPerPage: perPage(redis1 - redis0),
          clientUsPerPage: perPage(r.cpuSeconds!),
          commandsPerPage: commands.all / r.count,
          zrangePerPage: (commands.byCommand.zrange ?? 0) / r.count,
          seconds: r.seconds!,
          othersCores: Math.max(0, busy - cpu.server! - (redis1 - redis0) - r.cpuSeconds!) / r.seconds!,
        });
      } finally {
        await client.close();
      }
    }
    return rows;
  } finally {
    admin.disconnect();
    await server?.stop();
    await redis.stop();
  }
}

function printListing(rows: ListingRow[]): void {
  line(
    `\n2. ListTasks across shards: one redis-server, pages of ${PAGE_SIZE} from the Go client, one at a time, ` +
      'walking page tokens to the end of the listing and starting over',
  );
  line(
    'shards   tasks  listing           tasks listed  pages  p50 ms  p99 ms  max ms  first walk: tasks / distinct' +
      '   server us/page  Redis us/page  client us/page  Redis cmds/page (ZRANGE)  other processes (cores)',
  );
  for (const r of rows) {
    line(
      `${String(r.shards).padStart(6)}  ${String(r.tasks).padStart(6)}  ` +
        `${(r.user ? `user (${r.user})` : 'all users').padEnd(16)}  ` +
        `${String(r.listed).padStart(12)}  ${String(r.pages).padStart(5)}  ${r.p50.toFixed(2).padStart(6)}  ` +
        `${r.p99.toFixed(2).padStart(6)}  ${r.max.toFixed(2).padStart(6)}  ` +
        `${`${r.firstWalkTasks} / ${r.firstWalkDistinct}`.padStart(28)}   ` +
        `${r.serverUsPerPage.toFixed(0).padStart(14)}  ` +
        `${r.redisUsPerPage.toFixed(0).padStart(13)}  ${r.clientUsPerPage.toFixed(0).padStart(14)}  ` +
        `${`${r.commandsPerPage.toFixed(1)} (${r.zrangePerPage.toFixed(1)})`.padStart(24)}  ` +
        `${r.othersCores.toFixed(2).padStart(23)}`,
    );
  }
  const bad = rows.filter((r) => r.firstWalkTasks !== r.listed || r.firstWalkDistinct !== r.listed);
  for (const r of bad) {
    line(
      `   WRONG: ${r.shards} shards, ${r.user || 'all users'}: a walk returned ${r.firstWalkTasks} tasks ` +
        `(${r.firstWalkDistinct} distinct) of ${r.listed}`,
    );
  }
  line('   target: p99 <= 5 ms at 100k tasks; a page costs more with more shards, not with more tasks');
}

// ---------------------------------------------------------------------------------------------------------------

if (wanted('spread')) {
  const layouts: Layout[] = [
    { name: 'Cluster, 3 masters + 3 replicas, default shards (12)', cluster: true },
    { name: 'Cluster, 3 masters + 3 replicas, TASKSERVICE_REDIS_SHARDS=1 (one slot)', cluster: true, shards: 1 },
    { name: 'one redis-server, 1 shard', cluster: false },
  ];
  const spread: SpreadResult[] = [];
  line(
    `\n1. Spread over the masters: ${SPREAD_TASKS} background tasks (sleep ${TOOL_SECONDS} s, budget ` +
      `${BUDGET_SECONDS} s) over ${USERS} user ids, through 2 service replicas (${IN_FLIGHT} Execute calls in ` +
      "flight each); shares are of the masters' sums, deviations against an even share (1/n)",
  );
  for (const layout of layouts) {
    const r = await spreadRun(layout, SPREAD_TASKS);
    spread.push(r);
    results.spread = spread;
    save();
    printSpread(r);
  }
}

if (wanted('listing')) {
  const calls = Math.max(200, Math.min(4000, Math.ceil(LIST_TASKS / PAGE_SIZE) + 200));
  const cases: [number, number][] = [
    [1, LIST_TASKS],
    [4, LIST_TASKS],
    [16, LIST_TASKS],
    [1, LIST_TASKS / 10],
    [16, LIST_TASKS / 10],
  ];
  const rows: ListingRow[] = [];
  for (const [shards, tasks] of cases) {
    rows.push(...(await listingRun(shards, tasks, calls)));
    results.listing = { pageSize: PAGE_SIZE, callsPerCase: calls, rows };
    save();
  }
  printListing(rows);
}

save();
line(`\ntook ${Math.round((Date.now() - started) / 1000)} s`);
line(`results: ${resultsFile}`);
