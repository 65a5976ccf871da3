import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc: works for any process we started. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / TICKS_PER_SECOND;
}

/** Resident set size in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? NaN) * 1024;
}

/** CPU used by each process over a section of work. */
export class CpuMeter {
  private readonly start = new Map<string, number>();

  constructor(private readonly pids: Record<string, number>) {
    for (const [name, pid] of Object.entries(pids)) this.start.set(name, cpuSeconds(pid));
  }

  /** Seconds of CPU per process since construction. */
  read(): Record<string, number> {
    return Object.fromEntries(
      Object.entries(this.pids).map(([name, pid]) => [name, cpuSeconds(pid) - this.start.get(name)!]),
    );
  }
}
