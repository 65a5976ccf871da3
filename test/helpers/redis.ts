import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** A free TCP port on 127.0.0.1 (the kernel picks; we release it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real redis-server on a free loopback port, owned by the test that
 * started it. There is no fallback: if redis-server is missing or does not
 * answer, the suite fails here.
 */
export class RedisServer {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  static async start(extraArgs: string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extraArgs);
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    outliveNoOne(child);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`cannot start redis-server (is it installed?): ${err.message}`)));
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} at start`)));
    });
    failed.catch(() => undefined);
    await Promise.race([this.waitForPong(), failed]);
  }

  /** Kills the server (SIGKILL: no goodbye to clients). */
  async kill(): Promise<void> {
    const child = this.child;
    // A process ended by a signal keeps exitCode null: check both.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
  }

  /** Sends a signal (SIGSTOP / SIGCONT freeze and thaw it). */
  signal(name: NodeJS.Signals): void {
    this.child?.kill(name);
  }

  /** Starts the server again on the same port with the same settings (and data directory). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  private waitForPong(): Promise<void> {
    return probeRedis(this.port, async (probe) => (await probe.ping()) === 'PONG', 'answer PING');
  }
}

/** The redis-servers this process started and that still run. */
const running = new Set<ChildProcess>();

/**
 * Kills `child` when this process exits, however it exits: a script whose event loop empties, or
 * that throws, before it stops its servers would otherwise leave them running (and using the
 * machine that later benchmarks measure on).
 */
function outliveNoOne(child: ChildProcess): void {
  if (running.size === 0) process.once('exit', killRunning);
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    if (running.size === 0) process.off('exit', killRunning);
  });
}

function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * Connects to 127.0.0.1:`port` again and again (every 50 ms, 10 s at most)
 * until `check` holds; throws naming what was awaited.
 */
export async function probeRedis(port: number, check: (probe: Redis) => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if (await check(probe)) return;
    } catch {
      /* not up yet */
    } finally {
      // A probe whose connection already failed has ended: disconnecting it again would leave ioredis's
      // 2 s "force the socket closed" timer waiting for a close that has already happened.
      if (probe.status !== 'end') probe.disconnect();
    }
    if (Date.now() > end) throw new Error(`redis on port ${port} did not ${what} within 10 s`);
    await sleep(50);
  }
}
