import { Redis } from 'ioredis';
import type { RedisServer } from '../../test/helpers/redis.js';
import { rssBytes } from '../lib/cpu.js';
import { LoadProcess } from '../lib/procs.js';
import type { BenchServer } from '../lib/procs.js';
import type { LatencySummary } from '../lib/stats.js';

export interface ScaleRow {
  store: 'memory' | 'redis';
  tasks: number;
  startSeconds: number;
  /**
   * Execute calls answered UNAVAILABLE on the way (the store did not answer within its command timeout) and
   * retried.
   */
  unavailable: number;
  /** Bytes per running task in the server process: RSS growth, and V8 heap-in-use growth. */
  rssBytesPerTask: number;
  heapBytesPerTask: number;
  /** Bytes per task in Redis (used_memory growth). */
  redisBytesPerTask?: number;
  /**
   * ListTasks timed by the Node load generator, then by a Go client (bench/go/listtasks), whose GC pauses are far
   * shorter.
   */
  list: LatencySummary;
  listGo: LatencySummary;
  /** Redis commands that took 1 ms or more while the Go client listed (SLOWLOG): name and µs. */
  redisSlowCommands?: { command: string; us: number }[];
}

export interface HeapRow {
  store: 'memory' | 'redis';
  tool: string;
  tasks: number;
  heapBytesPerTask: number;
}

/**
 * The heap per running task with garbage collected before each reading
 * (bench/load/heap.ts, in process). `idle` holds nothing of its own, so its
 * figure is TaskService's; `wait_ms` adds a timer and the AbortSignal it asks for.
 */
export async function heapPerTask(
  store: 'memory' | 'redis',
  tool: 'idle' | 'wait_ms',
  tasks: number,
  redis?: RedisServer,
): Promise<HeapRow> {
  const probe = new LoadProcess<{ running: number; heapBytesPerTask: number }>(
    'bench/load/heap.ts',
    { tasks, tool, ...(redis && { redisUrl: redis.url }) },
    { nodeOptions: ['--expose-gc'] },
  );
  try {
    await probe.ready();
    probe.go();
    const { heapBytesPerTask } = await probe.result();
    return { store, tool, tasks, heapBytesPerTask };
  } finally {
    await probe.close();
  }
}

async function heapUsed(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
}

async function redisMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN);
}

/**
 * Scenario 5: `tasks` background tasks running at once for one user, what
 * each costs in memory, and ListTasks (page of 50) for that user among them,
 * timed from Node and from Go (`listTasksProgram`, built by the bench).
 * The server is killed afterwards: a graceful stop would end every one of
 * them as SHUTDOWN, which is not what is measured.
 */
export async function scale(
  store: 'memory' | 'redis',
  server: BenchServer & { metricsPort: number },
  tasks: number,
  lists: number,
  listTasksProgram: string,
  redis?: RedisServer,
): Promise<ScaleRow> {
  const admin = redis && new Redis(redis.url);
  try {
    const load = new LoadProcess<{ started: number; unavailable: number; seconds: number } & LatencySummary>(
      'bench/load/scale.ts',
      {
        address: server.address,
        tasks,
        lists,
        pageSize: 50,
        userId: `scale-${store}-${tasks}`,
      },
    );
    await load.ready();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = {
      rss: rssBytes(server.pid),
      heap: await heapUsed(server.metricsPort),
      redis: admin && (await redisMemory(admin)),
    };
    load.go();
    const { seconds, unavailable } = await load.result();
    await new Promise((resolve) => setTimeout(resolve, 1000)); // let the last writes and GC settle
    const after = {
      rss: rssBytes(server.pid),
      heap: await heapUsed(server.metricsPort),
      redis: admin && (await redisMemory(admin)),
    };
    load.go();
    const list = await load.result();
    await load.close();
    const goClient = new LoadProcess<LatencySummary>(
      listTasksProgram,
      { address: server.address, userId: `scale-${store}-${tasks}`, lists, pageSize: 50 },
      { program: true },
    );
    await goClient.ready();
    await admin?.config('SET', 'slowlog-log-slower-than', '1000');
    await admin?.slowlog('RESET');
    goClient.go();
    const listGo = await goClient.result();
    const slow = (await admin?.slowlog('GET', 100)) as [number, number, number, string[]][] | undefined;
    await goClient.close();
    return {
      store,
      tasks,
      startSeconds: seconds,
      unavailable,
      rssBytesPerTask: (after.rss - before.rss) / tasks,
      heapBytesPerTask: (after.heap - before.heap) / tasks,
      ...(admin && { redisBytesPerTask: (after.redis! - before.redis!) / tasks }),
      list: { count: list.count, p50: list.p50, p99: list.p99, max: list.max },
      listGo,
      ...(slow && { redisSlowCommands: slow.map(([, , us, args]) => ({ command: args.slice(0, 2).join(' '), us })) }),
    };
  } finally {
    admin?.disconnect();
  }
}
