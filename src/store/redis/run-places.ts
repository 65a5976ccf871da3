import type { Logger } from '../../core/logger.js';
import type { SharedLimits, SharedPlaces, SharedRefusal } from '../../core/running-limits.js';
import { Batches, earliestDeadline } from './batches.js';
import type { BoundedCommands } from './bounded-commands.js';
import type { RedisKeys, ShardKeys } from './keys.js';
import type { ScriptedClient } from './scripts.js';

/**
 * Fields per HSCAN page of the reconcile. A replica running 100k tasks lists 100k places: read whole
 * (HGETALL) that held Redis for 43 ms, every other client waiting; a page of 500 takes well under 1 ms.
 */
const SCAN_PAGE = 500;

/** Backoff of a free that failed: 0.5 s doubling to 30 s, for about 30 minutes in all. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;
const RETRY_ATTEMPTS = 70;

/**
 * The running places of every replica, in Redis (see SharedPlaces). A user's
 * places are counted in the shard of their user id (take-places-2), the
 * deployment's total, when it has one, in the control slot
 * (take-total-places-2). The two are taken at once and each refuses on its
 * own, so neither limit is ever passed; a refused call's other half is freed
 * by the caller. Each instance lists the places it holds, so the lease sweep
 * frees a dead replica's (leases.ts, forget).
 *
 * Takes and frees that arrive in the same turn of the event loop go to
 * Redis together, one script run per shard (src/store/redis/batches.ts).
 *
 * A free that fails is retried here in the background: a place left taken
 * would lower the limit until this instance stops. A free can also be undone
 * by a failover that loses the master's last writes, so every
 * `reconcileMs` the places Redis lists for this instance are compared with
 * the ones it holds, and the others freed. The timers are owned by this
 * object and cleared by close().
 */
export class RedisRunPlaces implements SharedPlaces {
  private readonly retries = new Set<NodeJS.Timeout>();
  /** The ids of the places this instance holds or is taking. */
  private readonly held = new Set<string>();
  private readonly reconcileTimer: NodeJS.Timeout;
  private reconciling = false;
  private closed = false;
  private readonly userTakes: Batches<PlaceRequest, number>;
  private readonly totalTakes: Batches<PlaceRequest, number>;
  private readonly userFrees: Batches<PlaceRequest, number>;
  private readonly totalFrees: Batches<PlaceRequest, number>;

  constructor(
    private readonly commands: BoundedCommands,
    private readonly keys: RedisKeys,
    private readonly instanceId: string,
    private readonly logger: Logger,
    reconcileMs = 30_000,
  ) {
    this.reconcileTimer = setInterval(() => void this.reconcile(), reconcileMs);
    this.reconcileTimer.unref();
    const call = <T>(items: PlaceRequest[], run: (c: ScriptedClient) => Promise<T>) =>
      this.commands.call(run, earliestDeadline(items));
    const ids = (items: PlaceRequest[]) => items.map((i) => i.placeId);
    const everyOne = (items: PlaceRequest[]) => (freed: number) => items.map(() => freed);
    this.userTakes = new Batches((_, items) => {
      const { shard } = items[0]!;
      const args = items.flatMap((i) => [i.placeId, i.userId, i.limit]);
      return call(items, (c) => c.takePlaces(shard.userPlaces, shard.placesOf(instanceId), ...args));
    });
    this.totalTakes = new Batches((_, items) =>
      call(items, (c) =>
        c.takeTotalPlaces(keys.totalPlaces, keys.totalPlacesOf(instanceId), instanceId, items[0]!.limit, ...ids(items)),
      ),
    );
    this.userFrees = new Batches((_, items) => {
      const { shard } = items[0]!;
      return call(items, (c) => c.freePlaces(shard.userPlaces, shard.placesOf(instanceId), ...ids(items))).then(
        everyOne(items),
      );
    });
    this.totalFrees = new Batches((_, items) =>
      call(items, (c) =>
        c.freeTotalPlaces(keys.totalPlaces, keys.totalPlacesOf(instanceId), instanceId, ...ids(items)),
      ).then(everyOne(items)),
    );
  }

  async take(
    placeId: string,
    userId: string,
    limits: SharedLimits,
    deadline?: number,
  ): Promise<SharedRefusal | undefined> {
    const shard = this.keys.ofUser(userId);
    this.held.add(placeId);
    const [mine, all] = await Promise.all([
      this.userTakes.add(shard.userPlaces, { placeId, userId, shard, limit: limits.perUser, deadline }),
      limits.total > 0 ? this.totalTakes.add('', { placeId, userId, shard, limit: limits.total, deadline }) : -1,
    ]);
    if (mine >= 0) return { limit: 'perUser', running: mine };
    if (all >= 0) return { limit: 'total', running: all };
    return undefined;
  }

  free(placeId: string, userId: string, limits: SharedLimits): void {
    this.held.delete(placeId);
    void this.freeOnce(placeId, userId, limits.total > 0, 0);
  }

  /**
   * Frees the places Redis lists for this instance that it does not hold
   * (a free a failover undid). Returns how many. A place taken meanwhile is
   * in `held` before its take is sent, so it is never freed here.
   */
  async reconcile(): Promise<number> {
    if (this.reconciling || this.closed) return 0;
    this.reconciling = true;
    try {
      const { instanceId } = this;
      const stale = new Map<string, string>();
      for (const k of this.keys.shards) {
        await scanHash(this.commands, k.placesOf(instanceId), (placeId, userId) => stale.set(placeId, userId));
      }
      const totals = new Set<string>();
      await scanHash(this.commands, this.keys.totalPlacesOf(instanceId), (placeId) => totals.add(placeId));
      for (const placeId of totals) if (!stale.has(placeId)) stale.set(placeId, '');
      for (const placeId of this.held) stale.delete(placeId);
      for (const [placeId, userId] of stale) {
        this.logger.warn({ userId }, 'freed a running place this replica no longer holds (a free lost in a failover)');
        await this.freeOnce(placeId, userId, totals.has(placeId), 0);
      }
      return stale.size;
    } catch (err) {
      this.logger.debug({ err }, 'could not reconcile the running places; retrying later');
      return 0;
    } finally {
      this.reconciling = false;
    }
  }

  /** Stops retrying frees (the lease sweep frees what is left once this instance's lease lapses). */
  close(): void {
    this.closed = true;
    clearInterval(this.reconcileTimer);
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
  }

  /** Frees the user's half of a place, and its half under the total when `withTotal`. */
  private async freeOnce(placeId: string, userId: string, withTotal: boolean, attempt: number): Promise<void> {
    const shard = this.keys.ofUser(userId);
    const request = { placeId, userId, shard, limit: 0 };
    try {
      await Promise.all([this.userFrees.add(shard.userPlaces, request), withTotal && this.totalFrees.add('', request)]);
    } catch (err) {
      if (this.closed) return;
      if (attempt + 1 >= RETRY_ATTEMPTS) {
        this.logger.error({ err, userId }, 'could not free a running place; it stays taken until this replica stops');
        return;
      }
      const timer = setTimeout(
        () => {
          this.retries.delete(timer);
          void this.freeOnce(placeId, userId, withTotal, attempt + 1);
        },
        Math.min(RETRY_FIRST_MS * 2 ** attempt, RETRY_MAX_MS),
      );
      timer.unref();
      this.retries.add(timer);
    }
  }
}

/** One place to take or free, queued for its batch. */
interface PlaceRequest {
  placeId: string;
  userId: string;
  /** The user's shard: where their places are counted. */
  shard: ShardKeys;
  limit: number;
  deadline?: number;
}

/** Reads a hash a page at a time (HSCAN: a field may come twice, `into` must not mind). */
async function scanHash(
  commands: BoundedCommands,
  key: string,
  into: (field: string, value: string) => void,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, flat] = await commands.call((c) => c.hscan(key, cursor, 'COUNT', SCAN_PAGE));
    for (let i = 0; i < flat.length; i += 2) into(flat[i]!, flat[i + 1]!);
    cursor = next;
  } while (cursor !== '0');
}
