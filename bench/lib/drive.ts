import { readyThenWait } from './procs.js';

/**
 * `total` operations, `inFlight` at a time. An operation returns false when
 * it does not count (e.g. a call answered inline in a lifecycle run); the
 * latency of each one that counts goes into `latencies`.
 */
export async function drive(
  total: number,
  inFlight: number,
  op: () => Promise<boolean | void>,
  latencies?: number[],
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        next++;
        const t0 = performance.now();
        if ((await op()) !== false) latencies?.push(performance.now() - t0);
      }
    }),
  );
}

/**
 * What every load script does: warm up, say ready, wait for go, run, and
 * print one JSON line with every latency, the run's wall time, its own CPU
 * and whatever counts it adds.
 */
export async function measureRun(
  warmUp: () => Promise<void>,
  run: (latencies: number[]) => Promise<void>,
  counts: () => Record<string, number> = () => ({}),
): Promise<void> {
  await warmUp();
  await readyThenWait();
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(latencies);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({ latencies, ...counts(), seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
  );
}
