import type { FinishResult } from '../../core/store.js';
import { FailureReason, type TaskRecord, TaskStatus } from '../../core/task.js';
import type { BoundedCommands } from './bounded-commands.js';
import { hashFromFlat, taskFromHash } from './codec.js';
import { finishTask, type FinishScope } from './finish.js';

/**
 * The Redis side of the housekeeper: this instance's lease, what becomes of
 * the work of an instance whose lease lapsed (its running tasks, the
 * deliveries it owed, its bookkeeping), and the expiry of finished tasks.
 * Each operation is one bounded command or script; when to run them is the
 * housekeeper's business (housekeeper.ts).
 */
export class Leases {
  constructor(
    private readonly commands: BoundedCommands,
    private readonly scope: FinishScope,
  ) {}

  /** Extends this instance's lease to `ttlMs` from the server's now. False when it had lapsed meanwhile. */
  async renew(ttlMs: number): Promise<boolean> {
    const { keys, instanceId } = this.scope;
    return (await this.commands.call((c) => c.renewLease(keys.instances, instanceId, ttlMs))) !== 0;
  }

  /** The other instances whose lease has lapsed. */
  async lapsedOthers(): Promise<string[]> {
    const { keys, instanceId } = this.scope;
    return (await this.commands.call((c) => c.lapsedInstances(keys.instances))).filter((id) => id !== instanceId);
  }

  /** The ids of the tasks an instance was running. */
  runningOn(instance: string): Promise<string[]> {
    return this.commands.call((c) => c.smembers(this.scope.keys.running(instance)));
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

  /** The deliveries an instance owed: claimed and unfinished, or finished by it and never claimed. */
  owedBy(instance: string): Promise<string[]> {
    return this.commands.call((c) => c.smembers(this.scope.keys.delivering(instance)));
  }

  /**
   * Takes over a delivery owed by a lapsed instance. Returns the task when
   * this instance now delivers it (already claimed: deliver without claiming).
   */
  async reclaimDelivery(taskId: string, lapsed: string): Promise<TaskRecord | undefined> {
    const { keys, instanceId } = this.scope;
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

  /** Drops a lapsed instance from the lease table with its running and owed sets, once its work is taken care of. */
  async forget(instance: string): Promise<void> {
    const { keys } = this.scope;
    await this.commands.call((c) =>
      c.forgetInstance(keys.instances, keys.running(instance), keys.delivering(instance), instance),
    );
  }

  /** Gives up this instance's lease, but only with nothing running: a task still listed must stay sweepable. */
  async leaveIfIdle(): Promise<void> {
    const { keys, instanceId } = this.scope;
    await this.commands.call(async (c) => {
      if ((await c.scard(keys.running(instanceId))) === 0) await c.zrem(keys.instances, instanceId);
    });
  }

  /** Deletes tasks whose retention has passed, with their index entries and claims. Returns how many. */
  async sweepExpired(limit = 500): Promise<number> {
    const { keys } = this.scope;
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
}
