// Whether a prefix holds a hash tag is checked with the prefix's other rules, in config (which imports no store).
export { hasHashTag } from '../../config/redis.js';

/**
 * Every Redis key and channel name, built from one configurable prefix
 * (default `sg:`, the seed's). The task hash keeps the seed's name,
 * `<prefix>task:<task_id>`.
 *
 * Redis Cluster: every script touches several of these keys at once (a
 * task, its index entries, its request-id claim, the expiry schedule), so
 * all of a deployment's keys must live in one hash slot. Give the prefix a
 * hash tag, e.g. `{sg}:`: Redis hashes only the part inside the braces.
 * loadConfig refuses a Cluster configuration whose prefix has no tag.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

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

  /** Sorted set: instance id -> lease expiry (server ms). */
  get instances(): string {
    return `${this.prefix}instances`;
  }

  /** Sorted set: finished task id -> when its retention ends (server ms). */
  get expiring(): string {
    return `${this.prefix}expiring`;
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

  /** Pub/sub channel of every task change: "<task_id> <json>" or "<task_id> -" (deleted). */
  get events(): string {
    return `${this.prefix}events`;
  }
}
