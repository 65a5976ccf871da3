/**
 * What a ListTasks call allocates on the Redis store, by function: an App on a
 * fresh redis-server holds `tasks` running tasks of one user; after a warm-up,
 * V8's sampling heap profiler (collected objects included) follows `calls`
 * ListTasks calls through gRPC, and the bytes per call are printed for the
 * functions that allocate most. Young garbage is what makes the scavenges
 * that set ListTasks' p99 at 100k tasks (docs/PERFORMANCE.md, scenario 5).
 *
 *   npx tsx bench/alloc-trace.ts [--tasks=2000] [--calls=500]
 */
import { Session } from 'node:inspector/promises';
import pino from 'pino';
import { App } from '../src/app.js';
import { Client } from '../src/client/index.js';
import { loadConfig } from '../src/config/index.js';
import { RedisServer } from '../test/helpers/redis.js';
import { numberOption } from './lib/args.js';
import { tools } from './tools.js';

const TASKS = numberOption('tasks', 2000);
const CALLS = numberOption('calls', 500);

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const redis = await RedisServer.start();
const app = new App(
  loadConfig({ TASKSERVICE_PORT: '0', REDIS_URL: redis.url, TASKSERVICE_MAX_RUNNING_PER_USER: '1000000' }),
  pino({ level: 'error' }),
  { tools },
);
const port = await app.start();
const client = new Client(`127.0.0.1:${port}`);
const session = new Session();
session.connect();
try {
  for (let i = 0; i < TASKS; i++) {
    await app.manager.execute({
      toolName: 'idle',
      argumentsJson: '{}',
      origin: { userId: 'alloc', channelId: '', platform: '' },
      budgetSeconds: 0.001,
    });
  }
  const list = () => client.list({ userId: 'alloc', pageSize: 50 });
  for (let i = 0; i < 200; i++) await list();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let i = 0; i < CALLS; i++) await list();
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: Node } };
  const byFunction = new Map<string, number>();
  let total = 0;
  const walk = (node: Node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/)?/, '')}:${lineNumber + 1}`;
    byFunction.set(where, (byFunction.get(where) ?? 0) + node.selfSize);
    total += node.selfSize;
    node.children.forEach(walk);
  };
  walk(profile.head);
  console.log(
    `${(total / CALLS / 1024).toFixed(1)} KiB allocated per ListTasks call (client and server, ${TASKS} tasks)`,
  );
  for (const [where, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${(bytes / CALLS / 1024).toFixed(1).padStart(8)} KiB  ${where}`);
  }
} finally {
  session.disconnect();
  client.close();
  await app.close();
  await redis.stop();
}
