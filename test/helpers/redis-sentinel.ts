import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, probeRedis, RedisServer } from './redis.js';

export const SENTINEL_MASTER = 'taskservice';

/**
 * A real Redis master watched by a real Sentinel (`redis-server <conf>
 * --sentinel`), both on free loopback ports. Clients find the master through
 * the Sentinel, as in production.
 */
export class RedisSentinel {
  private constructor(
    readonly master: RedisServer,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisSentinel> {
    const master = await RedisServer.start();
    const dir = mkdtempSync(join(tmpdir(), 'taskservice-sentinel-'));
    const port = await freePort();
    const conf = join(dir, 'sentinel.conf'); // Sentinel rewrites its own config: it must be writable
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${master.port} 1`,
      ].join('\n') + '\n',
    );
    const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    const sentinel = new RedisSentinel(master, port, child, dir);
    await sentinel.waitForMaster();
    return sentinel;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    await this.master.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private waitForMaster(): Promise<void> {
    return probeRedis(
      this.port,
      async (probe) => {
        const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER)) as string[] | null;
        return addr?.[1] === String(this.master.port);
      },
      'report the master',
    );
  }
}
