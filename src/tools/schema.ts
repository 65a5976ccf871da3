import { Ajv, type ErrorObject } from 'ajv';
import { InvalidArgument } from '../core/errors.js';

/** Models call tools by name, and names become Redis fields and log keys: keep them plain. */
export const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Why `name` is not a valid tool name, or undefined when it is. */
export function toolNameProblem(name: string): string | undefined {
  return TOOL_NAME.test(name) ? undefined : `tool name "${name}" must match ${TOOL_NAME} (lowercase, a-z first)`;
}

/** Checks an arguments object; throws InvalidArgument naming the offending field. */
export type ArgumentCheck = (args: Record<string, unknown>) => void;

/**
 * Compiles tools' JSON Schemas into argument checks. One Ajv instance for
 * every tool, wherever it comes from (module, HTTP file, worker).
 */
export class ArgumentSchemas {
  // logger: false, because Ajv would print its warnings ("unknown format ignored", common in MCP servers'
  // schemas) with console.warn, between the service's JSON log lines.
  private readonly ajv = new Ajv({ allErrors: false, strict: false, logger: false });

  /** Throws (naming the tool) when `schema` is not a valid JSON Schema. */
  compile(toolName: string, schema: object): ArgumentCheck {
    let check;
    try {
      check = this.ajv.compile(schema);
    } catch (err) {
      throw new Error(`tool "${toolName}": its parameters are not a valid JSON Schema`, { cause: err });
    }
    return (args) => {
      if (!check(args)) throw new InvalidArgument('arguments_json', describe(check.errors?.[0]));
    };
  }
}

/** One schema violation as a sentence that names the field. */
function describe(error: ErrorObject | undefined): string {
  if (!error) return "does not match the tool's parameters schema";
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
