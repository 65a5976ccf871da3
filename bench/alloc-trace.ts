/**
 * What the server allocates for a call on the Redis store, by function (the
 * client runs in the same process; stacks under its frames are left out).
 * V8's sampling heap profiler, collected objects included, follows `calls`
 * calls after a warm-up; the bytes per call are printed for the functions
 * that allocate most. Young garbage is what the scavenges that
 * set ListTasks' p99 at 100k tasks are made of, and a lifecycle's GC time.
 *
 *   npx tsx bench/alloc-trace.ts [--tasks=2000] [--calls=500]   ListTasks among `tasks` running tasks
 *   npx tsx bench/alloc-trace.ts --lifecycle [--calls=500]      ExecuteStream of a 5 ms tool, 16 at a time
 *   npx tsx bench/alloc-trace.ts --notify [--calls=500]         scenario 3 at 1k/s from the Go generator (100 tasks/s
 *                                                               of a 300 ms tool, 10 AwaitResult streams each), per
 *                                                               notification; the client is another process, so
 *                                                               everything sampled is the server's
 *
 * `--survivors` counts only what outlived a scavenge (promoted, or alive at the end): what makes a scavenge
 * slow, where the plain count says how often scavenges come. `--callers` charges every allocation to the innermost
 * function of TaskService's own code on its stack (what Node, grpc-js and ioredis allocate on its behalf
 * included), and to "no TaskService frame" what HTTP/2 and grpc-js allocate on their own.
 */
import { Session } from 'node:inspector/promises';
import pino from 'pino';
import { App } from '../src/app.js';
import { Client } from '../src/client/index.js';
import { loadConfig } from '../src/config/index.js';
import { RedisServer } from '../test/helpers/redis.js';
import { flag, numberOption } from './lib/args.js';
import { buildGoPrograms, goLoad } from './lib/load.js';
import { NOTIFY_RATES, notifyLoad } from './scenarios/notify.js';
import { tools } from './tools.js';

const TASKS = numberOption('tasks', 2000);
const CALLS = numberOption('calls', 500);
const LIFECYCLE = flag('lifecycle');
const NOTIFY = flag('notify');
/** Only what outlived a scavenge (was copied or promoted): what makes a scavenge slow. */
const SURVIVORS = flag('survivors');
/** Charge allocations to the innermost TaskService function on the stack. */
const CALLERS = flag('callers');
const OWN_FRAME = /^file:\/\/(?!.*node_modules).*\/src\/(?!client\/)/;
/** Frames of the client's side of the calls, whose allocations (and everything they call) are left out. */
const GRPC_CLIENT_FILES = [
  'client',
  'call',
  'channel',
  'internal-channel',
  'subchannel[\\w-]*',
  'load-balancing-call',
  'resolving-call',
  'retrying-call',
  'client-interceptors',
  'call-interface',
];
const CLIENT_FRAME = new RegExp(`src/client/|alloc-trace\\.ts|grpc-js/build/src/(${GRPC_CLIENT_FILES.join('|')})\\.js`);

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

if (NOTIFY) buildGoPrograms();
const redis = await RedisServer.start();
const app = new App(
  loadConfig({
    TASKSERVICE_PORT: '0',
    REDIS_URL: redis.url,
    TASKSERVICE_MAX_RUNNING: '1000000',
    TASKSERVICE_MAX_RUNNING_PER_USER: '1000000',
  }),
  pino({ level: 'error' }),
  { tools },
);
const port = await app.start();
const client = new Client(`127.0.0.1:${port}`);
const session = new Session();
session.connect();
try {
  const list = () => client.list({ userId: 'alloc', pageSize: 50 });
  const lifecycles = async (n: number) => {
    // 16 at a time, each an ExecuteStream of a 5 ms tool (a 1 ms budget: backgrounded) read to its end.
    const one = async () => {
      for await (const _ of client.executeStream('wait_ms', { ms: 5 }, { userId: 'alloc', timeoutSeconds: 0.001 }));
    };
    for (let i = 0; i < n; i += 16) await Promise.all(Array.from({ length: Math.min(16, n - i) }, one));
  };
  const notifications = async (n: number) => {
    const address = `127.0.0.1:${port}`;
    const { watchers } = NOTIFY_RATES['1k/s'];
    const m = await goLoad([notifyLoad(address, address, '1k/s', Math.ceil(n / watchers))], {});
    if (m.latency.count !== n) throw new Error(`${m.latency.count} of ${n} notifications heard`);
  };
  const run = async (n: number) => {
    if (LIFECYCLE) return lifecycles(n);
    if (NOTIFY) return notifications(n);
    for (let i = 0; i < n; i++) await list();
  };
  if (!LIFECYCLE && !NOTIFY) {
    for (let i = 0; i < TASKS; i++) {
      await app.manager.execute({
        toolName: 'idle',
        argumentsJson: '{}',
        origin: { userId: 'alloc', channelId: '', platform: '' },
        budgetSeconds: 0.001,
      });
    }
  }
  await run(200);
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: !SURVIVORS,
  });
  await run(CALLS);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: Node } };
  const byFunction = new Map<string, number>();
  let total = 0;
  const stacks = new Map<string, number>();
  const walk = (node: Node, path: string[], client: boolean, own?: string) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/)?/, '')}:${lineNumber + 1}`;
    const here = [where, ...path];
    // The client's side: a frame of the client library, grpc-js's client call stack, or this script.
    const clientSide = client || CLIENT_FRAME.test(url);
    if (OWN_FRAME.test(url)) own = where;
    if (!clientSide) {
      const charged = CALLERS
        ? process.env.UNDER && own?.startsWith(process.env.UNDER)
          ? `${own} > ${where}`
          : (own ?? 'no TaskService frame')
        : where;
      byFunction.set(charged, (byFunction.get(charged) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    // WHO=<function name>: also where that function's allocations were called from.
    if (!clientSide && process.env.WHO && where.startsWith(process.env.WHO) && node.selfSize > 0) {
      const key = here.slice(0, 6).join(' < ');
      stacks.set(key, (stacks.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here, clientSide, own);
  };
  walk(profile.head, [], false);
  const per = LIFECYCLE ? 'lifecycle' : NOTIFY ? 'notification (a tenth of its task included)' : 'ListTasks call';
  console.log(`${(total / CALLS / 1024).toFixed(1)} KiB allocated by the server per ${per}`);
  for (const [where, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 30))) {
    console.log(`${(bytes / CALLS / 1024).toFixed(1).padStart(8)} KiB  ${where}`);
  }
  for (const [stack, bytes] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    console.log(`${(bytes / CALLS / 1024).toFixed(1).padStart(8)} KiB  ${stack}`);
  }
} finally {
  session.disconnect();
  client.close();
  await app.close();
  await redis.stop();
}
