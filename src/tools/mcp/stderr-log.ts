import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../../core/logger.js';

/** Per line: a child printing a megabyte without a newline must not make one log line of it. */
const MAX_LINE_CHARS = 2000;
/** Per minute: a chatty or looping child must not flood the service's logs. */
const MAX_BYTES_PER_MINUTE = 64 * 1024;

/**
 * A child process's stderr as log lines (warn: MCP servers use stderr for
 * their own logs and errors), capped per line and per minute; what the cap
 * drops is counted in one line when the minute ends.
 */
export class StderrLog {
  private partial = '';
  /** Keeps a UTF-8 character whose bytes arrive in two chunks whole. */
  private readonly decoder = new StringDecoder('utf8');
  private windowStart = 0;
  private bytes = 0;
  private dropped = 0;

  constructor(
    private readonly logger: Logger,
    private readonly now = Date.now,
  ) {}

  write(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines = (this.partial + text).split('\n');
    // One more than the cap, so line() still sees the line was longer and marks the cut.
    this.partial = lines.pop()!.slice(0, MAX_LINE_CHARS + 1);
    for (const line of lines) this.line(line);
  }

  /** The last line, if it had no newline (the child exited). */
  flush(): void {
    const rest = this.partial + this.decoder.end();
    if (rest) this.line(rest);
    this.partial = '';
    if (this.dropped > 0) this.reportDropped();
  }

  private reportDropped(): void {
    this.logger.warn({ droppedBytes: this.dropped }, 'MCP server stderr: lines dropped by the cap');
    this.dropped = 0;
  }

  private line(raw: string): void {
    const line = raw.trimEnd();
    if (!line) return;
    const now = this.now();
    if (now - this.windowStart >= 60_000) {
      if (this.dropped > 0) this.reportDropped();
      this.windowStart = now;
      this.bytes = 0;
    }
    const text = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
    if (this.bytes + text.length > MAX_BYTES_PER_MINUTE) {
      this.dropped += text.length;
      return;
    }
    this.bytes += text.length;
    this.logger.warn({ stderr: text }, 'MCP server stderr');
  }
}
