import { TaskNotFound } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { TaskStore } from '../../core/store.js';
import type { TaskRecord } from '../../core/task.js';
import { RECONNECT_BACKOFF_MAX_MS } from './connect.js';
import type { Leases } from './leases.js';

/**
 * Hands over a result to deliver: a task the sweep failed as worker_lost
 * (its redirect is pending: claim it), or a delivery taken over from a lost
 * instance (already claimed by this one: deliver without claiming).
 */
export type OwedDelivery = (task: TaskRecord, alreadyClaimed: boolean) => void;

export interface HousekeeperOptions {
  /** A replica silent this long is presumed dead. */
  leaseTtlMs: number;
  /** How often to look for dead replicas. */
  sweepIntervalMs: number;
  /** How often to delete tasks whose retention has passed. */
  expirySweepMs: number;
}

/** Tasks of a lost instance failed at once, in one burst of commands. */
const SWEEP_BATCH = 100;

/**
 * The background duties of a replica on Redis:
 * - renew this instance's lease (every third of its time to live);
 * - fail, as WORKER_LOST, the running tasks of instances whose lease lapsed
 *   (every replica sweeps, but not within one lease time of (re)gaining
 *   Redis, so live replicas renew after an outage before anyone sweeps; the
 *   finish script makes each transition happen once, and only while the
 *   lease is still lapsed, so a paused replica that wakes and renews is not
 *   swept any more);
 * - take over the redirect deliveries a lost instance owed (claimed and
 *   unfinished, or finished by it and never claimed);
 * - delete tasks whose retention has passed, with their index entries.
 * Tasks are never rerun: a lost task fails, and its caller decides. The
 * Redis commands behind each duty are in leases.ts.
 */
export class Housekeeper {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly busy = new Set<string>();
  private stopped = false;
  private closing?: Promise<void>;
  private renewed = false;
  private unwatch?: () => void;
  /** No sweep before this time (ms): see start(). */
  private sweepNotBefore = 0;
  /** Tasks this replica failed as worker_lost (a figure for tests and logs). */
  workerLost = 0;

  constructor(
    private readonly leases: Leases,
    /** Tells when Redis comes back (the store's availability). */
    private readonly availability: Pick<TaskStore, 'watchAvailability'>,
    private readonly options: HousekeeperOptions,
    private readonly logger: Logger,
    private readonly deliver: OwedDelivery = () => {},
  ) {}

  start(): void {
    // After Redis comes back from an outage longer than the lease, every
    // lease has lapsed, live replicas' included. Sweeping at once would fail
    // their running tasks as worker_lost, so each replica first renews and
    // then waits one lease time plus the longest reconnect backoff: a live
    // replica may reconnect that much later than this one, and renews at once.
    // (With one lease alone, a 1 s lease lost that race in a CI run.)
    const regained = () => {
      this.sweepNotBefore = Date.now() + this.options.leaseTtlMs + RECONNECT_BACKOFF_MAX_MS;
      void this.once('lease', () => this.renewLease());
    };
    regained();
    this.unwatch = this.availability.watchAvailability((available) => {
      if (available) regained();
    });
    const every = (ms: number, name: string, job: () => Promise<unknown>) => {
      const timer = setInterval(() => void this.once(name, job), ms);
      timer.unref();
      this.timers.push(timer);
    };
    // Not through once(): a renewal waiting on one shard's master (failing over) must not hold up the next
    // tick's renewal of the other shards; Leases skips a table whose renewal is still in flight.
    const renewal = setInterval(
      () => void this.renewLease().catch((err: unknown) => this.logger.debug({ err }, 'lease renewal failed')),
      Math.max(100, Math.floor(this.options.leaseTtlMs / 3)),
    );
    renewal.unref();
    this.timers.push(renewal);
    every(this.options.sweepIntervalMs, 'lost', () => this.sweepLost());
    every(this.options.expirySweepMs, 'expired', () => this.leases.sweepExpired());
  }

  async renewLease(): Promise<void> {
    const inTime = await this.leases.renew(this.options.leaseTtlMs);
    const wasRenewedBefore = this.renewed;
    this.renewed = true;
    if (!inTime && wasRenewedBefore) {
      this.logger.warn({}, "this instance's lease had lapsed; its running tasks may have been failed as worker_lost");
    }
  }

  /** Fails the running tasks of every lapsed instance. Returns how many this call ended. */
  async sweepLost(): Promise<number> {
    if (Date.now() < this.sweepNotBefore) return 0;
    let ended = 0;
    for (const instance of await this.leases.lapsedOthers()) {
      const taskIds = await this.leases.runningOn(instance);
      const failOne = async (taskId: string) => {
        try {
          const { applied, task } = await this.leases.failLost(taskId, instance);
          if (applied) {
            ended++;
            if (task.redirect) this.deliver(task, false);
          }
        } catch (err) {
          if (!(err instanceof TaskNotFound)) throw err;
        }
      };
      // Many at a time: the finish script makes each transition once whoever runs it, and
      // waiting for each reply in turn made a dead replica's 1,000 tasks take a second or more.
      for (let i = 0; i < taskIds.length; i += SWEEP_BATCH)
        await Promise.all(taskIds.slice(i, i + SWEEP_BATCH).map(failOne));
      // Deliveries it claimed and never finished, or owed and never claimed.
      const owed = await this.leases.owedBy(instance);
      for (const taskId of owed) {
        const task = await this.leases.reclaimDelivery(taskId, instance);
        if (task) this.deliver(task, true);
      }
      if (owed.length)
        this.logger.warn({ lost: instance, deliveries: owed.length }, 'took over the deliveries of a lost instance');
      await this.leases.forget(instance);
      if (taskIds.length)
        this.logger.warn({ lost: instance, tasks: taskIds.length }, 'failed the tasks of a lost instance');
    }
    this.workerLost += ended;
    return ended;
  }

  /** Stops the duties and gives up the lease (no task of ours is left running by then). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopped = true;
      this.timers.forEach(clearInterval);
      this.unwatch?.();
      await this.leases.leaveIfIdle().catch(() => undefined);
    })();
    return this.closing;
  }

  /** Runs a duty unless its previous run is still going; failures wait for the next tick. */
  private async once(name: string, job: () => Promise<unknown>): Promise<void> {
    if (this.busy.has(name) || this.stopped) return;
    this.busy.add(name);
    try {
      await job();
    } catch (err) {
      this.logger.debug({ err, duty: name }, 'housekeeping failed; retrying on the next tick');
    } finally {
      this.busy.delete(name);
    }
  }
}
