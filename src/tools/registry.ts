import type { Tool, ToolCatalog } from '../core/tool.js';
import { type ToolSpec, toolOrigins } from './define.js';
import { ArgumentSchemas, toolNameProblem } from './schema.js';
import { Semaphore } from './semaphore.js';

/** The tools a server can run, each with a compiled argument validator. */
export class ToolRegistry implements ToolCatalog {
  private readonly tools = new Map<string, Tool>();

  constructor(readonly schemas = new ArgumentSchemas()) {}

  /** Throws at start-up on a bad name, a duplicate, a bad schema or bad limits. */
  register<Args>(spec: ToolSpec<Args>, source: string): Tool {
    const badName = toolNameProblem(spec.name);
    if (badName) throw new Error(badName);
    if (this.tools.has(spec.name)) {
      const origin = toolOrigins.get(spec);
      throw new Error(
        `tool "${spec.name}" is registered twice ` +
          `(${this.tools.get(spec.name)!.source} and ${source}${origin ? ` in ${origin}` : ''})`,
      );
    }
    for (const [key, value] of [
      ['budget', spec.budget],
      ['timeout', spec.timeout],
      ['hardTimeout', spec.hardTimeout],
      ['inputTimeout', spec.inputTimeout],
    ] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new Error(`tool "${spec.name}": ${key} must be a positive number of seconds`);
      }
    }
    if (spec.concurrency !== undefined && !(Number.isInteger(spec.concurrency) && spec.concurrency > 0)) {
      throw new Error(`tool "${spec.name}": concurrency must be a positive whole number`);
    }
    const validate = this.schemas.compile(spec.name, spec.parameters);
    const tool: Tool = {
      name: spec.name,
      description: spec.description,
      parameters: spec.parameters,
      noBackground: spec.noBackground ?? false,
      budgetSeconds: spec.budget ?? spec.timeout,
      hardTimeoutSeconds: spec.hardTimeout,
      inputTimeoutSeconds: spec.inputTimeout,
      source,
      validate,
      handler: limited(spec.handler as Tool['handler'], spec.concurrency),
    };
    this.tools.set(spec.name, tool);
    return tool;
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  /** Sorted by name, so listings are stable. */
  list(): Tool[] {
    return [...this.tools.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** The handler, run at most `concurrency` at a time when a limit is set. */
function limited(handler: Tool['handler'], concurrency: number | undefined): Tool['handler'] {
  if (concurrency === undefined) return handler;
  const slots = new Semaphore(concurrency);
  return async (args, ctx) => {
    const release = await slots.acquire(ctx.signal);
    try {
      return await handler(args, ctx);
    } finally {
      release();
    }
  };
}
