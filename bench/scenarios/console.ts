import { Client } from '../../src/client/index.js';
import { cpuSeconds } from '../lib/cpu.js';
import { LoadProcess } from '../lib/procs.js';
import type { BenchServer } from '../lib/procs.js';
import { type LatencySummary, summarize } from '../lib/stats.js';

/**
 * Scenario 8, the operators' console (issue 21): what following live updates costs the server, and (with
 * scenario 5's 100k tasks) how fast the tasks page's first page is served.
 */

export interface ConsoleFollowRow {
  store: 'memory' | 'redis';
  consoles: number;
  /** Task changes a second the load made, as one console heard them (fewest and most over the consoles). */
  heardPerSecond: { fewest: number; most: number };
  /** The server's CPU, as a share of one core, without consoles and with them, under the same changes. */
  cpuWithout: number;
  cpuWith: number;
}

/**
 * The tasks page's first page (GET /console/api/tasks, every user, 50 newest), `calls` times one after another:
 * the server's own time for each, from its Server-Timing header.
 */
export async function consoleFirstPage(httpPort: number, calls: number): Promise<LatencySummary> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const res = await fetch(`http://127.0.0.1:${httpPort}/console/api/tasks`);
    const body = (await res.json()) as { tasks?: unknown[] };
    if (res.status !== 200 || body.tasks?.length !== 50) throw new Error(`console page: HTTP ${res.status}`);
    times.push(Number(/dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1]));
  }
  return summarize(times);
}

/**
 * `consoles` consoles following the feed while `changesPerSecond` task changes a second happen (tasks of the
 * `progress_ticks` bench tool, each reporting progress 5 times a second): the server's CPU over `seconds` without
 * consoles, then with them, under the same changes.
 */
export async function consoleFollowers(
  store: 'memory' | 'redis',
  server: BenchServer & { metricsPort: number },
  consoles: number,
  changesPerSecond: number,
  seconds: number,
): Promise<ConsoleFollowRow> {
  const client = new Client(server.address);
  const ticksPerSecond = 5;
  const tasks = Math.max(1, Math.round(changesPerSecond / ticksPerSecond));
  // Long enough for both measurements and the set-up between them.
  const count = Math.ceil((2 * seconds + 10) * ticksPerSecond);
  try {
    const args = { count, interval_ms: 1000 / ticksPerSecond };
    for (let i = 0; i < tasks; i++) {
      await client.execute('progress_ticks', args, { userId: `console-${i % 10}`, budgetSeconds: 0.001 });
    }
    const cpuOver = async () => {
      const before = cpuSeconds(server.pid);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      return (cpuSeconds(server.pid) - before) / seconds;
    };
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const cpuWithout = await cpuOver();
    const followers = new LoadProcess<{ seconds: number; fewest: number; most: number }>('bench/load/consoles.ts', {
      url: `http://127.0.0.1:${server.metricsPort}/console/api/events`,
      consoles,
    });
    try {
      await followers.ready();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      followers.go();
      const cpuWith = await cpuOver();
      followers.go();
      const heard = await followers.result();
      return {
        store,
        consoles,
        heardPerSecond: { fewest: heard.fewest / heard.seconds, most: heard.most / heard.seconds },
        cpuWithout,
        cpuWith,
      };
    } finally {
      await followers.close();
    }
  } finally {
    client.close();
  }
}
