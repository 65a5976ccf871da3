import type { HandoffPort, HandoffRequest } from '../../core/handoff.js';
import type { Logger } from '../../core/logger.js';
import { RerunningJob } from '../../core/rerunning-job.js';
import type { LocalWorkers, RemoteWorkers } from '../../core/worker-tools.js';
import type { RemoteTable, WorkerDirectory } from './worker-directory.js';

export interface WorkerRouterOptions {
  /** The worker table expires with this (the instance lease time). */
  leaseTtlMs: number;
}

/** Handed-off requests taken from the inbox per round trip. */
const INBOX_BATCH = 100;

/**
 * Lets workers connect to any replica. Each replica publishes the tools its
 * workers host (a key that expires with its lease, refreshed while it lives,
 * announced on a channel) and keeps the others' tables in memory, so
 * choosing where a call runs costs no round trip. A call for a tool whose
 * workers are elsewhere is recorded here with that replica as its owner and
 * pushed onto that replica's inbox list: a list, not a bare pub/sub message,
 * so a handoff survives the receiver's reconnect and is taken exactly once.
 * The Redis commands are in worker-directory.ts.
 */
export class RedisWorkerRouter implements RemoteWorkers, HandoffPort {
  private remote: RemoteTable = new Map();
  private timer?: NodeJS.Timeout;
  private readonly stops: (() => void)[] = [];
  /** Re-reads every other replica's table; asks during a read make one more. */
  private readonly refreshing: RerunningJob;
  /** Takes every handed-off request waiting in the inbox; wake-ups during a drain make it go round once more. */
  private readonly draining: RerunningJob;
  private closed = false;
  private stopping = false;
  private closing?: Promise<void>;
  private run?: (request: HandoffRequest) => void;

  constructor(
    private readonly directory: WorkerDirectory,
    private readonly options: WorkerRouterOptions,
    private readonly logger: Logger,
  ) {
    const open = () => !this.closed;
    this.refreshing = new RerunningJob(async () => {
      try {
        this.remote = await this.directory.readOthers();
      } catch (err) {
        this.logger.debug({ err }, 'could not read the worker tables; keeping the last one');
      }
    }, open);
    this.draining = new RerunningJob(async () => {
      try {
        await this.takeInbox();
      } catch (err) {
        this.logger.debug({ err }, 'could not read the handoff inbox; retrying on the next tick');
        throw err; // ends the reruns asked meanwhile, as the next tick retries anyway
      }
    }, open);
  }

  tools(): RemoteTable {
    return this.remote;
  }

  /**
   * Starts publishing this replica's table (from `local`, on every change and
   * every third of the lease) and taking handoffs (given to `run`).
   */
  async start(local: LocalWorkers, run: (request: HandoffRequest) => void): Promise<void> {
    this.run = run;
    const publish = () => void this.publish(local);
    const drain = () => void this.drain();
    this.stops.push(local.onChange(publish));
    // Not awaited: while Redis is unreachable the subscribe waits for it, and start-up must not.
    void this.directory.watch({ handoff: drain, tableChanged: () => void this.refresh() }).then(
      (stop) => (this.stopping ? stop() : this.stops.push(stop)),
      (err: unknown) => this.logger.warn({ err }, 'could not subscribe to the workers channel'),
    );
    // Messages sent while the subscriber was reconnecting are lost: catch up.
    this.stops.push(
      this.directory.onResubscribed(() => {
        drain();
        void this.refresh();
      }),
    );
    this.timer = setInterval(
      () => {
        publish();
        drain();
        void this.refresh();
      },
      Math.max(100, Math.floor(this.options.leaseTtlMs / 3)),
    );
    publish();
    drain();
    await this.refresh();
  }

  /** One round trip: the request onto the inbox, and the wake-up. */
  send(instanceId: string, request: HandoffRequest): Promise<void> {
    return this.directory.send(instanceId, request);
  }

  /**
   * Stops advertising this replica's workers and taking handoffs. Requests
   * already in the inbox go to `run` one last time (a stopping manager fails
   * them SHUTDOWN) rather than waiting for the lease sweep.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      clearInterval(this.timer);
      for (const stop of this.stops.splice(0)) stop();
      await this.directory.publish([], this.options.leaseTtlMs).catch(() => undefined);
      await this.drain();
      this.closed = true;
    })();
    return this.closing;
  }

  /** Failures wait for the next change or tick. */
  private async publish(local: LocalWorkers): Promise<void> {
    try {
      await this.directory.publish([...local.localTools().values()], this.options.leaseTtlMs);
    } catch (err) {
      this.logger.debug({ err }, 'could not publish the worker table');
    }
  }

  private refresh(): Promise<void> {
    return this.refreshing.request();
  }

  private drain(): Promise<void> {
    if (this.closed || !this.run) return Promise.resolve();
    // Logged in the job, once however many asked.
    return this.draining.request().catch(() => undefined);
  }

  private async takeInbox(): Promise<void> {
    const run = this.run!;
    for (;;) {
      const batch = await this.directory.take(INBOX_BATCH);
      for (const request of batch) run(request);
      if (batch.length < INBOX_BATCH) return;
    }
  }
}
