/**
 * Load generator, BullMQ side of scenario 2: queue.add, then
 * job.waitUntilFinished through QueueEvents, `inFlight` at a time. The same
 * latency (added -> finished seen) as TaskService's Execute -> terminal.
 */
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { readyThenWait } from '../lib/procs.js';

const { redisUrl, count, inFlight, toolMs } = JSON.parse(process.argv[2]!) as { redisUrl: string; count: number; inFlight: number; toolMs: number };
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue('bench', { connection });
const eventsConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const events = new QueueEvents('bench', { connection: eventsConnection });
await events.waitUntilReady();

async function drive(total: number, latencies?: number[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        next++;
        const t0 = performance.now();
        const job = await queue.add('job', { ms: toolMs }, { removeOnComplete: true, removeOnFail: true });
        const result = await job.waitUntilFinished(events, 15_000);
        if (result !== 'done') throw new Error(`job ended with ${String(result)}`);
        latencies?.push(performance.now() - t0);
      }
    }),
  );
}

await drive(Math.max(100, count / 10));
await readyThenWait();
const latencies: number[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await drive(count, latencies);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ latencies, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
await queue.close();
await events.close();
await connection.quit();
await eventsConnection.quit();
process.exit(0);
