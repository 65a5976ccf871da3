import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import type { RedisServer } from '../../test/helpers/redis.js';
import { goLoad, runLoad, type Measured } from '../lib/load.js';
import { type BenchServer, stop } from '../lib/procs.js';
import { type Spread, spread } from '../lib/stats.js';

/** How long each lifecycle's tool runs: longer than the 1 ms budget, so every call is backgrounded. */
const TOOL_MS = 20;
const IN_FLIGHT = 64;

/**
 * TaskService through ExecuteStream, TaskService through Execute + AwaitResult, BullMQ, and the floor:
 * the echo server's ExecuteStream (the same gRPC messages, nothing tracked, no Redis).
 */
type System = 'taskservice-stream' | 'taskservice' | 'bullmq' | 'grpc-floor';
const SYSTEMS: System[] = ['taskservice-stream', 'taskservice', 'bullmq', 'grpc-floor'];

export interface LifecycleRow {
  system: System;
  perSecond: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  /** CPU us per task: TaskService server + Redis, or BullMQ worker + Redis. */
  serviceCpuUs: Spread;
  redisCpuUs: Spread;
  clientCpuUs: Spread;
  /** Runs in which the load generators used less CPU than the service and Redis. */
  serverBoundRuns: number;
}

/** CPU seconds redis-server has used, from its own INFO (finer than /proc's ticks). */
export async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

/** Redis CPU as a meter for runLoad: read() gives seconds since construction. */
async function redisMeter(redis: Redis) {
  const start = await redisCpu(redis);
  let latest = start;
  return {
    async sample() {
      latest = await redisCpu(redis);
    },
    read: () => ({ redis: latest - start }),
  };
}

export async function startBullWorker(redisUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bullmq-worker.ts'], {
    env: { ...process.env, BULL_REDIS: redisUrl, MALLOC_ARENA_MAX: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  if (first.value !== 'ready') throw new Error('the BullMQ worker did not start');
  return { pid: child.pid!, stop: () => stop(child) };
}

/**
 * Scenario 2: background lifecycles on one redis-server, TaskService through
 * ExecuteStream (one call: the answer, then the updates to the terminal one)
 * and through Execute that backgrounds + AwaitResult, against BullMQ
 * (queue.add + a worker process + job.waitUntilFinished through QueueEvents),
 * 64 in flight, the same 20 ms job. TaskService's load comes from the Go
 * generator; BullMQ's from two Node processes (its client is a Node library:
 * what it costs is part of BullMQ's whole-system figure). The order of the
 * systems rotates between runs. BullMQ's database is flushed between runs.
 */
export async function lifecycle(
  redis: RedisServer,
  servers: { taskservice: BenchServer; echo: BenchServer },
  runs: number,
  count: number,
) {
  const { taskservice, echo } = servers;
  // BullMQ gets a database of its own on the same server, so clearing it between runs leaves TaskService's keys alone.
  const bullUrl = `${redis.url}/1`;
  const admin = new Redis(bullUrl);
  const samples: Record<System, Measured[]> = {
    'taskservice-stream': [],
    taskservice: [],
    bullmq: [],
    'grpc-floor': [],
  };
  try {
    for (let run = 0; run < runs; run++) {
      for (const system of [...SYSTEMS.slice(run % SYSTEMS.length), ...SYSTEMS.slice(0, run % SYSTEMS.length)]) {
        const meter = await redisMeter(admin);
        let measured: Measured;
        if (system !== 'bullmq') {
          const server = system === 'grpc-floor' ? echo : taskservice;
          const config = {
            mode: system === 'taskservice' ? 'two-call' : 'stream',
            address: server.address,
            count,
            inFlight: IN_FLIGHT,
            toolMs: TOOL_MS,
          };
          measured = await goLoad([config], { service: server.pid }, meter);
        } else {
          await admin.flushdb();
          const worker = await startBullWorker(bullUrl);
          const configs = [1, 2].map(() => ({
            redisUrl: bullUrl,
            count: count / 2,
            inFlight: IN_FLIGHT / 2,
            toolMs: TOOL_MS,
          }));
          try {
            measured = await runLoad('bench/load/bullmq.ts', configs, { service: worker.pid }, meter);
          } finally {
            await worker.stop();
            await admin.flushdb();
          }
        }
        samples[system].push(measured);
      }
    }
  } finally {
    admin.disconnect();
  }
  const rows: LifecycleRow[] = SYSTEMS.map((system) => {
    const ms = samples[system];
    return {
      system,
      perSecond: spread(ms.map((m) => m.perSecond)),
      p50Ms: spread(ms.map((m) => m.latency.p50)),
      p99Ms: spread(ms.map((m) => m.latency.p99)),
      serviceCpuUs: spread(ms.map((m) => m.cpuUsPerOp.service! + m.cpuUsPerOp.redis!)),
      redisCpuUs: spread(ms.map((m) => m.cpuUsPerOp.redis!)),
      clientCpuUs: spread(ms.map((m) => m.cpuUsPerOp.client!)),
      serverBoundRuns: ms.filter((m) => m.serverBound).length,
    };
  });
  const serviceCpu = (m: Measured) => m.cpuUsPerOp.service! + m.cpuUsPerOp.redis!;
  const systemCpu = (m: Measured) => serviceCpu(m) + m.cpuUsPerOp.client!;
  const against = (a: System, b: System) => ({
    cpu: spread(samples[a].map((m, i) => serviceCpu(m) / serviceCpu(samples[b][i]!))),
    /** The whole system's CPU per task: service, Redis and the clients. */
    systemCpu: spread(samples[a].map((m, i) => systemCpu(m) / systemCpu(samples[b][i]!))),
    throughput: spread(samples[a].map((m, i) => m.perSecond / samples[b][i]!.perSecond)),
  });
  const ratios = {
    ...against('taskservice', 'bullmq'),
    stream: against('taskservice-stream', 'bullmq'),
    streamVsTwoCall: against('taskservice-stream', 'taskservice'),
    /** The floor against BullMQ: the gRPC messages alone, before any task is tracked. */
    floor: against('grpc-floor', 'bullmq'),
  };
  return { rows, ratios, toolMs: TOOL_MS, inFlight: IN_FLIGHT };
}
