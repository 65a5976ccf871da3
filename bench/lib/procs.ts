import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { healthStatus } from '../../test/helpers/health.js';
import { freePort } from '../../test/helpers/redis.js';

/** A server process the bench started: its address, its pid (for /proc), and how to stop it. */
export interface BenchServer {
  address: string;
  pid: number;
  /** Milliseconds from spawn to health SERVING. */
  startupMs: number;
  stop(): Promise<void>;
  /** SIGKILL: for a server whose graceful stop is not worth waiting for. */
  kill(): Promise<void>;
}

/**
 * Starts `node <script>` (through tsx for a .ts file) with `env` plus an address on a free
 * loopback port, and waits for gRPC health to say SERVING. Its stdout goes to
 * /dev/null (or to `stdoutFile`): log lines are formatted and written as in production, but
 * nobody in the bench spends CPU reading them.
 */
export async function startServer(
  script: string,
  env: Record<string, string>,
  addrVariable = 'TASKSERVICE_ADDR',
  /** Node's own options (e.g. --cpu-prof, which NODE_OPTIONS may not carry). */
  nodeArgs: string[] = [],
  /** Where stdout goes instead, e.g. for the lines of --trace-gc. */
  stdoutFile?: string,
): Promise<BenchServer> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const started = performance.now();
  const args = [...nodeArgs, ...(script.endsWith('.ts') ? ['--import', 'tsx', script] : [script])];
  const stdout = stdoutFile === undefined ? 'ignore' : openSync(stdoutFile, 'w');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, MALLOC_ARENA_MAX: '2', ...env, [addrVariable]: address },
    stdio: ['ignore', stdout, 'pipe'],
  });
  if (typeof stdout === 'number') closeSync(stdout); // the child has its own copy
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const deadline = Date.now() + 20_000;
  while ((await healthStatus(address)) !== 'SERVING') {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} did not become SERVING: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return { address, pid: child.pid!, startupMs: performance.now() - started, stop: () => stop(child), kill };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A load generator process (bench/load/*.ts, or a program from bench/go).
 * It prepares (connects, warms up), prints "ready", waits for a line on
 * stdin, runs, and prints its result as one JSON line. The bench starts several at once so that one client
 * process's CPU is not the limit, and measures the servers between "go" and
 * the last result.
 */
export class LoadProcess<Result> {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  /** `script` is a TypeScript file run by Node, or (`program: true`) an executable. */
  constructor(script: string, config: unknown, options: { nodeOptions?: string[]; program?: boolean } = {}) {
    const [command, args] = options.program
      ? [script, [JSON.stringify(config)]]
      : [process.execPath, [...(options.nodeOptions ?? []), '--import', 'tsx', script, JSON.stringify(config)]];
    this.child = spawn(command, args, {
      env: { ...process.env, MALLOC_ARENA_MAX: '2' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (c) => {
      this.stderr += c;
      process.stderr.write(c); // what a load script says about its run belongs in the bench's output
    });
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  get pid(): number {
    return this.child.pid!;
  }

  private async line(): Promise<string> {
    const next = await this.lines.next();
    if (next.done) throw new Error(`load process ended early: ${this.stderr}`);
    return next.value;
  }

  async ready(): Promise<void> {
    const line = await this.line();
    if (line !== 'ready') throw new Error(`load process said "${line}" instead of ready: ${this.stderr}`);
  }

  go(): void {
    this.child.stdin!.write('go\n');
  }

  async result(): Promise<Result> {
    return JSON.parse(await this.line()) as Result;
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    await stop(this.child);
  }
}

/** For load scripts: announce readiness, then wait for the go line. */
export async function readyThenWait(): Promise<void> {
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  await lines.next();
}
