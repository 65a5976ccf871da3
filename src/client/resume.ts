import type { AwaitResultResponse } from '../../gen/ts/taskmanager/v1/task_service.js';
import { UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';

/**
 * Where a client is in one task's stream: the last version seen and, when it
 * follows output, the next byte it expects. Reconnects resume from here, and
 * `accept` drops whatever a server sends again anyway (a state not newer than
 * the last, output before the expected byte), so the application sees each
 * change and each byte once.
 */
export class ResumePoint {
  constructor(
    /** The last Task.version seen; 0 before any. */
    public version = 0,
    /** The next output byte expected; undefined when output is not followed. */
    public outputOffset?: number,
  ) {}

  /** The AwaitResult request fields that resume from here. */
  request(): { afterVersion?: string; outputOffset?: string } {
    return {
      ...(this.version > 0 && { afterVersion: String(this.version) }),
      ...(this.outputOffset !== undefined && { outputOffset: String(this.outputOffset) }),
    };
  }

  /** The update as the application should see it, or undefined when all of it was seen already. */
  accept(update: AwaitResultResponse): AwaitResultResponse | undefined {
    if (update.kind === UpdateKind.UPDATE_KIND_OUTPUT) {
      const chunk = this.acceptOutput(Number(update.output?.offset ?? 0), update.output?.text ?? '');
      return chunk && { ...update, output: chunk };
    }
    const version = Number(update.task?.version ?? 0);
    const repeat = version <= this.version && update.kind !== UpdateKind.UPDATE_KIND_TERMINAL;
    // Heartbeats and the end of the wait repeat the last state by design.
    const bookkeeping =
      update.kind === UpdateKind.UPDATE_KIND_HEARTBEAT || update.kind === UpdateKind.UPDATE_KIND_WAIT_TIMED_OUT;
    if (repeat && !bookkeeping) return undefined;
    this.version = Math.max(this.version, version);
    return update;
  }

  /** A piece of output at `offset`, cut to what was not seen yet; undefined when nothing is new. */
  acceptOutput(offset: number, text: string): { offset: string; text: string } | undefined {
    if (this.outputOffset === undefined) return undefined;
    const bytes = Buffer.from(text, 'utf8');
    const end = offset + bytes.length;
    if (end <= this.outputOffset) return undefined;
    const from = this.outputOffset;
    const fresh = offset < from ? bytes.subarray(from - offset).toString('utf8') : text;
    this.outputOffset = end;
    return { offset: String(Math.max(offset, from)), text: fresh };
  }
}
