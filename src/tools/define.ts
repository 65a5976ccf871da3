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
  /** Default budget in seconds before the call is backgrounded. */
  timeout?: number;
  /** Runtime limit in seconds; past it the signal fires and the task fails HARD_TIMEOUT. */
  hardTimeout?: number;
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
