import { CountsByKey } from './counts.js';
import { ResourceExhausted, StoreUnavailable } from './errors.js';
import { newTaskId } from './ids.js';

/** The limits every replica sharing a store enforces together. */
export interface SharedLimits {
  perUser: number;
  /** 0: no deployment-wide total. */
  total: number;
}

/** Why the shared limits refused a place: which limit, and how many hold a place under it now. */
export interface SharedRefusal {
  limit: 'perUser' | 'total';
  running: number;
}

/**
 * Running places held in a store every replica shares (the Redis store), so
 * a user cannot pass a limit by spreading calls over replicas. Each place has
 * an id, so taking or freeing it again (a retry after a lost reply) counts
 * once, and the places of a replica that dies are freed by the lease sweep.
 */
export interface SharedPlaces {
  /** Takes a place, or says which limit refused it. Throws StoreUnavailable. */
  take(placeId: string, userId: string, limits: SharedLimits, deadline?: number): Promise<SharedRefusal | undefined>;
  /** Frees a place taken, or perhaps taken, by `take`; retries in the background until the store answers. */
  free(placeId: string, userId: string, limits: SharedLimits): void;
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
    /** Its id among the shared places; absent when none are kept. */
    readonly placeId?: string,
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
    this.limits.free(this.userId, this.placeId);
  }
}

/**
 * How many tools run at once: in this process overall
 * (TASKSERVICE_MAX_RUNNING) and per user, and, with a shared store, per user
 * and overall across every replica. A call beyond any limit is
 * RESOURCE_EXHAUSTED at once rather than queued: the caller (or the model)
 * decides whether to retry. While the shared store cannot be reached, only
 * this process's limits hold.
 */
export class RunningLimits {
  private readonly perUser = new CountsByKey<string>();
  private readonly shared?: { places: SharedPlaces; limits: SharedLimits };

  constructor(
    private readonly maxHere: number,
    private readonly maxPerUser: number,
    shared?: { places: SharedPlaces; maxTotal: number },
  ) {
    if (shared) this.shared = { places: shared.places, limits: { perUser: maxPerUser, total: shared.maxTotal } };
  }

  get running(): number {
    return this.perUser.total;
  }

  /**
   * A place for one of `userId`'s calls, or RESOURCE_EXHAUSTED. Synchronous (no promise, no
   * microtask) when no store is shared: the inline fast path takes one on every call.
   */
  take(userId: string, deadline?: number): Slot | Promise<Slot> {
    if (this.perUser.total >= this.maxHere) {
      throw new ResourceExhausted(
        `this replica runs ${this.perUser.total} tools, its limit (TASKSERVICE_MAX_RUNNING); retry later`,
      );
    }
    const mine = this.perUser.get(userId);
    if (mine >= this.maxPerUser) throw perUserRefusal(userId, mine, 'on this replica');
    this.perUser.add(userId);
    if (!this.shared) return new Slot(this, userId);
    return this.takeShared(this.shared, userId, deadline);
  }

  private async takeShared(
    shared: { places: SharedPlaces; limits: SharedLimits },
    userId: string,
    deadline?: number,
  ): Promise<Slot> {
    const placeId = newTaskId();
    const slot = new Slot(this, userId, placeId);
    let refusal: SharedRefusal | undefined;
    try {
      refusal = await shared.places.take(placeId, userId, shared.limits, deadline);
    } catch (err) {
      if (!(err instanceof StoreUnavailable)) {
        slot.release();
        throw err;
      }
      // The limits hold per replica while the store is away, so calls that need no store still run.
      // The take may have been stored although its reply was lost: free it.
      shared.places.free(placeId, userId, shared.limits);
      return new Slot(this, userId);
    }
    if (!refusal) return slot;
    slot.release(); // one part of the place may be held (the user's or the total's)
    if (refusal.limit === 'perUser') throw perUserRefusal(userId, refusal.running, 'across the deployment');
    throw new ResourceExhausted(
      `the deployment runs ${refusal.running} tools, its limit (TASKSERVICE_MAX_RUNNING_TOTAL); retry later`,
    );
  }

  /** Called by a Slot, once. */
  free(userId: string, placeId?: string): void {
    this.perUser.remove(userId);
    if (placeId && this.shared) this.shared.places.free(placeId, userId, this.shared.limits);
  }
}

function perUserRefusal(userId: string, running: number, where: string): ResourceExhausted {
  return new ResourceExhausted(
    `user_id "${userId}" has ${running} tools running ${where}, ` +
      'the limit (TASKSERVICE_MAX_RUNNING_PER_USER); wait for one to finish',
  );
}
