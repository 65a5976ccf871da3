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
 * One page of tasks, newest first. The index members sort newest first by
 * their bytes, so a page is `ZRANGE idx (<last member> + BYLEX`: tasks made
 * since sort before every member already seen and never shift a later page.
 * The page token wraps the last member returned.
 */
export async function listTasks(commands: BoundedCommands, keys: RedisKeys, query: ListQuery): Promise<ListPage> {
  const index = query.userId ? keys.userIndex(query.userId) : keys.allIndex;
  let after = query.cursor ? decodeCursor(CURSOR_TAG, query.cursor, MEMBER) : undefined;
  const tasks: TaskRecord[] = [];
  const batch = Math.min(Math.max(query.limit + 1, 50), 1000);
  // A page with filters may scan past many non-matching tasks; bound the
  // scan and hand back a cursor where it stopped (a short page is allowed).
  let budget = 20 * batch;
  while (budget > 0) {
    const from = after === undefined ? '-' : `(${after}`;
    const members = await commands.call((c) => c.zrange(index, from, '+', 'BYLEX', 'LIMIT', 0, batch), query.deadline);
    if (members.length === 0) return { tasks };
    budget -= members.length;
    const hashes = await commands.readHashes(
      members.map((m) => keys.task(m.slice(ID_AT))),
      query.deadline,
    );
    for (let i = 0; i < members.length; i++) {
      const hash = hashes[i];
      if (!hash?.task_id) continue; // expired between index and read; the sweep removes the entry
      const task = taskFromHash(hash);
      if (query.status && task.status !== query.status) continue;
      if (query.toolName && task.toolName !== query.toolName) continue;
      if (tasks.length === query.limit) return { tasks, nextCursor: encodeCursor(CURSOR_TAG, after!) };
      tasks.push(task);
      after = members[i];
    }
    if (members.length < batch) return { tasks };
    after = members.at(-1);
  }
  return { tasks, nextCursor: encodeCursor(CURSOR_TAG, after!) };
}
