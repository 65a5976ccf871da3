/**
 * What a worker hop costs: inline Execute latency and throughput of the same
 * trivial tool in-process (`echo`) and on the fixture workers (Python sync,
 * Python asyncio, Go), side by side in one run, on loopback with the memory store.
 * With --redis: two replicas on one redis-server, and the Go worker called on
 * its own replica and from the other one (the handoff through Redis).
 *
 *   npx tsx bench/worker-calls.ts [calls-per-case (default 2000)] [--redis]
 *
 * Bounded: every case runs a fixed number of calls, each with a 10 s deadline.
 */
import { cpus } from 'node:os';
import { RedisServer } from '../test/helpers/redis.js';
import { call, startTestServer } from '../test/helpers/server.js';
import { type WorkerLanguage, WorkerProcess } from '../test/helpers/worker-process.js';

const CALLS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 2000);
const WITH_REDIS = process.argv.includes('--redis');
const IN_FLIGHT = [1, 16];

const redis = WITH_REDIS ? await RedisServer.start() : undefined;
const storeEnv: Record<string, string> = redis ? { REDIS_URL: redis.url, TASKSERVICE_REDIS_PREFIX: 'bench:' } : {};
const server = await startTestServer({ TASKSERVICE_LOG_LEVEL: 'silent', ...storeEnv });
const other = redis ? await startTestServer({ TASKSERVICE_LOG_LEVEL: 'silent', ...storeEnv }) : undefined;
const workers: WorkerProcess[] = [];
try {
  const cases: { label: string; tool: string }[] = [{ label: 'in-process echo', tool: 'echo' }];
  // concurrency 0: the tool itself sets no limit, so the hop is what is measured.
  const languages: WorkerLanguage[] = other ? ['go'] : ['python', 'python-async', 'go'];
  for (const language of languages) {
    const prefix = language.replace('-', '_');
    workers.push(
      await WorkerProcess.start(language, { address: server.address, name: language, prefix, concurrency: 0 }),
    );
    cases.push({ label: `${language} worker`, tool: `${prefix}_echo` });
  }
  if (other) {
    workers.push(
      await WorkerProcess.start('go', { address: other.address, name: 'far', prefix: 'far', concurrency: 0 }),
    );
    cases.push({ label: 'go worker, other replica', tool: 'far_echo' });
    // The calling replica learns of the other's worker through Redis.
    const end = Date.now() + 10_000;
    while (
      !(await call(server.client.listTools, server.client, {})).tools.some(
        (t) => t.name === 'far_echo' && t.workers > 0,
      )
    ) {
      if (Date.now() > end) throw new Error('far_echo never showed up on the calling replica');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const once = (tool: string) =>
    call(server.client.execute, server.client, {
      toolName: tool,
      argumentsJson: '{"text":"hi"}',
      userId: 'bench',
      channelId: '',
      platform: '',
      requestId: '',
      timeoutSeconds: 5,
    });

  console.log(
    `machine: ${cpus()[0]?.model} x${cpus().length}, node ${process.version}; ${CALLS} calls per case; store: ` +
      `${redis ? 'redis' : 'memory'}`,
  );
  console.log('case                        in flight   calls/s    p50 ms   p99 ms   vs in-process (p50)');
  const baseline: Record<number, number> = {};
  for (const inFlight of IN_FLIGHT) {
    for (const { label, tool } of cases) {
      for (let i = 0; i < 200; i++) await once(tool); // warm-up
      const latencies: number[] = [];
      let next = 0;
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < CALLS) {
            next++;
            const t0 = process.hrtime.bigint();
            const response = await once(tool);
            if (response.backgrounded) throw new Error(`${tool} was backgrounded`);
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      latencies.sort((a, b) => a - b);
      const p50 = latencies[Math.floor(latencies.length * 0.5)]!;
      const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
      baseline[inFlight] ??= p50;
      console.log(
        `${label.padEnd(27)} ${String(inFlight).padStart(9)} ` +
          `${(latencies.length / seconds).toFixed(0).padStart(9)} ${p50.toFixed(3).padStart(9)} ` +
          `${p99.toFixed(3).padStart(8)}   ${(p50 / baseline[inFlight]!).toFixed(2)}x`,
      );
    }
  }
} finally {
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all([server.close(), other?.close()]);
  await redis?.stop();
}
