import { utf8Prefix } from './truncate.js';

/** A piece of a run's output, at its byte offset in the whole. */
export interface OutputPiece {
  offset: number;
  text: string;
  /** This piece reached the limit: it ends with the marker and nothing follows. */
  truncated: boolean;
}

/** Ends an output that reached its limit, so a reader knows the rest was dropped. */
export function outputMarker(maxBytes: number): string {
  return `\n…[output truncated by TaskService: TASKSERVICE_MAX_OUTPUT_BYTES=${maxBytes} reached]\n`;
}

/**
 * What a run's tool writes with ctx.output, as the pieces to store: bounded by
 * `maxBytes` (the marker included), each piece at its offset. Offsets here are
 * the stored ones, since the run is its task's only writer. Until the task is
 * recorded (an inline call may yet be backgrounded) the pieces are also kept,
 * to be stored when it is.
 */
export class RunOutput {
  private bytes = 0;
  private truncated = false;
  private early?: string[] = [];

  constructor(private readonly maxBytes: number) {}

  /** The piece to store for `text`; undefined when nothing is (empty, or past the limit). */
  write(text: string): OutputPiece | undefined {
    if (this.truncated || text.length === 0) return undefined;
    const offset = this.bytes;
    const marker = outputMarker(this.maxBytes);
    const room = this.maxBytes - Buffer.byteLength(marker, 'utf8') - offset;
    let piece = text;
    const size = Buffer.byteLength(text, 'utf8');
    if (size > room) {
      piece = utf8Prefix(Buffer.from(text, 'utf8'), Math.max(0, room)).toString('utf8') + marker;
      this.truncated = true;
    }
    this.bytes += Buffer.byteLength(piece, 'utf8');
    this.early?.push(piece);
    return { offset, text: piece, truncated: this.truncated };
  }

  /** Everything written so far, once: from now on pieces are no longer kept. */
  takeEarly(): OutputPiece | undefined {
    const early = this.early;
    this.early = undefined;
    if (!early?.length) return undefined;
    return { offset: 0, text: early.join(''), truncated: this.truncated };
  }
}
