import { execFileSync } from 'node:child_process';
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
  /**
   * The load generators together used less CPU than the processes measured (servers, Redis): the
   * servers, not the client, set the pace, so the figures are the servers'.
   */
  serverBound: boolean;
  /** The measured window, from go to the last result: µs on the monotonic clock (process.hrtime, V8 profiles). */
  window: { fromUs: number; toUs: number };
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** The Go load generator (bench/go/load), built by buildGoPrograms. */
export const GO_LOAD = 'dist/bench-load';
/** The Go ListTasks client (bench/go/listtasks). */
export const GO_LIST_TASKS = 'dist/bench-listtasks';

/** Builds the bench's Go programs into dist/. */
export function buildGoPrograms(): void {
  for (const [output, pkg] of [
    [GO_LOAD, './load'],
    [GO_LIST_TASKS, './listtasks'],
  ]) {
    execFileSync('go', ['build', '-o', `../../${output}`, pkg], { cwd: 'bench/go', stdio: 'inherit' });
  }
}

/** runLoad with the Go load generator: `configs` carry its `mode` (unary, stream, two-call, notify). */
export function goLoad(configs: unknown[], watch: Record<string, number>, extraCpu?: ExtraCpu): Promise<Measured> {
  return runLoad(GO_LOAD, configs, watch, extraCpu, { program: true });
}

/** CPU read another way (Redis's own INFO): sampled when the last result is in. */
export interface ExtraCpu {
  sample(): Promise<void>;
  read(): Record<string, number>;
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
  extraCpu?: ExtraCpu,
  options: { program?: boolean } = {},
): Promise<Measured> {
  const loads = configs.map((config) => new LoadProcess<LoadResult>(script, config, { program: options.program }));
  await Promise.all(loads.map((l) => l.ready()));
  const meter = new CpuMeter(watch);
  const fromUs = monotonicUs();
  for (const l of loads) l.go();
  const results = await Promise.all(loads.map((l) => l.result()));
  const toUs = monotonicUs();
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
  const clientCpu = results.reduce((sum, r) => sum + r.cpuSeconds, 0);
  const serversCpu = Object.values(cpu).reduce((sum, s) => sum + s, 0);
  return {
    // Each process timed its own run from the same go: the slowest bounds the whole.
    perSecond: ops / Math.max(...results.map((r) => r.seconds)),
    latency: summarize(latencies),
    cpuUsPerOp: {
      ...Object.fromEntries(Object.entries(cpu).map(([name, s]) => [name, perOp(s)])),
      client: perOp(clientCpu),
    },
    counts,
    serverBound: clientCpu < serversCpu,
    window: { fromUs, toUs },
  };
}
