import { writeSync } from 'node:fs';
import { pino, type Logger as PinoLogger } from 'pino';
import type { Config } from './config.js';

/**
 * Where log lines go: fd 1, written synchronously (a line is out before the
 * next statement runs, which is what a crash or an exit needs).
 *
 * Not pino's default sonic-boom destination: after EPIPE (whoever read our
 * stdout has gone) its exit-time flushSync retries forever, so the process
 * could no longer exit, even on SIGTERM. A closed pipe never reopens, so this
 * sink simply goes quiet.
 */
export class StdoutSink {
  private closed = false;

  constructor(private readonly fd = 1) {}

  write(line: string): void {
    if (this.closed) return;
    try {
      writeSync(this.fd, line);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'EBADF') {
        this.closed = true;
        return;
      }
      throw err;
    }
  }
}

/** Keys whose values are secrets, at the top level or one or two objects down. */
const SECRET_KEYS = ['authorization', 'token', 'password', 'secret'];
export const REDACTED = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export function createLogger(config: Pick<Config, 'logLevel' | 'instanceId'>): PinoLogger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'taskservice', instance: config.instanceId },
      // Credentials never reach the log, whatever object carries them.
      redact: { paths: REDACTED, censor: '[redacted]' },
    },
    new StdoutSink(),
  );
}
