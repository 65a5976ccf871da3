import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

/** The fixture workers (test/fixtures/workers), each a real process on its language's worker library. */
export type WorkerLanguage = 'python' | 'python-async' | 'go';

export interface WorkerProcessOptions {
  address: string;
  name: string;
  /** Tool names are `<prefix>_echo`, `<prefix>_sleep`, `<prefix>_fail`, `<prefix>_exclusive`. */
  prefix: string;
  /** Concurrency of `<prefix>_sleep` on this worker. */
  concurrency?: number;
}

let goBinary: Promise<string> | undefined;

/** Builds the Go fixture once per test run. */
function buildGoFixture(): Promise<string> {
  goBinary ??= (async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ts-go-worker-')), 'fixture-worker');
    await promisify(execFile)('go', ['build', '-o', out, '.'], { cwd: 'test/fixtures/workers/go' });
    return out;
  })();
  return goBinary;
}

/**
 * A fixture worker as a child process. It prints `READY <id>`,
 * `INVOKED <tool> <task>` and `CANCELLED <task> <reason>` lines, which the
 * tests read to see what the worker saw.
 */
export class WorkerProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private stderr = '';
  private waiters: (() => void)[] = [];

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr!.on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(language: WorkerLanguage, options: WorkerProcessOptions): Promise<WorkerProcess> {
    const args = [
      '--addr',
      options.address,
      '--name',
      options.name,
      '--prefix',
      options.prefix,
      '--concurrency',
      String(options.concurrency ?? 1),
    ];
    let child: ChildProcess;
    if (language === 'go') {
      // Go's flag package takes --name as well as -name.
      child = spawn(await buildGoFixture(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } else {
      const extra = language === 'python-async' ? ['--async'] : [];
      child = spawn('python3', ['-u', 'test/fixtures/workers/fixture_worker.py', ...args, ...extra], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    }
    const worker = new WorkerProcess(child);
    await worker.line(/^READY /, 20_000);
    return worker;
  }

  /** The first line matching `pattern` (bounded wait); its match. */
  async line(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.lines) {
        const match = line.match(pattern);
        if (match) return match;
      }
      if (this.child.exitCode !== null || Date.now() > end) {
        throw new Error(
          `worker printed no line matching ${pattern} (exit ${this.child.exitCode}); stdout:\n` +
            `${this.lines.join('\n')}\nstderr:\n${this.stderr.slice(-2000)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l)).length;
  }

  /** Kills with `signal` (SIGKILL: no goodbye) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM: the worker stops cleanly and exits 0. */
  stop(): Promise<number | null> {
    return this.kill('SIGTERM');
  }
}
