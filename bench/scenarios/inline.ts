import { goLoad, type Measured } from '../lib/load.js';
import type { BenchServer } from '../lib/procs.js';
import { type Spread, spread } from '../lib/stats.js';

export interface InlineRow {
  target: 'echo' | 'taskservice';
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
 * connection, as ghz makes by default). Targets alternate within each run.
 */
export async function inline(servers: { echo: BenchServer; taskservice: BenchServer }, runs: number, calls: number) {
  const samples = new Map<string, Measured[]>();
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? (['echo', 'taskservice'] as const) : (['taskservice', 'echo'] as const);
    for (const inFlight of [1, 64]) {
      for (const target of order) {
        const server = servers[target];
        const config = {
          mode: 'unary',
          address: server.address,
          calls: inFlight === 1 ? calls / 4 : calls,
          inFlight,
          tool: target === 'echo' ? 'echo' : 'noop',
        };
        const measured = await goLoad([config], { server: server.pid });
        const key = `${target}/${inFlight}`;
        samples.set(key, [...(samples.get(key) ?? []), measured]);
      }
    }
  }
  const rows: InlineRow[] = [...samples].map(([key, ms]) => {
    const [target, inFlight] = key.split('/') as ['echo' | 'taskservice', string];
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
  const ratio = (inFlight: number, pick: (m: Measured) => number) => {
    const ts = samples.get(`taskservice/${inFlight}`)!;
    const echo = samples.get(`echo/${inFlight}`)!;
    return spread(ts.map((m, i) => pick(m) / pick(echo[i]!)));
  };
  const diff = (inFlight: number, pick: (m: Measured) => number) => {
    const ts = samples.get(`taskservice/${inFlight}`)!;
    const echo = samples.get(`echo/${inFlight}`)!;
    return spread(ts.map((m, i) => pick(m) - pick(echo[i]!)));
  };
  const ratios = Object.fromEntries(
    [1, 64].map((n) => [
      n,
      {
        throughput: ratio(n, (m) => m.perSecond),
        serverCpu: ratio(n, (m) => m.cpuUsPerOp.server!),
        p50ExtraUs: diff(n, (m) => m.latency.p50 * 1000),
      },
    ]),
  );
  return { rows, ratios };
}
