import { capBytes } from './limits.js';
import type { Logger } from './logger.js';
import { FailureReason, type Origin, type Outcome, type Progress, TaskStatus } from './task.js';
import type { TraceContext } from './trace.js';
import { type Tool, type ToolContext, ToolFailure, type ToolResult } from './tool.js';

/** An error message is for reading, not a payload: longer ones are cut. */
const MAX_ERROR_BYTES = 16 * 1024;

/** The `reason` of an aborted ToolContext.signal: why the tool must stop. */
export class ToolAbortReason extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'ToolAbortReason';
  }
}

export interface RunOptions {
  taskId: string;
  tool: Tool;
  args: Record<string, unknown>;
  origin: Origin;
  hardTimeoutMs: number;
  /** Results and errors longer than this (UTF-8 bytes) are cut, with a note saying so. */
  maxResultBytes: number;
  /** The parent of the tool's own logger, which is made only if the tool logs. */
  logger: Logger;
  trace?: TraceContext;
  onProgress(progress: Progress): void;
}

/**
 * One execution of a tool handler. Owns the AbortController that every reason
 * to stop goes through, and the hard-timeout timer. `outcome` settles at the
 * first of: the handler returning, the handler throwing, or an abort, so a
 * tool that ignores its signal still ends on time. It never rejects.
 */
export class ToolRun {
  readonly outcome: Promise<Outcome>;
  private readonly controller = new AbortController();
  private readonly deadline: number;
  private settled = false;
  private latestProgress?: Progress;

  constructor(private readonly options: RunOptions) {
    const { signal } = this.controller;
    this.deadline = Date.now() + options.hardTimeoutMs;
    let onAbort: () => void = () => {};
    const aborted = new Promise<Outcome>((resolve) => {
      onAbort = () => {
        const why = signal.reason as ToolAbortReason;
        resolve({ status: TaskStatus.Failed, reason: why.reason, error: why.message });
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const hardTimer = setTimeout(
      () => this.abort(FailureReason.HardTimeout, `exceeded its hard runtime limit of ${options.hardTimeoutMs / 1000} s`),
      options.hardTimeoutMs,
    );
    const handled = Promise.resolve()
      .then(() => options.tool.handler(options.args, this.context()))
      .then(
        (value): Outcome => ({ status: TaskStatus.Completed, result: capBytes(resultText(value), options.maxResultBytes) }),
        (err: unknown): Outcome => ({
          status: TaskStatus.Failed,
          reason: err instanceof ToolFailure ? err.reason : FailureReason.ToolError,
          error: capBytes(errorMessage(err), Math.min(options.maxResultBytes, MAX_ERROR_BYTES)),
        }),
      );
    this.outcome = Promise.race([handled, aborted]).finally(() => {
      this.settled = true;
      clearTimeout(hardTimer);
      signal.removeEventListener('abort', onAbort);
    });
  }

  get taskId(): string {
    return this.options.taskId;
  }

  get progress(): Progress | undefined {
    return this.latestProgress;
  }

  /** Stops the tool; the first reason wins. A no-op (false) once the run has settled or been stopped. */
  abort(reason: FailureReason, message: string): boolean {
    if (this.settled || this.controller.signal.aborted) return false;
    this.controller.abort(new ToolAbortReason(reason, message));
    return true;
  }

  private context(): ToolContext {
    const { taskId, tool, origin, logger: parent, trace } = this.options;
    let logger: Logger | undefined;
    return {
      taskId,
      toolName: tool.name,
      origin,
      signal: this.controller.signal,
      // A child logger costs more than most tool calls; most tools never log.
      get logger() {
        return (logger ??= parent.child({ taskId, tool: tool.name }));
      },
      deadline: this.deadline,
      ...(trace && { trace }),
      progress: (fraction, message = '') => {
        if (this.settled) return;
        const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
        this.latestProgress = { fraction: clamped, message: String(message), updatedAt: Date.now() };
        this.options.onProgress(this.latestProgress);
      },
    };
  }
}

function resultText(value: ToolResult): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return jsonOrString(value);
}

/** A thrown value as a message, whatever was thrown (tools throw strings, objects, even symbols). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  return jsonOrString(err);
}

/** JSON when the value has one, else its String(): cyclic objects, BigInt, functions and symbols have none. */
function jsonOrString(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // Cyclic or BigInt: fall through.
  }
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
