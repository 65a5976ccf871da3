import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberOption, stringOption } from './args.js';
import { type BenchServer, startServer } from './procs.js';

/**
 * The builds a GC comparison measures, in turn: `--compare=dist/old` (an earlier build copied there, inside the
 * checkout so that its bundle finds node_modules) first, then `dist`; all of it `--repeat=N` times.
 */
export function comparedBuilds(): { builds: string[]; repeat: number } {
  const compare = stringOption('compare');
  return { builds: compare ? [compare, 'dist'] : ['dist'], repeat: numberOption('repeat', 1) };
}

export interface Scavenges {
  count: number;
  meanMs: number;
  maxMs: number;
  /** Kilobytes a scavenge kept (copied or promoted), on average. */
  survivedKb: number;
  /** Of which promoted to the old generation (costlier than a copy within the young one). */
  promotedKb: number;
  /** Where a scavenge's pause went: V8's phases (`scavenge.parallel`, `scavenge.roots`, ...), mean ms each. */
  phases: [string, number][];
}

/** The --trace-gc-nvp fields that time a part of a scavenge's pause (`pause` is their sum and some more). */
const PHASE = /^(time_to_safepoint|heap\.|scavenge\.|fast_promote|complete\.)/;

/** A server whose V8 prints a line per GC (`--trace-gc-nvp`) to a file of its own. */
export interface TracedServer {
  server: BenchServer;
  /** Where the output has got to: give it to `scavengesSince` later. */
  mark(): number;
  /** The scavenges printed since `mark`. */
  scavengesSince(mark: number): Scavenges;
  /** Kills the server and removes its output. */
  close(): Promise<void>;
}

/** startServer's arguments, with `--trace-gc-nvp` (and any other Node options) added. */
export async function startTraced(
  script: string,
  env: Record<string, string>,
  addrVariable: string,
  nodeArgs: string[] = [],
): Promise<TracedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gc-trace-'));
  const output = join(dir, 'server.out');
  const read = () => readFileSync(output, 'utf8');
  let server: BenchServer;
  try {
    server = await startServer(script, env, addrVariable, ['--trace-gc-nvp', ...nodeArgs], output);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    server,
    mark: () => read().length,
    scavengesSince: (mark) => scavenges(read().slice(mark)),
    async close() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function scavenges(text: string): Scavenges {
  const lines = text.split('\n').filter((l) => l.includes('gc=s '));
  const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
  const pauses = lines.map((l) => field(l, 'pause'));
  // V8's new_space_survived: what a scavenge kept, copied within the young generation or promoted.
  const survived = lines.map((l) => field(l, 'new_space_survived'));
  const n = Math.max(1, lines.length);
  const phases = new Map<string, number>();
  for (const line of lines)
    for (const [, name, ms] of line.matchAll(/(\S+)=([\d.]+)/g))
      if (PHASE.test(name!)) phases.set(name!, (phases.get(name!) ?? 0) + Number(ms) / n);
  return {
    count: lines.length,
    meanMs: pauses.reduce((a, b) => a + b, 0) / n,
    maxMs: Math.max(0, ...pauses),
    survivedKb: survived.reduce((a, b) => a + b, 0) / n / 1024,
    promotedKb: lines.map((l) => field(l, 'promoted')).reduce((a, b) => a + b, 0) / n / 1024,
    phases: [...phases].filter(([, ms]) => ms >= 0.05).sort((a, b) => b[1] - a[1]),
  };
}
