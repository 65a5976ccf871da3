import { goLoad, type Measured } from '../lib/load.js';
import type { BenchServer } from '../lib/procs.js';
import { type Spread, spread } from '../lib/stats.js';

/** The bare echo server, the echo server with TaskService's RPC log line, TaskService. */
export type InlineTarget = 'echo' | 'echo+log' | 'taskservice';
const TARGETS: InlineTarget[] = ['echo', 'echo+log', 'taskservice'];

export interface InlineRow {
  target: InlineTarget;
  inFlight: number;
  callsPerSecond: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  serverCpuUsPerCall: Spread;
  clientCpuUsPerCall: Spread;
  /** Runs in which the Go load generator used less CPU than the server (see Measured.serverBound). */
  serverBoundRuns: number;
}

/**
 * Scenario 1: inline Execute of a trivial tool against the bare grpc-js echo
 * server, 1 and 64 calls in flight, from the Go load generator (one
 * connection, as ghz makes by default). The echo server with one log line per
 * call runs beside them: the floor of what a server with TaskService's
 * default logging can reach. The targets' order rotates from run to run.
 */
export async function inline(servers: Record<InlineTarget, BenchServer>, runs: number, calls: number) {
  const samples = new Map<string, Measured[]>();
  for (let run = 0; run < runs; run++) {
    const order = [...TARGETS.slice(run % 3), ...TARGETS.slice(0, run % 3)];
    for (const inFlight of [1, 64]) {
      for (const target of order) {
        const server = servers[target];
        const config = {
          mode: 'unary',
          address: server.address,
          calls: inFlight === 1 ? calls / 4 : calls,
          inFlight,
          tool: target === 'taskservice' ? 'noop' : 'echo',
        };
        const measured = await goLoad([config], { server: server.pid });
        const key = `${target}/${inFlight}`;
        samples.set(key, [...(samples.get(key) ?? []), measured]);
      }
    }
  }
  const rows: InlineRow[] = [...samples].map(([key, ms]) => {
    const [target, inFlight] = key.split('/') as [InlineTarget, string];
    return {
      target,
      inFlight: Number(inFlight),
      callsPerSecond: spread(ms.map((m) => m.perSecond)),
      p50Ms: spread(ms.map((m) => m.latency.p50)),
      p99Ms: spread(ms.map((m) => m.latency.p99)),
      serverCpuUsPerCall: spread(ms.map((m) => m.cpuUsPerOp.server!)),
      clientCpuUsPerCall: spread(ms.map((m) => m.cpuUsPerOp.client!)),
      serverBoundRuns: ms.filter((m) => m.serverBound).length,
    };
  });
  // Ratios run by run (side by side), then their spread.
  const against = (target: InlineTarget, inFlight: number, pick: (m: Measured) => number) => {
    const of = samples.get(`${target}/${inFlight}`)!;
    const echo = samples.get(`echo/${inFlight}`)!;
    return {
      ratio: spread(of.map((m, i) => pick(m) / pick(echo[i]!))),
      difference: spread(of.map((m, i) => pick(m) - pick(echo[i]!))),
    };
  };
  const ratios = Object.fromEntries(
    [1, 64].map((n) => [
      n,
      {
        throughput: against('taskservice', n, (m) => m.perSecond).ratio,
        serverCpu: against('taskservice', n, (m) => m.cpuUsPerOp.server!).ratio,
        p50ExtraUs: against('taskservice', n, (m) => m.latency.p50 * 1000).difference,
        /** The floor: what the echo server with one log line per call reaches against the bare one. */
        logLine: {
          throughput: against('echo+log', n, (m) => m.perSecond).ratio,
          serverCpu: against('echo+log', n, (m) => m.cpuUsPerOp.server!).ratio,
        },
      },
    ]),
  );
  return { rows, ratios };
}
