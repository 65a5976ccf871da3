import { InvalidArgument } from '../core/errors.js';
import { parseJsonObject } from '../core/json.js';
import type { Tool } from '../core/tool.js';
import { type ArgumentSchemas, toolNameProblem } from '../tools/schema.js';
import type { Registration, WorkerToolSpec } from './protocol.js';

const MAX_TOOLS = 256;
const MAX_NAME = 128;
const MAX_DESCRIPTION = 8192;

/**
 * Checks a worker's registration field by field, naming each field as the
 * proto spells it, and compiles each tool's schema. A worker is a program, so
 * mistakes are reported precisely and the worker is turned away whole.
 */
export function checkRegistration(
  registration: Registration,
  schemas: ArgumentSchemas,
): { spec: WorkerToolSpec; validate: Tool['validate'] }[] {
  if (registration.workerName.length > MAX_NAME) {
    throw new InvalidArgument('register.worker_name', `must be at most ${MAX_NAME} characters`);
  }
  checkCount(registration.maxConcurrency, 'register.max_concurrency');
  if (registration.tools.length === 0) throw new InvalidArgument('register.tools', 'must name at least one tool');
  if (registration.tools.length > MAX_TOOLS)
    throw new InvalidArgument('register.tools', `must be at most ${MAX_TOOLS}`);
  const seen = new Set<string>();
  return registration.tools.map((spec, i) => {
    const field = (name: string) => `register.tools[${i}].${name}`;
    const badName = toolNameProblem(spec.name);
    if (badName) throw new InvalidArgument(field('name'), badName);
    if (seen.has(spec.name)) throw new InvalidArgument(field('name'), `"${spec.name}" appears twice`);
    seen.add(spec.name);
    if (spec.description.length > MAX_DESCRIPTION) {
      throw new InvalidArgument(field('description'), `must be at most ${MAX_DESCRIPTION} characters`);
    }
    checkCount(spec.concurrency, field('concurrency'));
    for (const [key, value] of [
      ['default_timeout_seconds', spec.timeoutSeconds],
      ['hard_timeout_seconds', spec.hardTimeoutSeconds],
      ['input_timeout_seconds', spec.inputTimeoutSeconds],
    ] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
        throw new InvalidArgument(field(key), 'must be a positive number of seconds (or 0 for the server default)');
      }
    }
    const parameters = parseSchema(spec.parametersJson, field('parameters_json_schema'));
    let validate: Tool['validate'];
    try {
      validate = schemas.compile(spec.name, parameters);
    } catch (err) {
      const why = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new InvalidArgument(field('parameters_json_schema'), `is not a valid JSON Schema: ${why}`);
    }
    return {
      spec: {
        ...spec,
        // 0 means "the server default", as in Execute.
        timeoutSeconds: spec.timeoutSeconds || undefined,
        hardTimeoutSeconds: spec.hardTimeoutSeconds || undefined,
        inputTimeoutSeconds: spec.inputTimeoutSeconds || undefined,
        parametersJson: JSON.stringify(parameters),
      },
      validate,
    };
  });
}

/** Workers hosting the same tool must agree on everything but their own concurrency. */
export function sameDefinition(a: WorkerToolSpec, b: WorkerToolSpec): boolean {
  return (
    a.description === b.description &&
    a.parametersJson === b.parametersJson &&
    a.noBackground === b.noBackground &&
    a.timeoutSeconds === b.timeoutSeconds &&
    a.hardTimeoutSeconds === b.hardTimeoutSeconds &&
    a.inputTimeoutSeconds === b.inputTimeoutSeconds
  );
}

function parseSchema(text: string, field: string): object {
  if (text.trim() === '') return { type: 'object' };
  const parsed = parseJsonObject(text, 'a JSON object (a JSON Schema)');
  if (!parsed.ok) throw new InvalidArgument(field, parsed.problem);
  return parsed.value;
}

function checkCount(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0)
    throw new InvalidArgument(field, 'must be 0 (no limit) or a positive whole number');
}
