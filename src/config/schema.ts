import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError, type Env } from './types.js';

/**
 * The JSON settings (platforms, tokens, HTTP tools) are checked by JSON
 * Schemas. A schema's `description` says what to write there, as the rest
 * of a sentence about the field ("must be an http(s) URL"): the message
 * lives beside the rule. `verbose` puts the failing schema in each error.
 */
const ajv = new Ajv({ allErrors: false, verbose: true });

/** Why a value fails its schema, as "<field> <what to fix>"; undefined when it passes. */
export type SchemaCheck = (value: unknown) => string | undefined;

export function schemaCheck(schema: Record<string, unknown>): SchemaCheck {
  // Ajv runs oneOf / not before type, and `required` passes on a non-object: an entry that is a string
  // would be told it lacks a key. Checking the type first says what is wrong.
  const validate = ajv.compile(schema.type === 'object' ? { allOf: [{ type: 'object' }, schema] } : schema);
  return (value) => (validate(value) ? undefined : schemaProblem(validate.errors ?? []));
}

/** Throws ConfigError "<where>: <problem>"; `where` names the variable or file and the entry. */
export function failAt(where: string): (problem: string) => never {
  return (problem) => {
    throw new ConfigError(`${where}: ${problem}`);
  };
}

/**
 * Ajv's errors as one sentence naming the field. With allErrors off Ajv
 * stops at the first failing keyword, and reports anyOf / oneOf after the
 * errors of their branches: the last error is the one that decided.
 */
function schemaProblem(errors: readonly ErrorObject[]): string {
  const error = errors.at(-1);
  if (!error) return 'is not valid';
  const field = fieldName(error.instancePath);
  const inside = (key: string) => (field ? `${field}.${key}` : key);
  if (error.keyword === 'required') return `${inside(error.params.missingProperty)} is required`;
  if (error.keyword === 'additionalProperties') {
    // A misspelt key would otherwise be ignored, and its setting silently left at the default.
    const known = Object.keys(error.parentSchema?.properties ?? {}).join(', ');
    return `${inside(error.params.additionalProperty)} is not a known key (known: ${known})`;
  }
  const fix = (error.parentSchema?.description as string | undefined) ?? ajvWords(error);
  return field ? `${field} ${fix}` : fix;
}

/** "/headers/x-key" -> "headers.x-key", "/users/0" -> "users[0]". */
function fieldName(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

const TYPE_WORDS: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
};

/** Ajv's own words, where the schema gives none, made plainer for the common keywords. */
function ajvWords(error: ErrorObject): string {
  if (error.keyword === 'type') {
    return `must be ${[error.params.type]
      .flat()
      .map((t: string) => TYPE_WORDS[t] ?? t)
      .join(' or ')}`;
  }
  if (error.keyword === 'enum') return `must be one of ${error.params.allowedValues.map(quote).join(', ')}`;
  if (error.keyword === 'const') return `must be ${quote(error.params.allowedValue)}`;
  return error.message ?? 'is not valid';
}

function quote(value: unknown): string {
  return JSON.stringify(value);
}

/** A string field that may name an environment variable instead (`url_env`, `token_env`, ...). */
export const ENV_NAME = { type: 'string', minLength: 1, description: 'must name an environment variable' };

export const HTTP_URL = { type: 'string', pattern: '^https?://', description: 'must be an http(s) URL' };

/** HTTP headers: name -> value. */
export const HEADERS = {
  type: 'object',
  additionalProperties: { type: 'string', description: 'must be a string' },
  description: 'must be an object of strings',
};

/**
 * A schema part: `a` and `b` (say `url` and `url_env`) may not both be set;
 * with `required`, one of them must be. `note` ends the message.
 */
export function oneOfKeys(a: string, b: string, required: boolean, note = ''): object {
  return required
    ? { oneOf: [{ required: [a] }, { required: [b] }], description: `set exactly one of ${a} and ${b}${note}` }
    : { not: { required: [a, b] }, description: `set ${a} or ${b}, not both${note}` };
}

/**
 * A string field given inline (`key`) or through the environment variable
 * that `<key>_env` names (secrets stay out of files); a value from the
 * environment must pass the key's own check too.
 */
export function inlineOrEnv(
  entry: Record<string, unknown>,
  key: string,
  env: Env,
  fail: (problem: string) => never,
  check?: SchemaCheck,
): string | undefined {
  const name = entry[`${key}_env`];
  if (typeof name !== 'string') return entry[key] as string | undefined;
  const value = env[name];
  if (!value) fail(`${key}_env names ${name}, which is not set in the environment`);
  const problem = check?.(value);
  if (problem) fail(`${key} (from ${name}) ${problem}`);
  return value;
}
