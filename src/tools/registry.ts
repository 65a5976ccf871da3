import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { InvalidArgument } from '../core/errors.js';
import type { Tool, ToolCatalog } from '../core/tool.js';
import { type ToolSpec, toolOrigins } from './define.js';
import { Semaphore } from './semaphore.js';

const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** The tools a server can run, each with a compiled argument validator. */
export class ToolRegistry implements ToolCatalog {
  private readonly tools = new Map<string, Tool>();
  private readonly ajv = new Ajv({ allErrors: false, strict: false });

  /** Throws at start-up on a bad name, a duplicate, a bad schema or bad limits. */
  register<Args>(spec: ToolSpec<Args>, source: string): Tool {
    if (!TOOL_NAME.test(spec.name)) {
      throw new Error(`tool name "${spec.name}" must match ${TOOL_NAME} (lowercase, a-z first)`);
    }
    if (this.tools.has(spec.name)) {
      const origin = toolOrigins.get(spec);
      throw new Error(
        `tool "${spec.name}" is registered twice (${this.tools.get(spec.name)!.source} and ${source}${origin ? ` in ${origin}` : ''})`,
      );
    }
    for (const [key, value] of [['timeout', spec.timeout], ['hardTimeout', spec.hardTimeout]] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new Error(`tool "${spec.name}": ${key} must be a positive number of seconds`);
      }
    }
    if (spec.concurrency !== undefined && !(Number.isInteger(spec.concurrency) && spec.concurrency > 0)) {
      throw new Error(`tool "${spec.name}": concurrency must be a positive whole number`);
    }
    let check: ValidateFunction;
    try {
      check = this.ajv.compile(spec.parameters);
    } catch (err) {
      throw new Error(`tool "${spec.name}": its parameters are not a valid JSON Schema`, { cause: err });
    }
    const tool: Tool = {
      name: spec.name,
      description: spec.description,
      parameters: spec.parameters,
      noBackground: spec.noBackground ?? false,
      timeoutSeconds: spec.timeout,
      hardTimeoutSeconds: spec.hardTimeout,
      source,
      validate(args) {
        if (!check(args)) throw new InvalidArgument('arguments_json', describe(check.errors?.[0]));
      },
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

/** One schema violation as a sentence that names the field. */
function describe(error: ErrorObject | undefined): string {
  if (!error) return 'does not match the tool\'s parameters schema';
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const at = (name: string) => [...path, name].join('.');
  if (error.keyword === 'required') return `field "${at(error.params.missingProperty)}" is required`;
  if (error.keyword === 'additionalProperties') {
    return `field "${at(error.params.additionalProperty)}" is not allowed by the tool's schema`;
  }
  const field = path.length ? `field "${path.join('.')}"` : 'the arguments object';
  return `${field} ${error.message ?? 'is invalid'}`;
}
