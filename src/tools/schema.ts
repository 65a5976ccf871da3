import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { AnswerSchemas } from '../core/answers.js';
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
  /** Shared with AnswerChecker: one Ajv for every schema the server compiles. */
  readonly ajv = new Ajv({ allErrors: false, strict: false, logger: false });

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

/** Compiled answer schemas kept, at most: questions repeat their schema, but a tool may make one per call. */
const MAX_ANSWER_SCHEMAS = 1000;

/** Answers to tools' questions (ctx.requestInput) checked against the schema the tool asked with. */
export class AnswerChecker implements AnswerSchemas {
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly schemas: ArgumentSchemas) {}

  schemaProblem(schemaJson: string): string | undefined {
    try {
      this.validator(schemaJson);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  answerProblem(schemaJson: string, answer: Record<string, unknown>): string | undefined {
    const check = this.validator(schemaJson);
    return check(answer) ? undefined : describe(check.errors?.[0]);
  }

  private validator(schemaJson: string): ValidateFunction {
    const known = this.compiled.get(schemaJson);
    if (known) return known;
    const schema = JSON.parse(schemaJson) as unknown;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new Error('must be a JSON Schema object, like {"type": "object", "properties": {...}}');
    }
    if ((schema as { type?: unknown }).type !== undefined && (schema as { type?: unknown }).type !== 'object') {
      throw new Error('must describe a JSON object (type "object"): an answer is an object');
    }
    let check: ValidateFunction;
    try {
      check = this.schemas.ajv.compile(schema);
    } catch (err) {
      throw new Error(`is not a valid JSON Schema: ${(err as Error).message}`, { cause: err });
    }
    if (this.compiled.size >= MAX_ANSWER_SCHEMAS) this.compiled.clear();
    this.compiled.set(schemaJson, check);
    return check;
  }
}
