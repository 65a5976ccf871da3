/**
 * "Parse this text, and it must be a JSON object": what tool arguments,
 * worker schemas, configuration files and HTTP tool files all need. Each
 * caller turns `problem` into its own error (InvalidArgument naming a field,
 * ConfigError naming a variable), so the wording of the two failures is
 * shared and the error type stays the caller's.
 */
export type JsonObjectParse = { ok: true; value: Record<string, unknown> } | { ok: false; problem: string };

/**
 * Parses `text`; `ok: false` says why it is not one JSON object: "is not
 * valid JSON (...)" or "must be <shape>".
 */
export function parseJsonObject(text: string, shape = 'a JSON object'): JsonObjectParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `is not valid JSON (${(err as Error).message})` };
  }
  if (!isJsonObject(value)) return { ok: false, problem: `must be ${shape}` };
  return { ok: true, value };
}

/** True for a plain JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
