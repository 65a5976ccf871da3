import type { HandoffRequest } from '../../core/handoff.js';
import type { LocalWorkerTool, WorkerToolSpec } from '../../core/worker-tools.js';
import type { BoundedCommands } from './bounded-commands.js';
import type { TaskEvents } from './events.js';
import type { RedisKeys } from './keys.js';

/**
 * What one replica publishes about its workers: the JSON of `workers:<instance>`.
 * Replicas of another version read it during a rolling upgrade, so its shape
 * stays as it is (test/redis/layout.test.ts pins it).
 */
interface PublishedTable {
  tools: LocalWorkerTool[];
}

/** The worker tools of every other replica, merged by tool name. */
export type RemoteTable = Map<string, { spec: WorkerToolSpec; workers: number; instanceIds: string[] }>;

/** Wake-ups on the workers channel; both only say "re-read", the state is in the keys. */
export interface DirectoryWakeUps {
  /** Another replica's worker table changed. */
  tableChanged(): void;
  /** Something was pushed onto this replica's inbox. */
  handoff(): void;
}

/** An inbox nobody drains (its replica died) goes away on its own. */
const INBOX_TTL_MS = 24 * 3600 * 1000;

/**
 * The Redis side of the worker router: each replica's worker table (a key
 * that expires with its lease), each replica's handoff inbox (a list), and
 * the wake-ups about both on the workers channel (`changed <instance>`,
 * `handoff <instance>`). When to publish, read and drain is the router's
 * business (worker-router.ts).
 */
export class WorkerDirectory {
  constructor(
    private readonly commands: BoundedCommands,
    private readonly events: Pick<TaskEvents, 'listen' | 'onResubscribed'>,
    private readonly keys: RedisKeys,
    /** This replica. */
    private readonly instanceId: string,
  ) {}

  /** Publishes this replica's table for `ttlMs` (none: deletes it) and tells the others. */
  async publish(tools: LocalWorkerTool[], ttlMs: number): Promise<void> {
    const key = this.keys.workers(this.instanceId);
    const table: PublishedTable = { tools };
    await this.commands.call((c) => {
      const multi = c.multi();
      if (table.tools.length === 0) multi.del(key);
      else multi.set(key, JSON.stringify(table), 'PX', ttlMs);
      return multi.publish(this.keys.workersChannel, `changed ${this.instanceId}`).exec();
    });
  }

  /** Reads every other replica's table. */
  async readOthers(): Promise<RemoteTable> {
    const { keys } = this;
    const instances = (await this.commands.call((c) => c.zrange(keys.instances, '0', '-1'))).filter(
      (id) => id !== this.instanceId,
    );
    const table: RemoteTable = new Map();
    if (instances.length === 0) return table;
    const values = await this.commands.call((c) => c.mget(instances.map((id) => keys.workers(id))));
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

  /** Pushes a request onto a replica's inbox and wakes it, in one round trip. */
  async send(instanceId: string, request: HandoffRequest): Promise<void> {
    const { keys } = this;
    const inbox = keys.inbox(instanceId);
    await this.commands.call((c) =>
      c
        .multi()
        .rpush(inbox, JSON.stringify(request))
        .pexpire(inbox, INBOX_TTL_MS)
        .publish(keys.workersChannel, `handoff ${instanceId}`)
        .exec(),
    );
  }

  /** Takes up to `max` requests from this replica's inbox, oldest first; each is taken exactly once. */
  async take(max: number): Promise<HandoffRequest[]> {
    const batch = await this.commands.call((c) => c.lpop(this.keys.inbox(this.instanceId), max));
    return (batch ?? []).map((item) => JSON.parse(item) as HandoffRequest);
  }

  /**
   * Listens for the wake-ups meant for this replica. Resolves once
   * subscribed (while Redis is unreachable, that waits for it); the returned
   * function stops listening.
   */
  watch(wake: DirectoryWakeUps): Promise<() => void> {
    return this.events.listen(this.keys.workersChannel, (message) => {
      const [kind, instanceId] = message.split(' ');
      if (kind === 'handoff' && instanceId === this.instanceId) wake.handoff();
      else if (kind === 'changed' && instanceId !== this.instanceId) wake.tableChanged();
    });
  }

  /** Called after the subscriber reconnects: wake-ups sent meanwhile are lost. */
  onResubscribed(listener: () => void): () => void {
    return this.events.onResubscribed(listener);
  }
}
