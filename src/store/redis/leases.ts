import type { ReplicaInfo } from '../../core/replicas.js';
import type { FinishResult } from '../../core/store.js';
import { FailureReason, type TaskRecord, TaskStatus } from '../../core/task.js';
import type { BoundedCommands } from './bounded-commands.js';
import { hashFromFlat, taskFromHash } from './codec.js';
import { finishTask, type FinishScope } from './finish.js';
import { RECONNECT_BACKOFF_MAX_MS } from './connect.js';
import type { ShardKeys } from './keys.js';

/**
 * The Redis side of the housekeeper: this instance's lease, what becomes of
 * the work of an instance whose lease lapsed (its running tasks, the
 * deliveries it owed, its bookkeeping), and the expiry of finished tasks.
 * Each operation is one bounded command or script; when to run them is the
 * housekeeper's business (housekeeper.ts).
 */
export class Leases {
  /** Lease tables whose renewal is in flight: a slow one (its master failing over) never holds up the rest. */
  private readonly renewing = new Set<string>();
  /** Shard index -> no sweep there before this time (ms): this instance could not renew its lease there lately. */
  private readonly graceUntil = new Map<number, number>();

  constructor(
    private readonly commands: BoundedCommands,
    private readonly scope: FinishScope,
  ) {}

  private get shards(): ShardKeys[] {
    return this.scope.keys.shards;
  }

  /**
   * Extends this instance's lease to `ttlMs` from the server's now, in every
   * shard's copy of the lease table (and, with several shards, the control
   * slot's, which the worker tables read). False when it had lapsed meanwhile.
   */
  async renew(ttlMs: number): Promise<boolean> {
    const due = this.tables().filter((table) => !this.renewing.has(table));
    const results = await Promise.allSettled(due.map((table) => this.renewOne(table, ttlMs)));
    for (const result of results) if (result.status === 'rejected') throw result.reason;
    return results.every((result) => result.status === 'fulfilled' && result.value !== 0);
  }

  /**
   * Renews one table. When it fails (its master is away: a Cluster failover
   * can take longer than a lease), every lease in that shard may lapse, live
   * replicas' included: the shard is not swept until one lease time plus the
   * longest reconnect backoff after the last failure (as after an outage of
   * the whole store, housekeeper.ts).
   */
  private async renewOne(table: string, ttlMs: number): Promise<number> {
    this.renewing.add(table);
    try {
      return await this.commands.call((c) => c.renewLease(table, this.scope.instanceId, ttlMs));
    } catch (err) {
      const until = Date.now() + ttlMs + RECONNECT_BACKOFF_MAX_MS;
      for (const k of this.shards) if (k.instances === table) this.graceUntil.set(k.index, until);
      throw err;
    } finally {
      this.renewing.delete(table);
    }
  }

  /** The shards a sweep may act in now. */
  private get sweepable(): ShardKeys[] {
    const now = Date.now();
    return this.shards.filter((k) => (this.graceUntil.get(k.index) ?? 0) <= now);
  }

  /** The other instances whose lease has lapsed, in any sweepable shard's table. */
  async lapsedOthers(): Promise<string[]> {
    const { instanceId } = this.scope;
    const lapsed = await Promise.all(
      this.sweepable.map((k) => this.commands.call((c) => c.lapsedInstances(k.instances))),
    );
    return [...new Set(lapsed.flat())].filter((id) => id !== instanceId);
  }

  /**
   * The instances whose lease is live, from the table every replica renews in (the only shard's, or the control
   * slot's with several), with how many tasks each lists as running over all shards.
   */
  async liveReplicas(): Promise<ReplicaInfo[]> {
    const table = this.shards.length > 1 ? this.scope.keys.instances : this.shards[0]!.instances;
    const now = Date.now();
    const flat = await this.commands.call((c) => c.zrangebyscore(table, now, '+inf', 'WITHSCORES'));
    const live = Array.from({ length: flat.length / 2 }, (_, i) => ({
      instanceId: flat[2 * i]!,
      at: flat[2 * i + 1]!,
    }));
    return Promise.all(
      live.map(async ({ instanceId, at }) => {
        const counts = await Promise.all(
          this.shards.map((k) => this.commands.call((c) => c.scard(k.running(instanceId)))),
        );
        return { instanceId, leaseExpiresAt: Number(at), running: counts.reduce((a, b) => a + b, 0) };
      }),
    );
  }

  /** The ids of the tasks an instance was running, in every sweepable shard. */
  runningOn(instance: string): Promise<string[]> {
    return this.membersIn(this.sweepable, (k) => k.running(instance));
  }

  /** The ids of the tasks this instance runs, in every shard (the orphan check). */
  runningHere(): Promise<string[]> {
    return this.membersIn(this.shards, (k) => k.running(this.scope.instanceId));
  }

  /** The members of one set per shard, together. */
  private async membersIn(shards: ShardKeys[], set: (k: ShardKeys) => string): Promise<string[]> {
    const ids = await Promise.all(shards.map((k) => this.commands.call((c) => c.smembers(set(k)))));
    return ids.flat();
  }

  /**
   * Fails a task of a lapsed instance as worker_lost, only while that
   * instance still owns it and its lease is still lapsed: a paused replica
   * that woke and renewed in time keeps its tasks.
   */
  failLost(taskId: string, instance: string): Promise<FinishResult> {
    const outcome = {
      status: TaskStatus.Failed,
      reason: FailureReason.WorkerLost,
      error: `the instance running it (${instance}) stopped answering`,
    };
    const guard = { runningOf: instance, onlyOwner: true, whileLapsed: true };
    return finishTask(this.commands, this.scope, taskId, outcome, guard);
  }

  /** The deliveries an instance owed, in every shard: claimed and unfinished, or finished by it and never claimed. */
  owedBy(instance: string): Promise<string[]> {
    return this.membersIn(this.sweepable, (k) => k.delivering(instance));
  }

  /**
   * Takes over a delivery owed by a lapsed instance. Returns the task when
   * this instance now delivers it (already claimed: deliver without claiming).
   */
  async reclaimDelivery(taskId: string, lapsed: string): Promise<TaskRecord | undefined> {
    const { instanceId } = this.scope;
    const keys = this.scope.keys.of(taskId);
    const [code, payload] = await this.commands.call((c) =>
      c.reclaimDelivery(
        keys.task(taskId),
        keys.delivering(lapsed),
        keys.instances,
        keys.delivering(instanceId),
        taskId,
        lapsed,
        instanceId,
        keys.events,
      ),
    );
    return code === 1 ? taskFromHash(hashFromFlat(payload as string[])) : undefined;
  }

  /**
   * Drops a lapsed instance from each shard's lease table with its running and
   * owed sets there, once its work there is taken care of, freeing the
   * running places it held there; then its places toward the deployment's
   * total, and its entry in the control slot's table, once it is gone from
   * every shard.
   */
  async forget(instance: string): Promise<void> {
    const { keys } = this.scope;
    if (this.sweepable.length < this.shards.length) return; // a shard in its grace was not swept
    const forgotten = await Promise.all(
      this.shards.map((k) =>
        this.commands.call((c) =>
          c.forgetInstance(
            k.instances,
            k.running(instance),
            k.delivering(instance),
            k.userPlaces,
            k.placesOf(instance),
            instance,
          ),
        ),
      ),
    );
    if (!forgotten.every((done) => done === 1)) return;
    await this.commands.call((c) =>
      c.multi().del(keys.totalPlacesOf(instance)).hdel(keys.totalPlaces, instance).exec(),
    );
    if (this.shards.length > 1) await this.commands.call((c) => c.zrem(keys.instances, instance));
  }

  /**
   * Gives up this instance's lease, but only with nothing running and no
   * running place held: what is still listed must stay sweepable.
   */
  async leaveIfIdle(): Promise<void> {
    const { instanceId } = this.scope;
    const busy = await Promise.all(
      this.shards.flatMap((k) => [
        this.commands.call((c) => c.scard(k.running(instanceId))),
        this.commands.call((c) => c.hlen(k.placesOf(instanceId))),
      ]),
    );
    if (busy.some((n) => n > 0)) return;
    await Promise.all(this.tables().map((table) => this.commands.call((c) => c.zrem(table, instanceId))));
  }

  /** Deletes tasks whose retention has passed, with their output, index entries and claims. Returns how many. */
  async sweepExpired(limit = 500): Promise<number> {
    let removed = 0;
    for (const keys of this.shards) removed += await this.sweepExpiredIn(keys, limit);
    return removed;
  }

  private async sweepExpiredIn(keys: ShardKeys, limit: number): Promise<number> {
    const due = await this.commands.call((c) => c.dueExpired(keys.expiring, limit));
    if (due.length === 0) return 0;
    const hashes = await this.commands.readHashes(due.map((id) => keys.task(id)));
    let removed = 0;
    for (let i = 0; i < due.length; i++) {
      const h = hashes[i] ?? {};
      removed += await this.commands.call((c) =>
        c.expireTask(
          keys.task(due[i]),
          keys.allIndex,
          keys.userIndex(h.user_id ?? ''),
          keys.request(h.user_id ?? '', h.request_id ?? ''),
          keys.expiring,
          keys.output(due[i]),
          due[i],
          h.list_key ?? '',
          keys.events,
        ),
      );
    }
    return removed;
  }

  /** Every lease table: each shard's, and with several shards the control slot's. */
  private tables(): string[] {
    const tables = this.shards.map((k) => k.instances);
    if (this.shards.length > 1) tables.push(this.scope.keys.instances);
    return tables;
  }
}
