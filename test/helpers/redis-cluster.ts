import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { RedisServer } from './redis.js';

const run = promisify(execFile);

/**
 * A real Redis Cluster of three masters on free loopback ports:
 * `redis-server --cluster-enabled yes` x3, joined by `redis-cli --cluster create`.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: RedisServer[],
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'taskservice-cluster-'));
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        nodes.push(
          await RedisServer.start([
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${i}.conf`),
            '--cluster-node-timeout',
            '2000',
          ]),
        );
      }
      const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
      await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 30_000,
      });
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
