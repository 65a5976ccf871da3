import { eventually } from './eventually.js';

/** Samples of a Prometheus text exposition, by name and label set. */
export interface Samples {
  /** The sum over samples whose labels include `labels` (0 when there are none). */
  value(name: string, labels?: Record<string, string>): number;
}

export function parseMetrics(text: string): Samples {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return {
    value(name, labels = {}) {
      return samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    },
  };
}

/** GET /metrics on 127.0.0.1:`port`, parsed; the response too, for checks on its headers. */
export async function fetchMetrics(port: number): Promise<{ response: Response; samples: Samples }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  return { response, samples: parseMetrics(await response.text()) };
}

/**
 * Waits until the server whose /metrics is on `port` runs at least `count`
 * tools (inline and background): the calls have reached it and are under
 * way, which no fixed sleep can promise on a loaded machine.
 */
export async function untilToolsRunning(port: number, count: number): Promise<void> {
  await eventually(async () => (await fetchMetrics(port)).samples.value('taskservice_tool_runs_running') >= count, {
    timeoutMs: 10_000,
    what: `${count} tools running in the server`,
  });
}
