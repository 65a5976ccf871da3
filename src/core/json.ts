/**
 * "Parse this text, and it must be a JSON object": what tool arguments,
 * worker schemas, configuration files and HTTP tool files all need. Each
 * caller turns `problem` into its own error (InvalidArgument naming a field,
 * ConfigError naming a variable), so the wording of the two failures is
 * shared and the error type stays the caller's.
 */
export type JsonParse<T> = { ok: true; value: T } | { ok: false; problem: string };
export type JsonObjectParse = JsonParse<Record<string, unknown>>;

/**
 * Parses `text`; `ok: false` says why it is not one JSON object: "is not
 * valid JSON (...)" or "must be <shape>".
 */
export function parseJsonObject(text: string, shape = 'a JSON object'): JsonObjectParse {
  const parsed = parseJson(text);
  if (parsed.ok && !isJsonObject(parsed.value)) return { ok: false, problem: `must be ${shape}` };
  return parsed as JsonObjectParse;
}

/** Parses `text` as any JSON value (the HTTP tools file is an array); `ok: false`: "is not valid JSON (...)". */
export function parseJson(text: string): JsonParse<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, problem: `is not valid JSON (${(err as Error).message})` };
  }
}

/** True for a plain JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
