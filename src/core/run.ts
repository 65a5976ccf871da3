import type { Cancellation } from './cancellation.js';
import type { Slot } from './running-limits.js';
import { type OutputPiece, RunOutput } from './run-output.js';
import { capBytes } from './truncate.js';
import type { Logger } from './logger.js';
import { FailureReason, type InputRequest, type Origin, type Outcome, type Progress, TaskStatus } from './task.js';
import type { TraceContext } from './trace.js';
import { RunContext } from './run-context.js';
import { type InputQuestion, type Tool, ToolFailure, type ToolResult } from './tool.js';

/** An error message is for reading, not a payload: longer ones are cut. */
const MAX_ERROR_BYTES = 16 * 1024;

/** What `ToolRun.waitFor` returns when the caller went away first. */
export const CALLER_GONE = Symbol('caller gone');

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
  origin: Origin;
  hardTimeoutMs: number;
  /** How long a question (ctx.requestInput) waits for its answer before the task fails INPUT_TIMEOUT. */
  inputTimeoutMs: number;
  /** Results and errors longer than this (UTF-8 bytes) are cut, with a note saying so. */
  maxResultBytes: number;
  /** Output (ctx.output) past this many UTF-8 bytes is dropped, after a marker saying so. */
  maxOutputBytes: number;
  /** The parent of the tool's own logger, which is made only if the tool logs. */
  logger: Logger;
  trace?: TraceContext;
  /** The run's place among the running calls, given back when it ends. */
  slot?: Slot;
  /** Told of the run's progress and, once, of its outcome. */
  owner: RunOwner;
}

/**
 * Who a run reports to. One object serves every run (the manager's), so a
 * run holds no callbacks of its own.
 */
export interface RunOwner {
  progressed(run: ToolRun, progress: Progress): void;
  /** The tool wrote output; called only once the run's early output was taken (takeEarlyOutput). */
  outputWritten(run: ToolRun, piece: OutputPiece): void;
  /** Called once, as soon as the outcome is known (before `outcome`'s own callbacks run). */
  settled(run: ToolRun, outcome: Outcome): void;
  /** Why a question's answer schema cannot be used; undefined when it can. */
  questionProblem(schemaJson: string): string | undefined;
  /** The run asked a question (run.question): it must reach the store, and the answer the run. */
  inputRequested(run: ToolRun): void;
}

/** The question a run waits on, and how to resume it. */
interface PendingInput {
  request: InputRequest;
  resolve(answer: Record<string, unknown>): void;
  reject(reason: unknown): void;
  timer: NodeJS.Timeout;
}

/**
 * One execution of a tool handler. It settles at the first of: the handler
 * returning, the handler throwing, or `abort()` (cancel, hard timeout,
 * shutdown), so a tool that ignores its signal still ends on time.
 *
 * A run can stay alive for hours and there can be 100,000 of them, so it is
 * kept small: a handler that returns at once settles without a timer or a
 * promise; the AbortController is made only when the tool asks for its
 * signal; the hard limit's timer holds no closure; and nothing waiting on
 * the run stays attached to it once it has stopped waiting.
 */
export class ToolRun {
  /** When the hard runtime limit fires (epoch ms). */
  readonly deadline: number;
  /** performance.now() when the tool started, for its duration. */
  readonly startedAt = performance.now();
  private settledWith?: Outcome;
  /** Told the outcome once it is known; each removes itself if it stops waiting first. */
  private waiters?: ((outcome: Outcome) => void)[];
  private abortReason?: ToolAbortReason;
  private controller?: AbortController;
  private hardTimer?: NodeJS.Timeout;
  private latestProgress?: Progress;
  /** Told of progress while a caller waits inline (ExecuteCall.onProgress); cleared when it stops waiting. */
  watcher?: (progress: Progress) => void;
  /** Told of output while a caller waits inline (ExecuteCall.onOutput); cleared when it stops waiting. */
  outputWatcher?: (piece: OutputPiece) => void;
  /** Made on the first ctx.output: most tools write none. */
  private output?: RunOutput;
  /** Output is kept in the run until its record exists (takeEarlyOutput), then goes to the owner. */
  private outputTaken = false;
  private pendingInput?: PendingInput;
  private questionsAsked = 0;
  /** Ends an inline wait (waitFor) early: a question means the call is backgrounded at once. */
  private interruptWait?: () => void;

  /** `args` go to the handler and are not kept: they can be large, and the run can be long. */
  constructor(
    private readonly options: RunOptions,
    args: Record<string, unknown>,
  ) {
    options.slot?.handOver();
    this.deadline = Date.now() + options.hardTimeoutMs;
    this.invoke(args);
    if (!this.settledWith) this.hardTimer = setTimeout(hardTimeout, options.hardTimeoutMs, this);
  }

  get taskId(): string {
    return this.options.taskId;
  }

  get tool(): Tool {
    return this.options.tool;
  }

  get progress(): Progress | undefined {
    return this.latestProgress;
  }

  /** The question the tool waits on, if any. */
  get question(): InputRequest | undefined {
    return this.pendingInput?.request;
  }

  /** The outcome once known; undefined while the tool runs. */
  get settled(): Outcome | undefined {
    return this.settledWith;
  }

  /** The outcome, whenever it comes. Never rejects. */
  get outcome(): Promise<Outcome> {
    if (this.settledWith) return Promise.resolve(this.settledWith);
    return new Promise((resolve) => (this.waiters ??= []).push(resolve));
  }

  /**
   * The outcome if it comes within `budgetMs`; undefined when the budget runs
   * out first; CALLER_GONE when `callerSignal` fires first.
   */
  waitFor(budgetMs: number, callerSignal?: Cancellation): Promise<Outcome | undefined | typeof CALLER_GONE> {
    if (this.settledWith) return Promise.resolve(this.settledWith);
    if (callerSignal?.aborted) return Promise.resolve(CALLER_GONE);
    if (this.pendingInput) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (first: Outcome | undefined | typeof CALLER_GONE) => {
        clearTimeout(timer);
        if (this.interruptWait === interrupt) this.interruptWait = undefined;
        callerSignal?.removeEventListener('abort', onCallerGone);
        const i = this.waiters?.indexOf(done) ?? -1;
        if (i >= 0) this.waiters!.splice(i, 1);
        resolve(first);
      };
      const onCallerGone = () => done(CALLER_GONE);
      const interrupt = () => done(undefined);
      this.interruptWait = interrupt;
      const timer = setTimeout(done, budgetMs, undefined);
      callerSignal?.addEventListener('abort', onCallerGone, { once: true });
      (this.waiters ??= []).push(done);
    });
  }

  /** The tool's signal, made on first use: most tools that return at once never ask for it. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Stops the tool; the first reason wins. A no-op (false) once the run has settled or been stopped. */
  abort(reason: FailureReason, message: string): boolean {
    if (this.settledWith || this.abortReason) return false;
    this.abortReason = new ToolAbortReason(reason, message);
    this.settle({ status: TaskStatus.Failed, reason, error: message });
    this.controller?.abort(this.abortReason);
    return true;
  }

  /** Called by the tool's context: see ToolContext.requestInput. */
  requestInput(question: InputQuestion): Promise<Record<string, unknown>> {
    if (this.settledWith) return Promise.reject(this.abortReason ?? new Error('the tool run has ended'));
    if (this.pendingInput) return Promise.reject(new Error('ctx.requestInput: a question is already waiting'));
    // Its caller waits for the outcome itself, so nobody would ever see the question.
    if (this.options.tool.noBackground) {
      return Promise.reject(new Error('ctx.requestInput: a no_background tool cannot wait for input'));
    }
    if (typeof question?.message !== 'string' || !question.message.trim()) {
      return Promise.reject(new Error('ctx.requestInput: message must be a non-empty string'));
    }
    const schemaJson = JSON.stringify(question.schema ?? null);
    const problem = this.options.owner.questionProblem(schemaJson);
    if (problem) return Promise.reject(new Error(`ctx.requestInput: schema ${problem}`));
    const request: InputRequest = {
      id: `input-${++this.questionsAsked}`,
      message: question.message,
      schemaJson,
      requestedAt: Date.now(),
    };
    const answered = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(inputTimeout, this.options.inputTimeoutMs, this);
      this.pendingInput = { request, resolve, reject, timer };
    });
    // A tool that does not await its question must not turn the rejection at cancel into an unhandled one.
    answered.catch(() => undefined);
    this.interruptWait?.();
    this.options.owner.inputRequested(this);
    return answered;
  }

  /** The answer to question `requestId` reached this run; false when it is not the open question. */
  answer(requestId: string, answer: Record<string, unknown>): boolean {
    const pending = this.pendingInput;
    if (!pending || pending.request.id !== requestId) return false;
    this.pendingInput = undefined;
    clearTimeout(pending.timer);
    pending.resolve(answer);
    return true;
  }

  /** No answer came in time (called by the question's timer). */
  inputTimedOut(): void {
    const seconds = this.options.inputTimeoutMs / 1000;
    this.abort(FailureReason.InputTimeout, `no answer to its question came within its input timeout of ${seconds} s`);
  }

  /** The hard runtime limit passed (called by the run's own timer). */
  hitHardLimit(): void {
    this.abort(FailureReason.HardTimeout, `exceeded its hard runtime limit of ${this.options.hardTimeoutMs / 1000} s`);
  }

  /** Called by the tool's context. */
  reportProgress(fraction: number, message: unknown): void {
    if (this.settledWith) return;
    const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
    this.latestProgress = { fraction: clamped, message: String(message), updatedAt: Date.now() };
    this.watcher?.(this.latestProgress);
    this.options.owner.progressed(this, this.latestProgress);
  }

  /** Called by the tool's context: see ToolContext.output. */
  writeOutput(text: string): void {
    if (typeof text !== 'string') throw new TypeError('ctx.output: text must be a string');
    if (this.settledWith) return;
    const piece = (this.output ??= new RunOutput(this.options.maxOutputBytes)).write(text);
    if (!piece) return;
    this.outputWatcher?.(piece);
    if (this.outputTaken) this.options.owner.outputWritten(this, piece);
  }

  /**
   * The output written before the task's record existed, as one piece from
   * offset 0; later output goes to the owner as it is written.
   */
  takeEarlyOutput(): OutputPiece | undefined {
    this.outputTaken = true;
    return this.output?.takeEarly();
  }

  private invoke(args: Record<string, unknown>): void {
    const { tool, maxResultBytes } = this.options;
    let value: ReturnType<Tool['handler']>;
    try {
      value = tool.handler(args, new RunContext(this, this.options));
    } catch (err) {
      this.settle(failedWith(err, maxResultBytes));
      return;
    }
    if (isThenable(value)) {
      Promise.resolve(value).then(
        (result) => this.settle(completedWith(result, maxResultBytes)),
        (err: unknown) => this.settle(failedWith(err, maxResultBytes)),
      );
    } else {
      this.settle(completedWith(value, maxResultBytes));
    }
  }

  private settle(outcome: Outcome): void {
    if (this.settledWith) return;
    this.settledWith = outcome;
    clearTimeout(this.hardTimer);
    const pending = this.pendingInput;
    if (pending) {
      this.pendingInput = undefined;
      clearTimeout(pending.timer);
      pending.reject(this.abortReason ?? new Error('the tool run has ended'));
    }
    this.options.slot?.release();
    this.options.owner.settled(this, outcome);
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters) for (const waiter of waiters) waiter(outcome);
  }
}

/** The hard limit's timer callback: a plain function given the run, so the timer holds no closure. */
function hardTimeout(run: ToolRun): void {
  run.hitHardLimit();
}

function inputTimeout(run: ToolRun): void {
  run.inputTimedOut();
}

function isThenable(value: unknown): value is PromiseLike<ToolResult> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function completedWith(value: ToolResult, maxResultBytes: number): Outcome {
  return { status: TaskStatus.Completed, result: capBytes(resultText(value), maxResultBytes) };
}

function failedWith(err: unknown, maxResultBytes: number): Outcome {
  return {
    status: TaskStatus.Failed,
    reason: err instanceof ToolFailure ? err.reason : FailureReason.ToolError,
    error: capBytes(errorMessage(err), Math.min(maxResultBytes, MAX_ERROR_BYTES)),
  };
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
