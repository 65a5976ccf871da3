import type { ListPage, ListQuery } from '../../core/store.js';
import type { TaskRecord } from '../../core/task.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { BoundedCommands } from './bounded-commands.js';
import { taskFromHash } from './codec.js';
import type { RedisKeys } from './keys.js';

const CURSOR_TAG = 'r1';
/** An index member: `<13-digit inverted creation ms>:<task_id>` (keys.ts, docs/REDIS.md). */
const MEMBER = /^\d{13}:[A-Za-z0-9_-]{1,64}$/;
/** Where the task id starts in an index member. */
const ID_AT = 14;

/**
 * One page of tasks, newest first. Each shard's index members sort newest
 * first by their bytes, so a page is a k-way merge of `ZRANGE idx (<last
 * member> + BYLEX` over the shards: tasks made since sort before every member
 * already seen and never shift a later page, in any shard. The page token
 * wraps the last member returned; one member says where every shard is.
 */
export async function listTasks(commands: BoundedCommands, keys: RedisKeys, query: ListQuery): Promise<ListPage> {
  const indexes = keys.shards.map((k) => (query.userId ? k.userIndex(query.userId) : k.allIndex));
  let after = query.cursor ? decodeCursor(CURSOR_TAG, query.cursor, MEMBER) : undefined;
  const tasks: TaskRecord[] = [];
  let lastReturned: string | undefined;
  const batch = Math.min(Math.max(query.limit + 1, 50), 1000);
  const merged = new MergedIndexes(commands, indexes, after, batch, query.deadline);
  // A page with filters may scan past many non-matching tasks; bound the
  // scan and hand back a cursor where it stopped (a short page is allowed).
  let budget = 20 * batch;
  while (budget > 0) {
    const members = await merged.take(batch);
    if (members.length === 0) return { tasks };
    budget -= members.length;
    const hashes = await commands.readHashes(
      members.map(({ member, shard }) => keys.shards[shard]!.task(member.slice(ID_AT))),
      query.deadline,
    );
    for (let i = 0; i < members.length; i++) {
      const hash = hashes[i];
      const { member } = members[i]!;
      after = member;
      // Expired between index and read (the sweep removes the entry), or filtered out.
      if (!hash?.task_id) continue;
      const task = taskFromHash(hash);
      if (query.status && task.status !== query.status) continue;
      if (query.toolName && task.toolName !== query.toolName) continue;
      if (tasks.length === query.limit) return { tasks, nextCursor: encodeCursor(CURSOR_TAG, lastReturned!) };
      tasks.push(task);
      lastReturned = member;
    }
    if (merged.exhausted) return { tasks };
  }
  return { tasks, nextCursor: encodeCursor(CURSOR_TAG, after!) };
}

/**
 * The members of several indexes in their common order, read from each a few
 * at a time: what a page costs grows with the number of shards, not of tasks.
 */
class MergedIndexes {
  private readonly buffers: string[][];
  private readonly positions: (string | undefined)[];
  private readonly done: boolean[];
  private readonly per: number;

  constructor(
    private readonly commands: BoundedCommands,
    private readonly indexes: string[],
    after: string | undefined,
    batch: number,
    private readonly deadline?: number,
  ) {
    this.buffers = indexes.map(() => []);
    this.positions = indexes.map(() => after);
    this.done = indexes.map(() => false);
    // One shard reads a whole batch at once; several read their share of one, and more when a shard runs dry.
    this.per = indexes.length === 1 ? batch : Math.max(8, Math.ceil(batch / indexes.length) + 1);
  }

  /** Every index read to its end and every member taken. */
  get exhausted(): boolean {
    return this.buffers.every((b, i) => b.length === 0 && this.done[i]);
  }

  /** Up to `n` members, newest first across the indexes, each with the index (shard) it came from. */
  async take(n: number): Promise<{ member: string; shard: number }[]> {
    const out: { member: string; shard: number }[] = [];
    while (out.length < n) {
      await this.refill();
      let best = -1;
      for (let i = 0; i < this.buffers.length; i++) {
        const head = this.buffers[i]![0];
        if (head !== undefined && (best < 0 || head < this.buffers[best]![0]!)) best = i;
      }
      if (best < 0) break;
      out.push({ member: this.buffers[best]!.shift()!, shard: best });
    }
    return out;
  }

  /** Reads on, at once, every index whose buffer is empty and which has more. */
  private async refill(): Promise<void> {
    const empty = this.indexes.map((_, i) => i).filter((i) => this.buffers[i]!.length === 0 && !this.done[i]);
    await Promise.all(
      empty.map(async (i) => {
        const from = this.positions[i] === undefined ? '-' : `(${this.positions[i]}`;
        const members = await this.commands.call(
          (c) => c.zrange(this.indexes[i]!, from, '+', 'BYLEX', 'LIMIT', 0, this.per),
          this.deadline,
        );
        this.buffers[i] = members;
        if (members.length > 0) this.positions[i] = members.at(-1);
        if (members.length < this.per) this.done[i] = true;
      }),
    );
  }
}
