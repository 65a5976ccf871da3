import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The parts of a V8 .cpuprofile this reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  /** Epoch of the first sample, µs on the monotonic clock (process.hrtime's). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function over a window, in µs. */
export interface FunctionTime {
  name: string;
  /** Where it lives: grpc-js, taskservice, node, gc, ... */
  component: string;
  us: number;
}

/**
 * What code a profile frame belongs to. The bundle keeps node_modules
 * external (`--packages=external`), so a frame's URL says whose it is.
 */
export function componentOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(program)') return 'v8 (program)';
  if (functionName === '(idle)') return 'idle';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:') || url === '') return 'node';
  if (url.includes('/dist/') || url.includes('/src/')) return 'taskservice';
  if (url.includes('/bench/') || url.includes('/gen/')) return 'bench / generated';
  return 'other';
}

/**
 * Self time per function of the main thread's .cpuprofile in `dir` (Node
 * names them CPU.<date>.<time>.<pid>.<thread>.<sequence>; tsx's loader
 * runs on a thread of its own, which writes one too), counting only
 * samples taken between `fromUs` and `toUs` (µs on the monotonic clock, as
 * Measured.window gives them): the measured load, not start-up or warm-up.
 */
export function selfTimes(dir: string, { fromUs, toUs }: { fromUs: number; toUs: number }): FunctionTime[] {
  const files = readdirSync(dir).filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (files.length !== 1) throw new Error(`expected one main-thread .cpuprofile in ${dir}, found ${files.length}`);
  const profile = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const times = new Map<string, FunctionTime>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]!;
    // A sample's time is the interval that ends at it.
    const delta = profile.timeDeltas[i + 1] ?? 0;
    if (at < fromUs || at > toUs) continue;
    const frame = byId.get(profile.samples[i]!)!;
    const component = componentOf(frame.url, frame.functionName);
    const where = frame.url ? `${basename(frame.url)}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    const key = `${component}|${name}`;
    const entry = times.get(key) ?? { name, component, us: 0 };
    entry.us += delta;
    times.set(key, entry);
  }
  return [...times.values()].sort((a, b) => b.us - a.us);
}

/** Sums of self time by component. */
export function byComponent(times: FunctionTime[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const t of times) sums.set(t.component, (sums.get(t.component) ?? 0) + t.us);
  return sums;
}
