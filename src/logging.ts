import { writeSync } from 'node:fs';
import { pino, type Logger as PinoLogger } from 'pino';
import type { Config } from './config.js';

/** How long one line may wait for a full pipe before it is dropped (and counted). */
const FULL_PIPE_WAIT_MS = 200;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Where log lines go: fd 1, written synchronously (a line is out before the
 * next statement runs, which is what a crash or an exit needs).
 *
 * Not pino's default sonic-boom destination: after EPIPE (whoever read our
 * stdout has gone) its exit-time flushSync retries forever, so the process
 * could no longer exit, even on SIGTERM. A closed pipe never reopens, so this
 * sink simply goes quiet.
 *
 * A pipe whose reader is slow fills up; stdout is then non-blocking and a
 * write fails with EAGAIN, or writes part of the line. Logging must never
 * take the service down (a burst of warnings during a Redis outage did):
 * the rest of the line is retried for a short while, then dropped, and the
 * drops are reported in the next line that gets through.
 */
export class StdoutSink {
  private closed = false;
  private dropped = 0;

  constructor(private readonly fd = 1) {}

  /** Lines lost to a full pipe since the last report. */
  get droppedLines(): number {
    return this.dropped;
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.dropped > 0 && this.writeAll(`{"level":40,"msg":"log lines dropped: stdout was full","dropped":${this.dropped}}\n`)) {
      this.dropped = 0;
    }
    if (!this.writeAll(line)) this.dropped++;
  }

  /** True when the whole text went out. */
  private writeAll(text: string): boolean {
    let rest = Buffer.from(text, 'utf8');
    const giveUpAt = Date.now() + FULL_PIPE_WAIT_MS;
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(this.fd, rest));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE' || code === 'EBADF') {
          this.closed = true;
          return false;
        }
        if (code !== 'EAGAIN' || Date.now() > giveUpAt) {
          if (code !== 'EAGAIN') throw err;
          return false;
        }
        Atomics.wait(pause, 0, 0, 1); // the reader needs a moment; a synchronous sink can only wait
      }
    }
    return true;
  }
}

/** Keys whose values are secrets, at the top level or one or two objects down. */
const SECRET_KEYS = ['authorization', 'token', 'password', 'secret'];
/** Keys that hold tool arguments: personal data, often; logged only when configured. */
const ARGUMENT_KEYS = ['arguments', 'args', 'argumentsJson', 'arguments_json'];
const atDepths = (keys: string[]) => keys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);
export const REDACTED = atDepths(SECRET_KEYS);

export function createLogger(config: Pick<Config, 'logLevel' | 'instanceId' | 'logToolArguments'>): PinoLogger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'taskservice', instance: config.instanceId },
      // Credentials never reach the log, whatever object carries them; tool arguments only when asked for.
      redact: { paths: config.logToolArguments ? REDACTED : atDepths([...SECRET_KEYS, ...ARGUMENT_KEYS]), censor: '[redacted]' },
    },
    new StdoutSink(),
  );
}
