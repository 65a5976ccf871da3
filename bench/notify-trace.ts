/**
 * Where a notification's time goes, in process: an App on a fresh
 * redis-server runs `settle_stamp` (it returns the time it settled) 40 times,
 * one at a time, each watched through `manager.watch`, and prints
 * - the watcher's latency (settle -> terminal update in the watcher), p50;
 * - for the last task, every Redis call the store made around the settle,
 *   when it was issued and when its reply came, relative to the settle;
 * - each script's own time inside Redis (SLOWLOG), p50 by script;
 * - a PING's round trip through the store's bounded client, its raw client
 *   and a bare ioredis client in the same process, interleaved.
 *
 *   npx tsx bench/notify-trace.ts
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { App } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { BoundedCommands } from '../src/store/redis/bounded-commands.js';
import { RedisServer } from '../test/helpers/redis.js';
import { tools } from './tools.js';

const now = () => performance.timeOrigin + performance.now();
const p50 = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const redis = await RedisServer.start();
const admin = new Redis(redis.url);
const app = new App(loadConfig({ TASKSERVICE_PORT: '0', REDIS_URL: redis.url }), pino({ level: 'error' }), { tools });
await app.start();

// Every Redis call the store makes, while `calls` is set: [time, what].
let calls: [number, string][] | undefined;
const call = BoundedCommands.prototype.call;
BoundedCommands.prototype.call = function <T>(
  this: BoundedCommands,
  run: Parameters<BoundedCommands['call']>[0],
  deadline?: number,
) {
  const what = run.toString().replace(/\s+/g, ' ').slice(0, 50);
  calls?.push([now(), `sent  ${what}`]);
  const reply = call.call(this, run, deadline) as Promise<T>;
  void reply.then(
    () => calls?.push([now(), `reply ${what}`]),
    () => undefined,
  );
  return reply;
};

try {
  await admin.config('SET', 'slowlog-max-len', '100000');
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  await admin.slowlog('RESET');
  const latencies: number[] = [];
  let lastSettle = 0;
  for (let i = 0; i < 400; i++) {
    if (i === 399) calls = [];
    const origin = { userId: 'trace', channelId: '', platform: '' };
    const answer = await app.manager.execute({
      toolName: 'settle_stamp',
      argumentsJson: '{"ms":10}',
      origin,
      budgetSeconds: 0.001,
    });
    const signal = new AbortController().signal;
    for await (const update of app.manager.watch(answer.task.taskId, { userId: 'trace', signal })) {
      if (update.task.status === 'running') continue;
      lastSettle = Number(update.task.result);
      latencies.push(now() - lastSettle);
      calls?.push([now(), 'the watcher has the terminal update']);
      break;
    }
  }
  const traced = calls!.filter(([at]) => at > lastSettle - 1);
  calls = undefined;
  console.log(`watcher latency p50 ${p50(latencies).toFixed(3)} ms (${latencies.length} tasks)`);
  console.log('the last task, ms after the tool settled:');
  for (const [at, what] of traced) console.log(`  ${(at - lastSettle).toFixed(3).padStart(7)}  ${what}`);

  const slow = (await admin.slowlog('GET', 100000)) as [number, number, number, string[]][];
  await admin.config('SET', 'slowlog-log-slower-than', '10000');
  const scripts = new Map<string, number[]>();
  for (const [, , us, args] of slow) {
    if (args[0] !== 'evalsha') continue;
    const key = `${args[1]!.slice(0, 8)} (${args[2]} keys)`;
    scripts.set(key, [...(scripts.get(key) ?? []), us]);
  }
  console.log('scripts inside Redis (SLOWLOG), p50:');
  for (const [script, us] of scripts) console.log(`  ${script}: ${p50(us)} µs over ${us.length} runs`);

  const commands = (app as unknown as { redis: { store: { commands: BoundedCommands } } }).redis.store.commands;
  const raw = (commands as unknown as { client: Redis }).client;
  const bare = new Redis(redis.url, { enableAutoPipelining: true });
  const ways: Record<string, () => Promise<unknown>> = {
    'the store (bounded)': () => commands.call((c) => c.ping()),
    "the store's client": () => raw.ping(),
    'a bare ioredis client': () => bare.ping(),
  };
  const pings: Record<string, number[]> = {};
  for (let i = 0; i < 600; i++) {
    for (const [name, ping] of Object.entries(ways)) {
      await new Promise((resolve) => setTimeout(resolve, 1)); // from an idle loop, as a tool settling
      const started = performance.now();
      await ping();
      (pings[name] ??= []).push(performance.now() - started);
    }
  }
  bare.disconnect();
  console.log('PING round trip after an idle 1 ms timer, p50 (interleaved, 600 each):');
  for (const [name, ms] of Object.entries(pings)) console.log(`  ${name}: ${p50(ms).toFixed(3)} ms`);
} finally {
  BoundedCommands.prototype.call = call;
  admin.disconnect();
  await app.close();
  await redis.stop();
}
