import type { HandoffPort, HandoffRequest } from '../../core/handoff.js';
import type { Logger } from '../../core/logger.js';
import type { LocalWorkers, LocalWorkerTool, RemoteWorkers, WorkerToolSpec } from '../../core/worker-tools.js';
import type { RedisStore } from './redis-store.js';

export interface WorkerRouterOptions {
  instanceId: string;
  /** The worker table expires with this (the instance lease time). */
  leaseTtlMs: number;
}

/** What one replica publishes about its workers. */
interface PublishedTable {
  tools: LocalWorkerTool[];
}

type RemoteTable = Map<string, { spec: WorkerToolSpec; workers: number; instanceIds: string[] }>;

/** Handed-off requests taken from the inbox per round trip. */
const INBOX_BATCH = 100;
/** An inbox nobody drains (its replica died) goes away on its own. */
const INBOX_TTL_MS = 24 * 3600 * 1000;

/**
 * Lets workers connect to any replica. Each replica publishes the tools its
 * workers host (a key that expires with its lease, refreshed while it lives,
 * announced on a channel) and keeps the others' tables in memory, so
 * choosing where a call runs costs no round trip. A call for a tool whose
 * workers are elsewhere is recorded here with that replica as its owner and
 * pushed onto that replica's inbox list: a list, not a bare pub/sub message,
 * so a handoff survives the receiver's reconnect and is taken exactly once.
 */
export class RedisWorkerRouter implements RemoteWorkers, HandoffPort {
  private remote: RemoteTable = new Map();
  private timer?: NodeJS.Timeout;
  private readonly stops: (() => void)[] = [];
  private refreshing?: Promise<void>;
  private refreshAgain = false;
  private draining = false;
  private drainAgain = false;
  private closed = false;
  private stopping = false;
  private run?: (request: HandoffRequest) => void;

  constructor(
    private readonly store: RedisStore,
    private readonly options: WorkerRouterOptions,
    private readonly logger: Logger,
  ) {}

  tools(): RemoteTable {
    return this.remote;
  }

  /**
   * Starts publishing this replica's table (from `local`, on every change and
   * every third of the lease) and taking handoffs (given to `run`).
   */
  async start(local: LocalWorkers, run: (request: HandoffRequest) => void): Promise<void> {
    const { keys } = this.store;
    const self = this.options.instanceId;
    this.run = run;
    const publish = () =>
      void this.publish(local.localTools()).catch((err: unknown) => this.logger.debug({ err }, 'could not publish the worker table'));
    const drain = () => void this.drain();
    this.stops.push(local.onChange(publish));
    // Not awaited: while Redis is unreachable the subscribe waits for it, and start-up must not.
    void this.store
      .listen(keys.workersChannel, (message) => {
        const [kind, instanceId] = message.split(' ');
        if (kind === 'handoff' && instanceId === self) drain();
        else if (kind === 'changed' && instanceId !== self) void this.refresh();
      })
      .then(
        (stop) => (this.stopping ? stop() : this.stops.push(stop)),
        (err: unknown) => this.logger.warn({ err }, 'could not subscribe to the workers channel'),
      );
    // Messages sent while the subscriber was reconnecting are lost: catch up.
    this.stops.push(this.store.onResubscribed(() => {
      drain();
      void this.refresh();
    }));
    this.timer = setInterval(() => {
      publish();
      drain();
      void this.refresh();
    }, Math.max(100, Math.floor(this.options.leaseTtlMs / 3)));
    publish();
    drain();
    await this.refresh();
  }

  /** One round trip: the request onto the inbox, and the wake-up. */
  async send(instanceId: string, request: HandoffRequest): Promise<void> {
    const { keys } = this.store;
    const inbox = keys.inbox(instanceId);
    await this.store.call(() =>
      this.store.client
        .multi()
        .rpush(inbox, JSON.stringify(request))
        .pexpire(inbox, INBOX_TTL_MS)
        .publish(keys.workersChannel, `handoff ${instanceId}`)
        .exec(),
    );
  }

  /**
   * Stops advertising this replica's workers and taking handoffs. Requests
   * already in the inbox go to `run` one last time (a stopping manager fails
   * them SHUTDOWN) rather than waiting for the lease sweep.
   */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.timer);
    for (const stop of this.stops.splice(0)) stop();
    await this.publish(new Map()).catch(() => undefined);
    await this.drain();
    this.closed = true;
  }

  private async publish(local: Map<string, LocalWorkerTool>): Promise<void> {
    const { keys } = this.store;
    const key = keys.workers(this.options.instanceId);
    const table: PublishedTable = { tools: [...local.values()] };
    const multi = this.store.client.multi();
    if (table.tools.length === 0) multi.del(key);
    else multi.set(key, JSON.stringify(table), 'PX', this.options.leaseTtlMs);
    await this.store.call(() => multi.publish(keys.workersChannel, `changed ${this.options.instanceId}`).exec());
  }

  /** Re-reads every other replica's table; calls during a refresh coalesce into one more. */
  private refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          this.remote = await this.readTables();
        } catch (err) {
          this.logger.debug({ err }, 'could not read the worker tables; keeping the last one');
        }
      } while (this.refreshAgain && !this.closed);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async readTables(): Promise<RemoteTable> {
    const { keys } = this.store;
    const instances = (await this.store.call(() => this.store.client.zrange(keys.instances, '0', '-1'))).filter(
      (id) => id !== this.options.instanceId,
    );
    const table: RemoteTable = new Map();
    if (instances.length === 0) return table;
    const values = await this.store.call(() => this.store.client.mget(instances.map((id) => keys.workers(id))));
    values.forEach((value, i) => {
      if (!value) return;
      for (const { spec, workers } of (JSON.parse(value) as PublishedTable).tools) {
        const entry = table.get(spec.name) ?? { spec, workers: 0, instanceIds: [] };
        entry.workers += workers;
        entry.instanceIds.push(instances[i]!);
        table.set(spec.name, entry);
      }
    });
    return table;
  }

  /** Takes every handed-off request waiting in this replica's inbox; wake-ups during a drain make it go round once more. */
  private async drain(): Promise<void> {
    const run = this.run;
    if (this.closed || !run) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    const inbox = this.store.keys.inbox(this.options.instanceId);
    try {
      do {
        this.drainAgain = false;
        for (;;) {
          const batch = await this.store.call(() => this.store.client.lpop(inbox, INBOX_BATCH));
          if (!batch || batch.length === 0) break;
          for (const item of batch) run(JSON.parse(item) as HandoffRequest);
          if (batch.length < INBOX_BATCH) break;
        }
      } while (this.drainAgain && !this.closed);
    } catch (err) {
      this.logger.debug({ err }, 'could not read the handoff inbox; retrying on the next tick');
    } finally {
      this.draining = false;
    }
  }
}
