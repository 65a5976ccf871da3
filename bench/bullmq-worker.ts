/**
 * The BullMQ side of scenario 2: a worker process running the same trivial
 * job as TaskService's `wait_ms` tool, 64 at a time.
 *
 *   BULL_REDIS=redis://127.0.0.1:6379 node --import tsx bench/bullmq-worker.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.BULL_REDIS!, { maxRetriesPerRequest: null });
const worker = new Worker(
  'bench',
  async (job) => {
    await sleep((job.data as { ms: number }).ms);
    return 'done';
  },
  { connection, concurrency: Number(process.env.BULL_CONCURRENCY ?? 64) },
);
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker
    .close()
    .then(() => connection.quit())
    .then(() => process.exit(0));
});
