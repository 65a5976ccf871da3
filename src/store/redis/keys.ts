// Whether a prefix holds a hash tag is checked with the prefix's other rules, in config (which imports no store).
export { hasHashTag } from '../../config/redis.js';

/** Redis Cluster's hash slots. */
const SLOTS = 16384;

/**
 * The keys of one shard: a task and everything a script touches with it (its
 * output, index entries, request-id claim, the running and owed sets it is in,
 * the expiry schedule, the shard's copy of the lease table) and the shard's
 * events channel. In a Cluster they all share the shard's hash tag, so every
 * script stays in one slot. With one shard they are the seed's names,
 * `<prefix>task:<task_id>` and so on.
 */
export class ShardKeys {
  constructor(
    /** Which shard: 0 .. shards-1. */
    readonly index: number,
    readonly prefix: string,
  ) {}

  task(taskId: string): string {
    return `${this.prefix}task:${taskId}`;
  }

  /** String: the task's output (ctx.output), appended to; deleted with the task. */
  output(taskId: string): string {
    return `${this.prefix}output:${taskId}`;
  }

  /** Sorted set of every task's list key (newest first by lexicographic order). */
  get allIndex(): string {
    return `${this.prefix}idx:all`;
  }

  userIndex(userId: string): string {
    return `${this.prefix}idx:user:${userId}`;
  }

  /** String: the task id holding a (user_id, request_id) idempotency claim. */
  request(userId: string, requestId: string): string {
    return `${this.prefix}req:${userId}:${requestId}`;
  }

  /** Set of the ids of the tasks an instance is running. */
  running(instanceId: string): string {
    return `${this.prefix}running:${instanceId}`;
  }

  /** Set of the ids of tasks whose redirect delivery an instance owes (claimed, or finished by it). */
  delivering(instanceId: string): string {
    return `${this.prefix}delivering:${instanceId}`;
  }

  /**
   * Sorted set: instance id -> lease expiry (server ms). Every shard has its
   * copy (renewed together), so the scripts that check a lease stay in their slot.
   */
  get instances(): string {
    return `${this.prefix}instances`;
  }

  /** Sorted set: finished task id -> when its retention ends (server ms). */
  get expiring(): string {
    return `${this.prefix}expiring`;
  }

  /** Hash: user_id -> running places the user holds across the deployment (for the users placed in this shard). */
  get userPlaces(): string {
    return `${this.prefix}places:users`;
  }

  /** Hash: place id -> user_id, the running places an instance holds for this shard's users. */
  placesOf(instanceId: string): string {
    return `${this.prefix}places-of:${instanceId}`;
  }

  /** Pub/sub channel of every change of the shard's tasks: "<task_id> <json>" or "<task_id> -" (deleted). */
  get events(): string {
    return `${this.prefix}events`;
  }
}

/**
 * Every Redis key and channel name, built from one configurable prefix
 * (default `sg:`, the seed's), split into `shards` shards.
 *
 * One shard (single Redis, Sentinel, and the default): every key is
 * `<prefix>...` as before sharding existed. Redis Cluster needs them in one
 * slot, so the prefix holds a hash tag, e.g. `{sg}:`.
 *
 * N shards: a task belongs to the shard its id hashes to (`shardOf`), and its
 * keys are `<prefix without braces>{<tag>}:...`, one tag per shard, chosen so
 * the shards' slots are spread evenly over the 16384 (and so over the masters).
 * What belongs to no task (the worker tables and inboxes, the live-instance
 * table they read) stays on the prefix itself: the control slot.
 */
export class RedisKeys {
  readonly shards: ShardKeys[];

  constructor(
    readonly prefix: string,
    shardCount = 1,
  ) {
    if (!Number.isInteger(shardCount) || shardCount < 1) throw new Error(`shards must be 1 or more, not ${shardCount}`);
    if (shardCount === 1) this.shards = [new ShardKeys(0, prefix)];
    else {
      const base = prefix.replace(/[{}]/g, '');
      this.shards = Array.from(
        { length: shardCount },
        (_, s) => new ShardKeys(s, `${base}{${shardTag(s, shardCount)}}:`),
      );
    }
  }

  /** The shard a task belongs to, from its id alone. */
  shardOf(taskId: string): number {
    return this.shards.length === 1 ? 0 : fnv1a(taskId) % this.shards.length;
  }

  /** The keys of the task's shard. */
  of(taskId: string): ShardKeys {
    return this.shards[this.shardOf(taskId)]!;
  }

  /**
   * The shard of a task claiming (user_id, request_id): a retry must find the
   * claim, so it is placed by the claim, and its id is chosen to hash there.
   */
  shardOfClaim(userId: string, requestId: string): number {
    return this.shards.length === 1 ? 0 : fnv1a(`${userId}\u0000${requestId}`) % this.shards.length;
  }

  /** The shard that counts a user's running places: one for each user, so the user's limit is one key's. */
  ofUser(userId: string): ShardKeys {
    return this.shards[this.shards.length === 1 ? 0 : fnv1a(userId) % this.shards.length]!;
  }

  /** Hash: instance id -> running places it holds toward the deployment's total (control slot). */
  get totalPlaces(): string {
    return `${this.prefix}places:total`;
  }

  /** Hash: place id -> 1, the places an instance holds toward the total. */
  totalPlacesOf(instanceId: string): string {
    return `${this.prefix}total-places-of:${instanceId}`;
  }

  /** Sorted set: instance id -> lease expiry (server ms), on the control slot (the worker tables read it). */
  get instances(): string {
    return `${this.prefix}instances`;
  }

  /** String (JSON, expires with the lease): the worker tools hosted on an instance, for the other replicas. */
  workers(instanceId: string): string {
    return `${this.prefix}workers:${instanceId}`;
  }

  /** List: tasks handed to an instance to run on its workers (JSON requests, oldest first). */
  inbox(instanceId: string): string {
    return `${this.prefix}inbox:${instanceId}`;
  }

  /** Pub/sub channel: "changed <instance>" (its worker table) or "handoff <instance>" (its inbox). */
  get workersChannel(): string {
    return `${this.prefix}workers`;
  }
}

/**
 * The hash tag of shard `s` of `n`: the first of `s`, `s.1`, `s.2`, ... whose
 * slot falls in the s-th of n equal slot ranges, so n shards cover the slots
 * evenly whatever n is. The same for every replica (a pure function).
 */
export function shardTag(s: number, n: number): string {
  const low = Math.floor((s * SLOTS) / n);
  const high = Math.floor(((s + 1) * SLOTS) / n);
  for (let k = 0; ; k++) {
    const tag = k === 0 ? String(s) : `${s}.${k}`;
    const slot = keySlot(tag);
    if (slot >= low && slot < high) return tag;
  }
}

/** The Redis Cluster slot of a key without a hash tag: CRC16 (XMODEM) of its bytes, modulo 16384. */
export function keySlot(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % SLOTS;
}

/** 32-bit FNV-1a of a string's UTF-16 code units: cheap, stable, and spread well enough for shard choice. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
