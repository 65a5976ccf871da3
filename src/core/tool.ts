import type { Logger } from './logger.js';
import type { Origin } from './task.js';

/** What a tool handler gets besides its arguments; shaped like an activity context. */
export interface ToolContext {
  readonly taskId: string;
  readonly toolName: string;
  readonly origin: Origin;
  /** Fires on cancel, hard timeout or shutdown; `signal.reason` is a ToolAbortReason. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Report progress; `fraction` is clamped to 0..1. Cheap: only the latest value is kept. */
  progress(fraction: number, message?: string): void;
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
  readonly timeoutSeconds?: number;
  /** Runtime limit (seconds); undefined = the server default. */
  readonly hardTimeoutSeconds?: number;
  /** "builtin", "meta", "module", ... shown by ListTools. */
  readonly source: string;
  /** Throws InvalidArgument naming the offending field. */
  validate(args: Record<string, unknown>): void;
  handler(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> | ToolResult;
}

/** Looks tools up by name; src/tools/registry.ts implements it. */
export interface ToolCatalog {
  get(name: string): Tool | undefined;
  list(): Tool[];
}
