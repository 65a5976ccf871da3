import { CountsByKey } from './counts.js';
import { InvalidArgument, ResourceExhausted } from './errors.js';

/** Kept at the end of a cut result or error, so a reader knows it is not the whole text. */
export function truncationNote(kept: number, total: number): string {
  return `\n…[truncated by TaskService: ${kept} of ${total} bytes kept]`;
}

/**
 * `text` cut to at most `maxBytes` of UTF-8 (marker included), never in the
 * middle of a character. Unchanged when it fits.
 */
export function capBytes(text: string, maxBytes: number): string {
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= maxBytes) return text;
  const note = truncationNote(0, total);
  const room = Math.max(0, maxBytes - Buffer.byteLength(note, 'utf8') - 8);
  // Decoding a cut buffer can end in a partial character: drop it.
  const head = Buffer.from(text, 'utf8').subarray(0, room).toString('utf8').replace(/\uFFFD+$/, '');
  return head + truncationNote(Buffer.byteLength(head, 'utf8'), total);
}

/** Throws InvalidArgument naming the field and the limit when `text` is larger than `maxBytes`. */
export function checkSize(text: string, maxBytes: number, field: string, setting: string): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) throw new InvalidArgument(field, `is ${bytes} bytes; the limit is ${maxBytes} (${setting})`);
}

/** Throws InvalidArgument when a parsed JSON value nests deeper than `maxDepth` (walked without recursion). */
export function checkDepth(value: unknown, maxDepth: number, field: string, setting: string): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > maxDepth) throw new InvalidArgument(field, `nests deeper than ${maxDepth} levels (${setting})`);
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
}

/**
 * A place among the running calls: taken before a call stores anything,
 * freed when its run ends, or at once if none starts. It knows its limits and
 * user rather than holding a closure: one lives as long as each running task.
 */
export class Slot {
  private state: 'held' | 'handed' | 'freed' = 'held';

  constructor(
    private readonly limits: RunningLimits,
    private readonly userId: string,
  ) {}

  /** A run that started owns it now: only `release()` frees it, when the run ends. */
  handOver(): void {
    if (this.state === 'held') this.state = 'handed';
  }

  /** Frees it unless a run took it. */
  releaseIfHeld(): void {
    if (this.state === 'held') this.release();
  }

  release(): void {
    if (this.state === 'freed') return;
    this.state = 'freed';
    this.limits.free(this.userId);
  }
}

/**
 * How many tools run at once in this process, overall and per user. A call
 * beyond either limit is RESOURCE_EXHAUSTED at once rather than queued: the
 * caller (or the model) decides whether to retry.
 */
export class RunningLimits {
  private readonly perUser = new CountsByKey<string>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerUser: number,
  ) {}

  get running(): number {
    return this.perUser.total;
  }

  take(userId: string): Slot {
    if (this.perUser.total >= this.maxTotal) {
      throw new ResourceExhausted(`this replica runs ${this.perUser.total} tools, its limit (TASKSERVICE_MAX_RUNNING); retry later`);
    }
    const mine = this.perUser.get(userId);
    if (mine >= this.maxPerUser) {
      throw new ResourceExhausted(
        `user_id "${userId}" has ${mine} tools running on this replica, the limit (TASKSERVICE_MAX_RUNNING_PER_USER); wait for one to finish`,
      );
    }
    this.perUser.add(userId);
    return new Slot(this, userId);
  }

  /** Called by a Slot, once. */
  free(userId: string): void {
    this.perUser.remove(userId);
  }
}
