import type { ToolContext, ToolResult } from '../core/tool.js';

/** What a tool author writes. Register it with ToolRegistry.register(). */
export interface ToolSpec<Args = Record<string, unknown>> {
  /** Lowercase, a-z first, then a-z 0-9 _ (at most 64): models call tools by this name. */
  name: string;
  description: string;
  /** JSON Schema of the arguments object; checked before the handler runs. */
  parameters: object;
  /** Always awaited to completion, never backgrounded. */
  noBackground?: boolean;
  /** Default budget in seconds: how long a call waits inline before the tool goes on in the background. */
  budget?: number;
  /** @deprecated The old name of `budget`; still read when `budget` is absent. */
  timeout?: number;
  /** Runtime limit in seconds; past it the signal fires and the task fails HARD_TIMEOUT. */
  hardTimeout?: number;
  /** How long a question (ctx.requestInput) waits for its answer, in seconds; past it the task fails INPUT_TIMEOUT. */
  inputTimeout?: number;
  /** At most this many runs at once; more calls wait their turn (within their budget). */
  concurrency?: number;
  handler(args: Args, ctx: ToolContext): Promise<ToolResult> | ToolResult;
}

/**
 * Declares a tool. Typed arguments for the handler; validation against
 * `parameters` happens in the registry, so the handler only sees valid input.
 */
export function defineTool<Args = Record<string, unknown>>(spec: ToolSpec<Args>): ToolSpec<Args> {
  return Object.freeze({ ...spec });
}

/** Any tool spec, whatever its argument type (for lists of tools). */
export type AnyToolSpec = ToolSpec<never>;

/** True for anything shaped like a ToolSpec: what a tool module may export. */
export function isToolSpec(value: unknown): value is AnyToolSpec {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.handler === 'function' && typeof v.parameters === 'object';
}

/** Where a tool came from (a module path), for start-up errors that must say what to fix. */
export const toolOrigins = new WeakMap<object, string>();
