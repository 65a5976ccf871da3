import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, probeRedis, RedisServer } from './redis.js';

export const SENTINEL_MASTER = 'taskservice';

/**
 * How the Sentinel deployment is built. With no options: one master, no replica, one Sentinel with
 * quorum 1 and Sentinel's own timings (what the `TEST_STORE=sentinel` suite runs on).
 */
export interface SentinelOptions {
  /** Replicas of the master (`--replicaof`), 0 by default. */
  replicas?: number;
  /** Sentinel processes, 1 by default. */
  sentinels?: number;
  /** Sentinels that must agree the master is down, 1 by default. */
  quorum?: number;
  /** `down-after-milliseconds` (Sentinel's default: 30 s). */
  downAfterMs?: number;
  /** `failover-timeout` (Sentinel's default: 3 min). */
  failoverTimeoutMs?: number;
  /** Extra redis-server arguments for the master and its replicas (for example `--appendonly yes`). */
  nodeArgs?: string[];
}

/**
 * A real Redis master (and, with options, its replicas) watched by real Sentinels
 * (`redis-server <conf> --sentinel`), all on free loopback ports. Clients find the master
 * through the Sentinels, as in production; kill the master and, with replicas and a quorum,
 * the Sentinels promote one.
 */
export class RedisSentinel {
  private constructor(
    /** The master at start (after a failover, see currentMaster()). */
    readonly master: RedisServer,
    readonly replicas: RedisServer[],
    /** The first Sentinel's port. */
    readonly port: number,
    readonly ports: number[],
    private readonly children: ChildProcess[],
    private readonly dir: string,
  ) {}

  static async start(options?: SentinelOptions): Promise<RedisSentinel> {
    const dir = mkdtempSync(join(tmpdir(), 'taskservice-sentinel-'));
    const nodes: RedisServer[] = [];
    const children: ChildProcess[] = [];
    try {
      // Each data node gets a directory of its own (AOF files), only when options are given.
      const nodeArgs = (i: number) => {
        if (!options) return [];
        const nodeDir = join(dir, `node-${i}`);
        mkdirSync(nodeDir);
        return ['--dir', nodeDir, ...(options.nodeArgs ?? [])];
      };
      const master = await RedisServer.start(nodeArgs(0));
      nodes.push(master);
      for (let i = 1; i <= (options?.replicas ?? 0); i++) {
        nodes.push(await RedisServer.start([...nodeArgs(i), '--replicaof', '127.0.0.1', String(master.port)]));
      }
      const ports: number[] = [];
      for (let i = 0; i < (options?.sentinels ?? 1); i++) {
        const port = await freePort();
        ports.push(port);
        const conf = join(dir, `sentinel-${i}.conf`); // Sentinel rewrites its own config: it must be writable
        const lines = [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${master.port} ${options?.quorum ?? 1}`,
        ];
        if (options?.downAfterMs !== undefined)
          lines.push(`sentinel down-after-milliseconds ${SENTINEL_MASTER} ${options.downAfterMs}`);
        if (options?.failoverTimeoutMs !== undefined)
          lines.push(`sentinel failover-timeout ${SENTINEL_MASTER} ${options.failoverTimeoutMs}`);
        writeFileSync(conf, lines.join('\n') + '\n');
        children.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
      }
      const sentinel = new RedisSentinel(master, nodes.slice(1), ports[0]!, ports, children, dir);
      await sentinel.waitForMaster();
      if (options) await sentinel.waitForTopology(options.replicas ?? 0);
      return sentinel;
    } catch (err) {
      await Promise.all(children.map(killChild));
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The first Sentinel. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Every Sentinel, comma-separated (for TASKSERVICE_REDIS_SENTINELS). */
  get addresses(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  /** The master and its replicas. */
  get nodes(): RedisServer[] {
    return [this.master, ...this.replicas];
  }

  /** The node the (first answering) Sentinel reports as master now. */
  async currentMaster(): Promise<RedisServer | undefined> {
    for (const port of this.ports) {
      let found: RedisServer | undefined;
      try {
        await probeRedis(
          port,
          async (probe) => {
            const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER)) as string[] | null;
            found = this.nodes.find((n) => String(n.port) === addr?.[1]);
            return true;
          },
          'answer',
        );
        return found;
      } catch {
        // this Sentinel is down: ask the next
      }
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map(killChild));
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private waitForMaster(): Promise<void> {
    return Promise.all(
      this.ports.map((port) =>
        probeRedis(
          port,
          async (probe) => {
            const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER)) as string[] | null;
            return addr?.[1] === String(this.master.port);
          },
          'report the master',
        ),
      ),
    ).then(() => undefined);
  }

  /**
   * Until every Sentinel knows every replica and every other Sentinel (they learn them from the
   * master's INFO and its hello channel: a failover needs both), and every replica's link is up.
   */
  private async waitForTopology(replicas: number): Promise<void> {
    await Promise.all(
      this.ports.map((port) =>
        probeRedis(
          port,
          async (probe) => {
            const flat = (await probe.call('SENTINEL', 'master', SENTINEL_MASTER)) as string[];
            const info = new Map<string, string>();
            for (let i = 0; i + 1 < flat.length; i += 2) info.set(flat[i]!, flat[i + 1]!);
            return (
              Number(info.get('num-slaves')) === replicas &&
              Number(info.get('num-other-sentinels')) === this.ports.length - 1
            );
          },
          'know every replica and Sentinel',
        ),
      ),
    );
    await Promise.all(
      this.replicas.map((r) =>
        probeRedis(
          r.port,
          async (probe) => (await probe.info('replication')).includes('master_link_status:up'),
          'report master_link_status:up',
        ),
      ),
    );
  }
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
