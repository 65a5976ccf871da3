import type { Logger } from './logger.js';
import type { FailureReason, Origin } from './task.js';
import type { TraceContext } from './trace.js';

/** What a tool handler gets besides its arguments; shaped like an activity context. */
export interface ToolContext {
  readonly taskId: string;
  readonly toolName: string;
  readonly origin: Origin;
  /** Fires on cancel, hard timeout or shutdown; `signal.reason` is a ToolAbortReason. */
  readonly signal: AbortSignal;
  /** Bound to the task id and tool name. */
  readonly logger: Logger;
  /** When the hard runtime limit fires (epoch ms): work past it is wasted. */
  readonly deadline: number;
  /**
   * The caller's W3C trace context, to pass on (HTTP headers, worker invocations) so the tool's
   * work joins its trace.
   */
  readonly trace?: TraceContext;
  /** Report progress; `fraction` is clamped to 0..1. Cheap: only the latest value is kept. */
  progress(fraction: number, message?: string): void;
  /**
   * Appends text to the task's output, which callers read and stream while the
   * tool runs (AwaitResult, ExecuteStream). In order, never coalesced; bounded
   * by TASKSERVICE_MAX_OUTPUT_BYTES (a marker, then later text is dropped).
   * Cheap to call often: writes to the store are batched.
   */
  output(text: string): void;
  /**
   * Asks a question and waits for the answer: the task turns INPUT_REQUIRED (an
   * inline call is backgrounded at once) until someone answers through
   * ProvideInput (or the provide_input meta-tool) with a JSON object matching
   * `schema`, which this resolves with, already checked. Rejects when the task
   * is cancelled, times out waiting (the tool's input timeout) or the server
   * shuts down, with the signal's reason. One question at a time.
   */
  requestInput(question: InputQuestion): Promise<Record<string, unknown>>;
}

/** What a tool asks with ctx.requestInput. */
export interface InputQuestion {
  /** The question, for a person (or a model) to read. */
  message: string;
  /** JSON Schema of the answer, an object: `{"type": "object", "properties": {...}}`. */
  schema: object;
}

/** The result a handler returns: a string is passed on as is, anything else as JSON. */
export type ToolResult = string | number | boolean | object | null | undefined;

export interface Tool {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments object. */
  readonly parameters: object;
  /** Always awaited to completion: its side effects must be seen by the model in order. */
  readonly noBackground: boolean;
  /** Budget when the call gives none (seconds); undefined = the server default. */
  readonly budgetSeconds?: number;
  /** Runtime limit (seconds); undefined = the server default. */
  readonly hardTimeoutSeconds?: number;
  /** How long a question may wait for its answer (seconds); undefined = the server default. */
  readonly inputTimeoutSeconds?: number;
  /** "example", "meta", "module", "http" or "worker", shown by ListTools. */
  readonly source: string;
  /** Where a call would run now. Absent: always here. */
  place?(): Placement;
  /** For worker tools: how many connected workers serve it. */
  workerCount?(): number;
  /** For worker tools: invocations at once on one worker (0: no limit of its own). */
  readonly concurrency?: number;
  /** Throws InvalidArgument naming the offending field. */
  validate(args: Record<string, unknown>): void;
  handler(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> | ToolResult;
}

/** Looks tools up by name; src/tools/registry.ts implements it. */
export interface ToolCatalog {
  get(name: string): Tool | undefined;
  list(): Tool[];
}

/**
 * Where a tool runs. Most tools run in this process; a worker tool runs where
 * a worker hosting it is connected, which may be another replica.
 */
export type Placement =
  | { readonly kind: 'here' }
  | { readonly kind: 'replica'; readonly instanceId: string }
  | { readonly kind: 'nowhere'; readonly why: string };

export const HERE: Placement = Object.freeze({ kind: 'here' });

/**
 * Thrown by a handler whose failure has a reason other than TOOL_ERROR, e.g.
 * WORKER_LOST when the worker running the tool disappeared.
 */
export class ToolFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'ToolFailure';
  }
}
