import { writeSync } from 'node:fs';
import { pino, type Logger as PinoLogger } from 'pino';
import type { Config } from './config/index.js';

/** How long one write may wait for a full pipe before its lines are dropped (and counted). */
const FULL_PIPE_WAIT_MS = 200;
/** Pending log text past this many characters is written at once, without waiting for the timer. */
const FLUSH_AT_CHARS = 64 * 1024;
/** How long a line may wait to be written with the ones after it. */
const FLUSH_AFTER_MS = 5;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Where log lines go: fd 1. Lines are written together at most 5 ms after
 * the first of them (one write(2) instead of one per line: with a line per
 * RPC, the system calls cost more than the lines), and at once when 64 KiB are
 * pending or the process exits (exit, process.exit, an uncaught exception). A
 * SIGKILL can lose the last 5 ms of lines.
 *
 * A timer, not setImmediate at the end of each turn of the event loop: a
 * pending immediate keeps the loop from waiting in poll, so under load it
 * turned over more often with fewer calls per turn, and every call paid for
 * more socket writes. Measured on the echo server with one line per call
 * (docs/PERFORMANCE.md): the line cost 10 µs per call with setImmediate.
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
  private pending: string[] = [];
  private pendingChars = 0;
  private scheduled = false;
  private readonly flushLater = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(private readonly fd = 1) {
    process.once('exit', () => this.flush());
  }

  /** Lines lost to a full pipe since the last report. */
  get droppedLines(): number {
    return this.dropped;
  }

  write(line: string): void {
    if (this.closed) return;
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= FLUSH_AT_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(this.flushLater, FLUSH_AFTER_MS).unref();
    }
  }

  /** Writes every pending line now. */
  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const lines = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    if (
      this.dropped > 0 &&
      this.writeAll(`{"level":40,"msg":"log lines dropped: stdout was full","dropped":${this.dropped}}\n`)
    ) {
      this.dropped = 0;
    }
    if (!this.writeAll(lines.join(''))) this.dropped += lines.length;
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
      redact: {
        paths: config.logToolArguments ? REDACTED : atDepths([...SECRET_KEYS, ...ARGUMENT_KEYS]),
        censor: '[redacted]',
      },
    },
    new StdoutSink(),
  );
}
