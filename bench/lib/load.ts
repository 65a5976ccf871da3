import { CpuMeter } from './cpu.js';
import { LoadProcess } from './procs.js';
import { summarize, type LatencySummary } from './stats.js';

/** What every load script prints. */
export interface LoadResult {
  latencies: number[];
  seconds: number;
  cpuSeconds: number;
}

export interface Measured {
  /** Operations completed per second (all load processes together). */
  perSecond: number;
  latency: LatencySummary;
  /** CPU microseconds per operation, by process name ("client" = all load processes). */
  cpuUsPerOp: Record<string, number>;
  /** Other numbers the load scripts reported, summed over them (e.g. missedSettle). */
  counts: Record<string, number>;
}

/**
 * Runs `script` in `processes` load processes at once (each gets `config`),
 * and measures the processes in `watch` (name -> pid) between go and the
 * last result.
 */
export async function runLoad(
  script: string,
  configs: unknown[],
  watch: Record<string, number>,
  /** CPU read another way (Redis's own INFO): sampled when the last result is in. */
  extraCpu?: { sample(): Promise<void>; read(): Record<string, number> },
): Promise<Measured> {
  const loads = configs.map((config) => new LoadProcess<LoadResult>(script, config));
  await Promise.all(loads.map((l) => l.ready()));
  const meter = new CpuMeter(watch);
  for (const l of loads) l.go();
  const results = await Promise.all(loads.map((l) => l.result()));
  await extraCpu?.sample();
  const cpu = { ...meter.read(), ...extraCpu?.read() };
  await Promise.all(loads.map((l) => l.close()));
  const latencies = results.flatMap((r) => r.latencies);
  const counts: Record<string, number> = {};
  for (const r of results) {
    for (const [key, value] of Object.entries(r)) {
      if (typeof value === 'number' && !['seconds', 'cpuSeconds'].includes(key))
        counts[key] = (counts[key] ?? 0) + value;
    }
  }
  const ops = latencies.length;
  const perOp = (s: number) => (s * 1e6) / ops;
  return {
    // Each process timed its own run from the same go: the slowest bounds the whole.
    perSecond: ops / Math.max(...results.map((r) => r.seconds)),
    latency: summarize(latencies),
    cpuUsPerOp: {
      ...Object.fromEntries(Object.entries(cpu).map(([name, s]) => [name, perOp(s)])),
      client: perOp(results.reduce((sum, r) => sum + r.cpuSeconds, 0)),
    },
    counts,
  };
}
