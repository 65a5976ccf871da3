/**
 * Scenario 5, in process: the V8 heap each running background task costs,
 * with garbage collected before both readings (run with --expose-gc). The
 * App is built as the server builds it, from the same configuration, and
 * `tasks` background tasks of `tool` are started through the path Execute
 * takes (TaskManager.execute), without gRPC: an answered call holds nothing.
 */
import pino from 'pino';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { readyThenWait } from '../lib/procs.js';
import { tools } from '../tools.js';

const { tasks, tool, redisUrl } = JSON.parse(process.argv[2]!) as { tasks: number; tool: string; redisUrl?: string };
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const config = loadConfig({
  TASKSERVICE_PORT: '0',
  TASKSERVICE_MAX_RUNNING: '10000000',
  TASKSERVICE_MAX_RUNNING_PER_USER: '10000000',
  ...(redisUrl && { REDIS_URL: redisUrl }),
});
// Logs go to stderr: stdout is the bench's line protocol.
const app = new App(config, pino({ level: 'error' }, pino.destination(2)), { tools });
await app.start();
const execute = () =>
  app.manager.execute({
    toolName: tool,
    argumentsJson: tool === 'wait_ms' ? '{"ms":600000}' : '{}',
    origin: { userId: 'heap', channelId: '', platform: '' },
    budgetSeconds: 0.001,
  });
const startBatch = async (count: number) => {
  for (let i = 0; i < count; i += 100) {
    const answers = await Promise.all(Array.from({ length: Math.min(100, count - i) }, execute));
    if (answers.some((a) => !a.backgrounded)) throw new Error(`${tool} was not backgrounded`);
  }
};
const settledHeap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

await readyThenWait();
// Warm up: the first calls compile code and grow the maps; that is not per task.
await startBatch(500);
const before = settledHeap();
await startBatch(tasks);
const after = settledHeap();
const running = app.manager.runningHere;
process.stdout.write(`${JSON.stringify({ tasks, running, heapBytesPerTask: (after - before) / tasks })}\n`);
// The tasks are left running: the bench throws this process and its redis-server away.
process.exit(0);
