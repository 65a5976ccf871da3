import type { BenchServer } from '../lib/procs.js';
import { goLoad } from '../lib/load.js';
import { type Spread, spread } from '../lib/stats.js';

export interface NotifyRow {
  /** `grpc floor`: the echo server's `settle_stamp`, a task in a map and no store (bench/echo-server.ts). */
  path: 'same replica' | 'cross-replica' | 'grpc floor';
  /** Terminal updates delivered per second, as asked for. */
  rate: string;
  notificationsPerSecond: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  delivered: number;
  /**
   * Streams that opened only after their task had settled (the machine fell behind): they got the terminal
   * snapshot, not a notification.
   */
  late: number;
  expected: number;
  serverCpuUsPerNotification: Spread;
  /** The Go load generator's CPU (it starts the tasks and holds the streams). */
  clientCpuUsPerNotification: Spread;
}

/** Scenario 3's rates: tasks started a second, and AwaitResult watchers on each (a notification per watcher). */
export const NOTIFY_RATES = {
  idle: { tasksPerSecond: 20, watchers: 1 },
  '1k/s': { tasksPerSecond: 100, watchers: 10 },
  '10k/s': { tasksPerSecond: 250, watchers: 40 },
} as const;

/** The Go generator's notify load: `tasks` tasks of a 300 ms tool at `rate`, run on one address, watched on another. */
export function notifyLoad(execAddress: string, awaitAddress: string, rate: keyof typeof NOTIFY_RATES, tasks: number) {
  return { mode: 'notify', execAddress, awaitAddress, toolMs: 300, rate, ...NOTIFY_RATES[rate], tasks };
}

/**
 * Scenario 3: tool settles -> terminal update received by an AwaitResult
 * client. Two replicas on one Redis: the same replica runs the tool and
 * serves the stream, or the stream is on the other one (the change travels
 * through Redis pub/sub). Rates above idle put several watchers on each task
 * (a task's terminal update is one notification per watcher): a 2-core
 * machine cannot start 10,000 tasks a second, but it can be asked to deliver
 * 10,000 notifications a second. The grpc floor runs the same load against
 * the echo server: what grpc-js, HTTP/2 and the Go client cost with no store.
 */
export async function notify(a: BenchServer, b: BenchServer, floor: BenchServer, runs: number, smoke: boolean) {
  const rates = [
    { rate: 'idle', tasks: smoke ? 20 : 200 },
    { rate: '1k/s', tasks: smoke ? 50 : 300 },
    { rate: '10k/s', tasks: smoke ? 50 : 500 },
  ] as const;
  const rows: NotifyRow[] = [];
  // Rate by rate, every path at one rate before the next: the 10k/s overload leaves the servers a heap of
  // 200 MB whose major GCs (20-47 ms, --trace-gc) landed in whichever case ran after it.
  for (const r of rates) {
    for (const path of ['same replica', 'cross-replica', 'grpc floor'] as const) {
      const [exec, watch] = path === 'grpc floor' ? [floor, floor] : path === 'same replica' ? [a, a] : [a, b];
      const pids: Record<string, number> = path === 'grpc floor' ? { a: floor.pid } : { a: a.pid, b: b.pid };
      const samples = [];
      let delivered = 0;
      let late = 0;
      for (let run = 0; run < runs; run++) {
        const m = await goLoad([notifyLoad(exec.address, watch.address, r.rate, r.tasks)], pids);
        delivered += m.latency.count;
        late += m.counts.missedSettle ?? 0;
        samples.push(m);
      }
      rows.push({
        path,
        rate: r.rate,
        notificationsPerSecond: spread(samples.map((m) => m.perSecond)),
        p50Ms: spread(samples.map((m) => m.latency.p50)),
        p99Ms: spread(samples.map((m) => m.latency.p99)),
        delivered,
        late,
        expected: runs * r.tasks * NOTIFY_RATES[r.rate].watchers,
        serverCpuUsPerNotification: spread(samples.map((m) => m.cpuUsPerOp.a! + (m.cpuUsPerOp.b ?? 0))),
        clientCpuUsPerNotification: spread(samples.map((m) => m.cpuUsPerOp.client!)),
      });
    }
  }
  return rows;
}
