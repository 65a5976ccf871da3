import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisServer } from '../../test/helpers/redis.js';
import { Client } from '../../src/client/index.js';
import type { BenchServer } from '../lib/procs.js';
import { startBullWorker } from './lifecycle.js';

export interface CostRow {
  lifecycle: string;
  /** Redis commands per lifecycle (INFO commandstats), housekeeping subtracted. */
  commands: number;
  /** Waits for Redis per lifecycle, from the server's own count; undefined for BullMQ (not instrumented). */
  roundTrips?: number;
  /** The commands by name, per lifecycle. */
  byCommand: Record<string, number>;
}

async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const stats: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats[m[1]!] = Number(m[2]);
  return stats;
}

async function roundTrips(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^taskservice_redis_round_trips_total (\S+)$/m.exec(text)?.[1] ?? NaN);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts what `n` runs of `body` cost Redis, minus what the same time costs
 * when idle (leases, sweeps, a blocked BullMQ worker's polling), per run.
 */
async function measure(redis: Redis, n: number, body: () => Promise<void>, trips?: () => Promise<number>) {
  const idleMs = 2000;
  const idle0 = await commandStats(redis);
  const idleTrips0 = await trips?.();
  await pause(idleMs);
  const idle1 = await commandStats(redis);
  const idleTrips1 = await trips?.();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await body();
  const elapsed = performance.now() - t0;
  const end = await commandStats(redis);
  const endTrips = await trips?.();
  const scale = elapsed / idleMs;
  const byCommand: Record<string, number> = {};
  for (const name of new Set([...Object.keys(end), ...Object.keys(idle1)])) {
    if (name === 'info') continue; // our own readings
    const idle = (idle1[name] ?? 0) - (idle0[name] ?? 0);
    const used = (end[name] ?? 0) - (idle1[name] ?? 0) - idle * scale;
    if (Math.abs(used / n) >= 0.05) byCommand[name] = Math.round((used / n) * 100) / 100;
  }
  const commands = Object.values(byCommand).reduce((a, b) => a + b, 0);
  const roundTrips = trips && (endTrips! - idleTrips1! - (idleTrips1! - idleTrips0!) * scale) / n;
  return {
    commands: Math.round(commands * 100) / 100,
    byCommand,
    ...(roundTrips !== undefined && { roundTrips: Math.round(roundTrips * 100) / 100 }),
  };
}

/** Scenario 4: Redis commands and round trips per task lifecycle, TaskService and BullMQ, run one at a time. */
export async function redisCost(
  redisServer: RedisServer,
  server: BenchServer & { metricsPort: number },
  n: number,
): Promise<CostRow[]> {
  const redis = new Redis(redisServer.url);
  const client = new Client(server.address, { userId: 'cost' });
  const trips = () => roundTrips(server.metricsPort);
  const rows: CostRow[] = [];
  try {
    let key = 0;
    const cases: [string, () => Promise<void>][] = [
      ['inline (nothing stored)', async () => void (await client.execute('noop', { text: 'x' }))],
      [
        'inline with request_id (stored)',
        async () => void (await client.execute('noop', { text: 'x' }, { requestId: `k${key++}` })),
      ],
      [
        'background, completes (no watcher)',
        async () => {
          await client.execute('wait_ms', { ms: 5 }, { timeoutSeconds: 0.001 });
          await pause(30);
        },
      ],
      [
        'background + AwaitResult to the end',
        async () => {
          const run = await client.execute('wait_ms', { ms: 5 }, { timeoutSeconds: 0.001 });
          if (run.backgrounded) await run.handle.wait();
        },
      ],
      [
        'background, followed by ExecuteStream',
        async () => {
          for await (const _ of client.executeStream('wait_ms', { ms: 5 }, { timeoutSeconds: 0.001 }));
        },
      ],
      [
        'background, cancelled',
        async () => {
          const run = await client.execute('wait_ms', { ms: 60_000 }, { timeoutSeconds: 0.001 });
          if (run.backgrounded) await run.handle.cancel();
          await pause(10);
        },
      ],
    ];
    for (const [lifecycle, body] of cases) rows.push({ lifecycle, ...(await measure(redis, n, body, trips)) });

    const worker = await startBullWorker(redisServer.url);
    // BullMQ leaves connections it was given open: these are closed below.
    const connections = [1, 2].map(() => new Redis(redisServer.url, { maxRetriesPerRequest: null }));
    const queue = new Queue('bench', { connection: connections[0]! });
    const events = new QueueEvents('bench', { connection: connections[1]! });
    await events.waitUntilReady();
    try {
      const job = async () => {
        const added = await queue.add('job', { ms: 5 });
        await added.waitUntilFinished(events, 15_000);
      };
      rows.push({ lifecycle: 'BullMQ: add + worker + waitUntilFinished', ...(await measure(redis, n, job)) });
    } finally {
      await queue.close();
      await events.close();
      for (const c of connections) c.disconnect();
      await worker.stop();
    }
  } finally {
    client.close();
    redis.disconnect();
  }
  return rows;
}
