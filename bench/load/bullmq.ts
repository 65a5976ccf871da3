/**
 * Load generator, BullMQ side of scenario 2: queue.add, then
 * job.waitUntilFinished through QueueEvents, `inFlight` at a time. The same
 * latency (added -> finished seen) as TaskService's Execute -> terminal.
 */
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { drive, measureRun } from '../lib/drive.js';

const { redisUrl, count, inFlight, toolMs } = JSON.parse(process.argv[2]!) as {
  redisUrl: string;
  count: number;
  inFlight: number;
  toolMs: number;
};
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue('bench', { connection });
// waitUntilFinished listens on the queue once per job in flight.
queue.setMaxListeners(inFlight + 10);
const eventsConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const events = new QueueEvents('bench', { connection: eventsConnection });
await events.waitUntilReady();

async function job(): Promise<void> {
  const added = await queue.add('job', { ms: toolMs });
  const result = await added.waitUntilFinished(events, 15_000);
  if (result !== 'done') throw new Error(`job ended with ${String(result)}`);
}

await measureRun(
  () => drive(Math.max(100, count / 10), inFlight, job),
  (latencies) => drive(count, inFlight, job, latencies),
);
await queue.close();
await events.close();
await connection.quit();
await eventsConnection.quit();
process.exit(0);
