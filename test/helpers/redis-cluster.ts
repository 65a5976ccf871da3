import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { RedisServer } from './redis.js';

const run = promisify(execFile);

/** How the Cluster is built: three masters, each with this many replicas (0 by default). */
export interface ClusterOptions {
  replicasPerMaster?: number;
  /** Extra redis-server arguments for every node (for example `--appendonly yes`). */
  nodeArgs?: string[];
}

/**
 * A real Redis Cluster of three masters (and their replicas) on free loopback ports:
 * `redis-server --cluster-enabled yes` per node, joined by `redis-cli --cluster create`.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: RedisServer[],
    private readonly dir: string,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<RedisCluster> {
    const replicas = options.replicasPerMaster ?? 0;
    const dir = mkdtempSync(join(tmpdir(), 'taskservice-cluster-'));
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < 3 * (1 + replicas); i++) {
        nodes.push(
          await RedisServer.start([
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${i}.conf`),
            '--cluster-node-timeout',
            '2000',
            ...(options.nodeArgs ?? []),
          ]),
        );
      }
      const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
      await run(
        'redis-cli',
        ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'],
        {
          timeout: 30_000,
        },
      );
      const cluster = new RedisCluster(nodes, dir);
      await cluster.waitForOk();
      return cluster;
    } catch (err) {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get addresses(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The nodes that are masters now (a failover changes the answer). */
  async masters(): Promise<RedisServer[]> {
    const roles = await Promise.all(
      this.nodes.map(async (n) => {
        try {
          return (await run('redis-cli', ['-p', String(n.port), 'role'])).stdout.split('\n')[0]?.trim();
        } catch {
          return 'down';
        }
      }),
    );
    return this.nodes.filter((_, i) => roles[i] === 'master');
  }

  private async waitForOk(): Promise<void> {
    const end = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(
        this.nodes.map(async (n) => (await run('redis-cli', ['-p', String(n.port), 'cluster', 'info'])).stdout),
      );
      if (states.every((s) => s.includes('cluster_state:ok'))) return;
      if (Date.now() > end) throw new Error('the Redis Cluster did not reach cluster_state:ok in 20 s');
      await sleep(100);
    }
  }
}
