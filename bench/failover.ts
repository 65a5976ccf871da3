/**
 * Redis failover under load (issue 19): Sentinel and Cluster, each with `appendonly no` and with
 * `appendonly yes` + `appendfsync everysec`. For each case: the Redis deployment on loopback (Sentinel: a
 * master, one replica, 3 Sentinels with quorum 2; Cluster: 3 masters with one replica each), TaskService
 * replicas on it, a bounded load of background (`sleep`) and inline (`echo`) Executes from many users, and in
 * the middle of it a master killed with SIGKILL (never restarted). Prints a table and writes
 * bench/results/failover-<time>.json.
 *
 *   npm run bench:failover [-- --rate=300 --seconds=15 --kill-at=5 --replicas=3 --lease=2 --only=sentinel|cluster]
 *
 * test/faults/failover.test.ts runs a shorter version and asserts what a failover must not break.
 */
import { status as Code } from '@grpc/grpc-js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { TaskStatus, FailureReason } from '../gen/ts/taskmanager/v1/task.js';
import type { ExecuteResponse, GetResultResponse } from '../gen/ts/taskmanager/v1/task_service.js';
import { keySlot, RedisKeys } from '../src/store/redis/keys.js';
import { healthStatus } from '../test/helpers/health.js';
import { RedisServer } from '../test/helpers/redis.js';
import { RedisCluster } from '../test/helpers/redis-cluster.js';
import { RedisSentinel, SENTINEL_MASTER } from '../test/helpers/redis-sentinel.js';
import { type Replica, startReplicas } from '../test/helpers/replicas.js';
import { call } from '../test/helpers/server.js';
import { numberOption, wanted } from './lib/args.js';
import { machine } from './lib/machine.js';

export type Kind = 'sentinel' | 'cluster';

/** The replicas' lease and sweep by default: short, as in the fault suite, so the sweep acts within the run. */
export const LEASE_S = 2;
export const SWEEP_S = 0.5;

/** A Redis deployment ready to lose a master. */
export interface Topology {
  kind: Kind;
  aof: boolean;
  /** Environment for TaskService replicas on it. */
  env: Record<string, string>;
  /** The master to kill, and the replica that should take over from it. */
  victim: RedisServer;
  successor: RedisServer;
  keys: RedisKeys;
  /** Whether a task's keys are on the victim (always, with Sentinel). */
  onVictim(taskId: string): boolean;
  /** Makes every write the victim has acknowledged so far reach the successor (SET + WAIT 1). */
  replicated(): Promise<boolean>;
  /** A connection to the deployment after the failover, for reading task hashes. */
  reader(): Redis | Cluster;
  stop(): Promise<void>;
}

const AOF_ARGS = ['--appendonly', 'yes', '--appendfsync', 'everysec'];

async function withRedis<T>(port: number, run: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await run(r);
  } finally {
    r.disconnect();
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const linkUp = (port: number) =>
  withRedis(port, async (r) => (await r.info('replication')).includes('master_link_status:up'));

/** SET a key on the victim's own slot, then WAIT for one replica: every earlier write of the victim is replicated. */
async function markReplicated(port: number, key: string): Promise<boolean> {
  return withRedis(port, async (r) => {
    await r.set(key, String(Date.now()));
    return Number(await r.call('WAIT', '1', '2000')) >= 1;
  });
}

export async function startSentinel(aof: boolean): Promise<Topology> {
  const sentinel = await RedisSentinel.start({
    replicas: 1,
    sentinels: 3,
    quorum: 2,
    downAfterMs: 1000,
    failoverTimeoutMs: 3000,
    nodeArgs: aof ? AOF_ARGS : [],
  });
  const prefix = 'fo:';
  const successor = sentinel.replicas[0]!;
  return {
    kind: 'sentinel',
    aof,
    env: {
      REDIS_URL: '',
      TASKSERVICE_REDIS_CLUSTER_NODES: '',
      TASKSERVICE_REDIS_SENTINELS: sentinel.addresses,
      TASKSERVICE_REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
      TASKSERVICE_REDIS_PREFIX: prefix,
    },
    victim: sentinel.master,
    successor,
    keys: new RedisKeys(prefix, 1),
    onVictim: () => true,
    replicated: () => markReplicated(sentinel.master.port, 'fo:replicated'),
    reader: () => {
      const r = new Redis({
        sentinels: sentinel.ports.map((port) => ({ host: '127.0.0.1', port })),
        name: SENTINEL_MASTER,
        maxRetriesPerRequest: 1,
      });
      r.on('error', () => undefined);
      return r;
    },
    stop: () => sentinel.stop(),
  };
}

interface ClusterNode {
  id: string;
  port: number;
  master: string;
  slots: [number, number][];
  isMaster: boolean;
}

async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const text = await withRedis(port, async (r) => String(await r.call('CLUSTER', 'NODES')));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, addr, flags, master, , , , , ...slots] = line.split(' ');
      return {
        id: id!,
        port: Number(addr!.split('@')[0]!.split(':')[1]),
        master: master!,
        isMaster: flags!.includes('master'),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [from, to] = s.split('-').map(Number);
            return [from!, to ?? from!] as [number, number];
          }),
      };
    });
}

export async function startCluster(aof: boolean): Promise<Topology> {
  // nodeArgs is the same for every node. `--dir`: the RDB a replica receives at its first sync lands there, not
  // in the working directory. AOF needs a directory per node, so it is switched on per node (CONFIG SET dir, then
  // appendonly yes), which gives what `appendonly yes` at start would.
  const dataDir = mkdtempSync(join(tmpdir(), 'taskservice-failover-'));
  let cluster: RedisCluster;
  try {
    cluster = await RedisCluster.start({
      replicasPerMaster: 1,
      nodeArgs: ['--dir', dataDir, ...(aof ? ['--appendfsync', 'everysec', '--enable-protected-configs', 'yes'] : [])],
    });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  try {
    if (aof) {
      await Promise.all(
        cluster.nodes.map(async (n, i) => {
          const dir = join(dataDir, `node-${i}`);
          mkdirSync(dir);
          await withRedis(n.port, async (r) => {
            await r.config('SET', 'dir', dir);
            await r.config('SET', 'appendonly', 'yes');
          });
        }),
      );
      await Promise.all(
        cluster.nodes.map((n) =>
          until('AOF on', 20_000, () =>
            withRedis(n.port, async (r) => {
              const info = await r.info('persistence');
              return info.includes('aof_enabled:1') && info.includes('aof_rewrite_in_progress:0');
            }),
          ),
        ),
      );
    }
    // Right after `--cluster create`, a node may not know every replica yet (gossip).
    let nodes: ClusterNode[] = [];
    const mastersOf = (all: ClusterNode[]) => all.filter((n) => n.isMaster && n.slots.length > 0);
    await until('every master has a replica', 20_000, async () => {
      nodes = await clusterNodes(cluster.nodes[0]!.port);
      return mastersOf(nodes).every((m) => nodes.some((n) => !n.isMaster && n.master === m.id));
    });
    const masters = mastersOf(nodes);
    const size = (n: ClusterNode) => n.slots.reduce((sum, [from, to]) => sum + to - from + 1, 0);
    const victimNode = masters.reduce((a, b) => (size(b) > size(a) ? b : a));
    const successorNode = nodes.find((n) => !n.isMaster && n.master === victimNode.id);
    if (!successorNode) throw new Error('the victim master has no replica');
    const byPort = (port: number) => cluster.nodes.find((n) => n.port === port)!;
    for (const n of nodes.filter((x) => !x.isMaster))
      await until(`replica ${n.port} in sync`, 20_000, () => linkUp(n.port));
    // A key on one of the victim's slots, for the replication mark.
    let markKey = '';
    for (let i = 0; !markKey; i++) {
      const slot = keySlot(`fo:replicated:${i}`);
      if (victimNode.slots.some(([from, to]) => slot >= from && slot <= to)) markKey = `fo:replicated:${i}`;
    }
    const prefix = '{fo}:';
    const keys = new RedisKeys(prefix, 12);
    const victim = byPort(victimNode.port);
    return {
      kind: 'cluster',
      aof,
      env: {
        REDIS_URL: '',
        TASKSERVICE_REDIS_SENTINELS: '',
        TASKSERVICE_REDIS_CLUSTER_NODES: cluster.addresses,
        TASKSERVICE_REDIS_PREFIX: prefix,
        TASKSERVICE_REDIS_SHARDS: '12',
      },
      victim,
      successor: byPort(successorNode.port),
      keys,
      onVictim: (taskId) => {
        const slot = keySlot(keys.of(taskId).task(taskId));
        return victimNode.slots.some(([from, to]) => slot >= from && slot <= to);
      },
      replicated: () => markReplicated(victim.port, markKey),
      reader: () => {
        const c = new Cluster(
          cluster.nodes.filter((n) => n !== victim).map((n) => ({ host: '127.0.0.1', port: n.port })),
          { redisOptions: { maxRetriesPerRequest: 1 } },
        );
        c.on('error', () => undefined);
        return c;
      },
      stop: async () => {
        await cluster.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export const startTopology = (kind: Kind, aof: boolean) =>
  kind === 'sentinel' ? startSentinel(aof) : startCluster(aof);

/** Environment for the TaskService replicas on a topology. */
export const replicaEnv = (topology: Topology, leaseSeconds = LEASE_S): Record<string, string> => ({
  ...topology.env,
  TASKSERVICE_LEASE_TTL_SECONDS: String(leaseSeconds),
  TASKSERVICE_SWEEP_INTERVAL_SECONDS: String(SWEEP_S),
  TASKSERVICE_LOG_RPCS: 'false',
  MALLOC_ARENA_MAX: '2',
});

export interface LoadOptions {
  /** Executes started per second (open loop, at most `maxInFlight` at once). */
  rate: number;
  seconds: number;
  /** When the master is killed, from the start of the load. */
  killAtSeconds: number;
  /**
   * Half the calls run `sleep` for this long with a budget of `budgetSeconds` (they background); a quarter
   * run `echo` with a request_id (stored at once, answered inline: a create and a finish), a quarter `echo`
   * without one (inline and never stored).
   */
  sleepSeconds: number;
  budgetSeconds: number;
  users: number;
  deadlineMs: number;
  maxInFlight: number;
  /** The replicas' TASKSERVICE_LEASE_TTL_SECONDS (the wait for the sweep after the load follows it). */
  leaseSeconds: number;
}

type CallKind = 'background' | 'tracked' | 'untracked';

interface CallRecord {
  start: number;
  end: number;
  code: number;
  kind: CallKind;
  background: boolean;
  userId: string;
  replica: number;
  taskId?: string;
  /** The status the Execute answered with. */
  acked?: TaskStatus;
  /** When a GetResult first showed the task finished (background tasks; inline ones are finished when acked). */
  seenFinished?: number;
  /** The finished state the client learnt first: `<status> <failure reason>` (acked or read back). */
  seenState?: string;
  nextCheck?: number;
}

export interface Figures {
  store: Kind;
  aof: boolean;
  replicas: number;
  rate: number;
  seconds: number;
  calls: number;
  /** Calls not started because `maxInFlight` were open. */
  skipped: number;
  codes: Record<string, number>;
  /** Failed calls by kind of call: background sleep, tracked echo (request_id), untracked echo. */
  failedByKind: Record<CallKind, number>;
  codesByKind: Record<CallKind, Record<string, number>>;
  /** ms after the kill: the successor reports role master. */
  promotedMs: number | null;
  /** ms after the kill: the first failed call started, the last failed call ended. */
  errorWindow: { firstMs: number; lastMs: number } | null;
  /** ms after the kill: the start of the first OK call after which every call succeeded. */
  steadyMs: number | null;
  /** Slowest call (ms) and calls slower than 1 s. */
  slowestMs: number;
  /** Acknowledged with a task id: backgrounded, and stored inline calls (request_id) answered finished. */
  acknowledged: { background: number; inline: number; seenFinishedBeforeMark: number };
  /** Acknowledged tasks NOT_FOUND afterwards. */
  lost: { created: number; finished: number; oldestBeforeKillMs: number | null };
  /** Acknowledged finished (inline) or read back finished, and afterwards RUNNING again or in another state. */
  rewound: { total: number; seenFinishedBeforeMark: number; oldestBeforeKillMs: number | null };
  /**
   * Tasks read back finished before the replication mark (SET + WAIT just before the kill) that were lost or
   * rewound: must be 0.
   */
  replicatedButLost: number;
  /** After the load and the sweep: tasks RUNNING, and those of them whose owner replica is not alive (must be 0). */
  runningAtEnd: number;
  runningWithoutLiveOwner: number;
  /** Tasks failed worker_lost although no replica died, and how many of them are on the killed master's slots. */
  workerLost: number;
  workerLostOnVictim: number;
  /** Codes of the final GetResult of every acknowledged task other than OK and NOT_FOUND. */
  finalBadCodes: Record<string, number>;
  /** TaskService processes still running and SERVING at the end, of `replicas`. */
  alive: number;
  serving: number;
  /** Error-level log lines of the replicas (unexpected errors), and their distinct messages. */
  errorLines: number;
  errorMessages: string[];
  /** The tasks RUNNING at the end: when they were acknowledged (ms after the kill) and their owner. */
  runningDetails: { taskId: string; ackedMs: number; kind: string; owner: string | null }[];
  /** The rewound tasks: when acknowledged (ms after the kill), whether read back finished, and what they are now. */
  rewoundDetails: {
    taskId: string;
    ackedMs: number;
    kind: string;
    seenFinishedMs: number | null;
    seen: string;
    now: string;
  }[];
  /** Warn-level log lines of the replicas, by message. */
  warnings: Record<string, number>;
}

const codeName = (code: number) => Code[code] ?? String(code);
/** A task as the `n`th replica (round robin) reads it back. */
function readBack(replicas: Replica[], n: number, r: CallRecord, timeoutMs: number): Promise<GetResultResponse> {
  const { client } = replicas[n % replicas.length]!;
  return call(client.getResult, client, { taskId: r.taskId!, userId: r.userId }, timeoutMs);
}

const stateOf = (task: GetResultResponse['task']) =>
  `${TaskStatus[task?.status ?? 0]} ${FailureReason[task?.failureReason ?? 0]}`;
const isFinished = (s: TaskStatus | undefined) =>
  s === TaskStatus.TASK_STATUS_COMPLETED || s === TaskStatus.TASK_STATUS_FAILED;

/**
 * The load, the kill in its middle, and every figure. The topology and the replicas belong to the caller
 * (the test starts and stops them in its hooks).
 */
export async function measureFailover(topology: Topology, replicas: Replica[], options: LoadOptions): Promise<Figures> {
  const records: CallRecord[] = [];
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  let inFlight = 0;
  let skipped = 0;
  let killAt = Infinity;
  let markAt = Infinity;
  let promotedAt: number | null = null;

  const execute = (i: number) => {
    const background = i % 2 === 0;
    const kind: CallKind = background ? 'background' : i % 4 === 1 ? 'tracked' : 'untracked';
    const replica = i % replicas.length;
    const r: CallRecord = {
      start: now(),
      end: 0,
      code: -1,
      kind,
      background,
      userId: `user-${i % options.users}`,
      replica,
    };
    records.push(r);
    inFlight++;
    const { client } = replicas[replica]!;
    const req = background
      ? {
          toolName: 'sleep',
          argumentsJson: JSON.stringify({ seconds: options.sleepSeconds }),
          timeoutSeconds: options.budgetSeconds,
        }
      : { toolName: 'echo', argumentsJson: JSON.stringify({ text: `call ${i}` }), timeoutSeconds: 5 };
    return call(
      client.execute,
      client,
      { ...req, userId: r.userId, channelId: '', platform: '', requestId: kind === 'tracked' ? `req-${i}` : '' },
      options.deadlineMs,
    ).then(
      (res: ExecuteResponse) => {
        r.code = Code.OK;
        if (kind !== 'untracked') r.taskId = res.task?.taskId;
        r.acked = res.task?.status;
        if (isFinished(r.acked)) r.seenState = stateOf(res.task);
        r.end = now();
        if (background) r.nextCheck = r.end + options.sleepSeconds * 1000 + 300;
        inFlight--;
      },
      (err: { code?: number }) => {
        r.code = err.code ?? -1;
        r.end = now();
        inFlight--;
      },
    );
  };

  // Background tasks: read back until seen finished, so that a later RUNNING means "rewound".
  let polling = true;
  const poller = (async () => {
    let k = 0;
    while (polling) {
      const due = records.filter(
        (r) => r.taskId && r.background && r.seenFinished === undefined && r.nextCheck! <= now(),
      );
      await Promise.all(
        due.slice(0, 200).map(async (r) => {
          try {
            const res = await readBack(replicas, k++, r, 2000);
            if (isFinished(res.task?.status)) {
              r.seenFinished = now();
              r.seenState = stateOf(res.task);
            } else r.nextCheck = now() + 500;
          } catch {
            r.nextCheck = now() + 500;
          }
        }),
      );
      await sleep(100);
    }
  })();

  // The successor's role, every 50 ms after the kill.
  const watchPromotion = async () => {
    const probe = new Redis(topology.successor.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      while (promotedAt === null && now() < killAt + 60_000) {
        const role = (await probe.call('ROLE').catch(() => ['?'])) as string[];
        if (role[0] === 'master') promotedAt = now();
        else await sleep(50);
      }
    } finally {
      probe.disconnect();
    }
  };

  // The load: open loop at `rate`, bounded in count, time and calls in flight.
  const calls: Promise<void>[] = [];
  let issued = 0;
  let killed: Promise<void> | undefined;
  const total = Math.round(options.rate * options.seconds);
  while (issued < total && now() < options.seconds * 1000 + 5000) {
    const due = Math.min(total, Math.floor((now() * options.rate) / 1000));
    while (issued < due) {
      if (inFlight >= options.maxInFlight) skipped++;
      else calls.push(execute(issued));
      issued++;
    }
    if (!killed && now() >= options.killAtSeconds * 1000) {
      killed = (async () => {
        markAt = now();
        if (!(await topology.replicated())) throw new Error('the replica did not acknowledge the mark before the kill');
        killAt = now();
        await topology.victim.kill();
        await watchPromotion();
      })();
      killed.catch(() => undefined); // awaited below
    }
    await sleep(5);
  }
  await Promise.all(calls);
  await killed;
  const lastAck = Math.max(0, ...records.map((r) => r.end));

  // Every tool done, and the sweep has had time (lease + sweep + the grace after regaining Redis).
  const settleUntil = lastAck + options.sleepSeconds * 1000 + (2 * options.leaseSeconds + SWEEP_S + 2) * 1000;
  while (now() < settleUntil) await sleep(200);
  polling = false;
  await poller;

  // Every acknowledged task, once more.
  const acked = records.filter((r) => r.taskId);
  const finals = new Map<CallRecord, { code: number; task?: GetResultResponse['task'] }>();
  for (let i = 0; i < acked.length; i += 64) {
    await Promise.all(
      acked.slice(i, i + 64).map(async (r, j) => {
        try {
          const res = await readBack(replicas, i + j, r, 5000);
          finals.set(r, { code: Code.OK, task: res.task });
        } catch (err) {
          finals.set(r, { code: (err as { code?: number }).code ?? -1 });
        }
      }),
    );
  }

  // RUNNING ones: their owner, read from Redis.
  const running = acked.filter((r) => finals.get(r)?.task?.status === TaskStatus.TASK_STATUS_RUNNING);
  const reader = topology.reader();
  let runningWithoutLiveOwner = 0;
  const runningDetails: Figures['runningDetails'] = [];
  try {
    for (const r of running) {
      const owner = await reader.hget(topology.keys.of(r.taskId!).task(r.taskId!), 'owner');
      const replica = replicas.find((x) => owner === `replica-${replicas.indexOf(x)}`);
      runningDetails.push({ taskId: r.taskId!, ackedMs: r.end - killAt, kind: r.kind, owner });
      if (!replica || replica.child.exitCode !== null || replica.child.signalCode !== null) runningWithoutLiveOwner++;
    }
  } finally {
    reader.disconnect();
  }

  const finishedAcked = (r: CallRecord) => isFinished(r.acked) || r.seenFinished !== undefined;
  const lostRecords = acked.filter((r) => finals.get(r)!.code === Code.NOT_FOUND);
  const rewoundRecords = acked.filter((r) => {
    const f = finals.get(r)!;
    if (f.code !== Code.OK || !finishedAcked(r)) return false;
    return stateOf(f.task) !== r.seenState;
  });
  const seenBeforeMark = (r: CallRecord) => r.seenFinished !== undefined && r.seenFinished < markAt;
  const beforeKill = (rs: CallRecord[]) => {
    const ages = rs.map((r) => killAt - r.end).filter((ms) => ms > 0);
    return ages.length ? Math.max(...ages) : null;
  };
  const failed = records.filter((r) => r.code !== Code.OK);
  const count = (rs: CallRecord[]) => {
    const out: Record<string, number> = {};
    for (const r of rs) out[codeName(r.code)] = (out[codeName(r.code)] ?? 0) + 1;
    return out;
  };
  const codes = count(records);
  const finalBadCodes: Record<string, number> = {};
  for (const f of finals.values())
    if (f.code !== Code.OK && f.code !== Code.NOT_FOUND)
      finalBadCodes[codeName(f.code)] = (finalBadCodes[codeName(f.code)] ?? 0) + 1;
  const lastFailStart = Math.max(-Infinity, ...failed.map((r) => r.start));
  const steady = failed.length
    ? records.filter((r) => r.code === Code.OK && r.start > lastFailStart).sort((a, b) => a.start - b.start)[0]
    : undefined;
  const workerLost = acked.filter(
    (r) => finals.get(r)?.task?.failureReason === FailureReason.FAILURE_REASON_WORKER_LOST,
  );
  const warnings: Record<string, number> = {};
  for (const l of replicas.flatMap((r) => r.lines).filter((l) => Number(l.level) === 40))
    warnings[String(l.msg)] = (warnings[String(l.msg)] ?? 0) + 1;
  const errorLines = replicas.flatMap((r) => r.lines).filter((l) => Number(l.level) >= 50);
  const alive = replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
  const serving = (await Promise.all(alive.map((r) => healthStatus(r.address)))).filter((s) => s === 'SERVING');

  return {
    store: topology.kind,
    aof: topology.aof,
    replicas: replicas.length,
    rate: options.rate,
    seconds: options.seconds,
    calls: records.length,
    skipped,
    codes,
    failedByKind: {
      background: failed.filter((r) => r.kind === 'background').length,
      tracked: failed.filter((r) => r.kind === 'tracked').length,
      untracked: failed.filter((r) => r.kind === 'untracked').length,
    },
    codesByKind: {
      background: count(failed.filter((r) => r.kind === 'background')),
      tracked: count(failed.filter((r) => r.kind === 'tracked')),
      untracked: count(failed.filter((r) => r.kind === 'untracked')),
    },
    promotedMs: promotedAt === null ? null : promotedAt - killAt,
    errorWindow: failed.length
      ? {
          firstMs: Math.min(...failed.map((r) => r.start)) - killAt,
          lastMs: Math.max(...failed.map((r) => r.end)) - killAt,
        }
      : null,
    steadyMs: failed.length ? (steady ? steady.start - killAt : null) : 0,
    slowestMs: Math.max(0, ...records.map((r) => r.end - r.start)),
    acknowledged: {
      background: acked.filter((r) => r.background).length,
      inline: acked.filter((r) => !r.background).length,
      seenFinishedBeforeMark: acked.filter(seenBeforeMark).length,
    },
    lost: {
      created: lostRecords.filter((r) => !finishedAcked(r)).length,
      finished: lostRecords.filter(finishedAcked).length,
      oldestBeforeKillMs: beforeKill(lostRecords),
    },
    rewound: {
      total: rewoundRecords.length,
      seenFinishedBeforeMark: rewoundRecords.filter(seenBeforeMark).length,
      oldestBeforeKillMs: beforeKill(rewoundRecords),
    },
    replicatedButLost: [...lostRecords, ...rewoundRecords].filter(seenBeforeMark).length,
    runningAtEnd: running.length,
    runningWithoutLiveOwner,
    workerLost: workerLost.length,
    workerLostOnVictim: workerLost.filter((r) => topology.onVictim(r.taskId!)).length,
    finalBadCodes,
    alive: alive.length,
    serving: serving.length,
    errorLines: errorLines.length,
    errorMessages: [
      ...new Set(errorLines.map((l) => `${String(l.msg)}: ${JSON.stringify(l.err ?? '')}`.slice(0, 400))),
    ],
    runningDetails,
    rewoundDetails: rewoundRecords.map((r) => ({
      taskId: r.taskId!,
      ackedMs: r.end - killAt,
      kind: r.kind,
      seenFinishedMs: r.seenFinished === undefined ? null : r.seenFinished - killAt,
      seen: r.seenState!,
      now: stateOf(finals.get(r)!.task),
    })),
    warnings,
  };
}

/** One case from scratch: the topology, the replicas, the measure, and everything stopped. */
export async function runCase(kind: Kind, aof: boolean, replicaCount: number, options: LoadOptions): Promise<Figures> {
  const topology = await startTopology(kind, aof);
  let replicas: Replica[] = [];
  try {
    replicas = await startReplicas(replicaCount, replicaEnv(topology, options.leaseSeconds));
    return await measureFailover(topology, replicas, options);
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
    await topology.stop();
  }
}

const ms = (v: number | null) => (v === null ? '-' : String(Math.round(v)));

export function table(rows: Figures[]): string {
  const head = [
    'store',
    'AOF',
    'calls',
    'failed: codes (background/tracked/untracked)',
    'promoted ms',
    'error window ms',
    'steady ms',
    'lost (created/finished)',
    'rewound',
    'RUNNING at end (no live owner)',
    'worker_lost',
    'alive',
  ];
  const lines = rows.map((f) => {
    const failed = Object.entries(f.codes)
      .filter(([c]) => c !== 'OK')
      .map(([c, n]) => `${n} ${c}`)
      .join(', ');
    return [
      f.store,
      f.aof ? 'everysec' : 'no',
      String(f.calls),
      `${failed || '0'} (${f.failedByKind.background}/${f.failedByKind.tracked}/${f.failedByKind.untracked})`,
      ms(f.promotedMs),
      f.errorWindow ? `${ms(f.errorWindow.firstMs)} .. ${ms(f.errorWindow.lastMs)}` : '-',
      ms(f.steadyMs),
      `${f.lost.created + f.lost.finished} (${f.lost.created}/${f.lost.finished})`,
      String(f.rewound.total),
      `${f.runningAtEnd} (${f.runningWithoutLiveOwner})`,
      String(f.workerLost),
      `${f.alive}/${f.replicas}`,
    ];
  });
  return [head, ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const replicaCount = numberOption('replicas', 3);
  const options: LoadOptions = {
    rate: numberOption('rate', 300),
    seconds: numberOption('seconds', 15),
    killAtSeconds: numberOption('kill-at', 5),
    sleepSeconds: 1,
    budgetSeconds: 0.2,
    users: 1000,
    deadlineMs: 2000,
    maxInFlight: 1000,
    leaseSeconds: numberOption('lease', LEASE_S),
  };
  const about = machine();
  const started = Date.now();
  console.log(
    `failover under load: ${about.cpu} x${about.cores}, node ${about.node}, ` +
      `${about.redis.split(' ').slice(0, 3).join(' ')}; ` +
      `${replicaCount} TaskService replicas, ${options.rate} Executes/s for ${options.seconds} s (half sleep ` +
      `${options.sleepSeconds} s with a ${options.budgetSeconds} s budget, half echo), master SIGKILLed at ` +
      `${options.killAtSeconds} s; lease ${options.leaseSeconds} s, sweep ${SWEEP_S} s`,
  );
  const rows: Figures[] = [];
  for (const kind of (['sentinel', 'cluster'] as Kind[]).filter(wanted)) {
    for (const aof of [false, true]) {
      const figures = await runCase(kind, aof, replicaCount, options);
      console.log(JSON.stringify(figures));
      rows.push(figures);
    }
  }
  console.log(table(rows));
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/failover-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(
    file,
    JSON.stringify(
      {
        machine: about,
        seconds: Math.round((Date.now() - started) / 1000),
        options,
        replicas: replicaCount,
        results: rows,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`results: ${file}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
