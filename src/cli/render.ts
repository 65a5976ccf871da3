import { type Task, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { failureName } from '../client/errors.js';

/** How the CLI shows things: plain text for people and pipes; JSON is printed by the commands. */

export function statusName(task: Task): string {
  if (task.status === TaskStatus.TASK_STATUS_FAILED) return `failed (${failureName(task.failureReason)})`;
  return TaskStatus[task.status]?.replace(/^TASK_STATUS_/, '').toLowerCase() ?? 'unknown';
}

/** "0.4s", "12s", "3m05s", "2h10m". */
export function duration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** One line that a terminal redraws in place: `[######------]  50%  1.2s  message`. */
export function progressLine(fraction: number, elapsedMs: number, message: string, width = 24): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  return `${bar} ${String(Math.round(clamped * 100)).padStart(3)}%  ${duration(elapsedMs).padStart(6)}  ${message}`;
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
