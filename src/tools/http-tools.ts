import { failAt, HEADERS, HTTP_URL, oneOfKeys, schemaCheck } from '../config/schema.js';
import { ConfigError } from '../config/types.js';
import { isJsonObject, parseJson } from '../core/json.js';
import { traceHeaders } from '../tracing.js';
import { type AnyToolSpec, defineTool } from './define.js';

/** One entry of TASKSERVICE_HTTP_TOOLS_FILE (a JSON array), as its schema lets it through. */
interface HttpToolEntry {
  name: string;
  description: string;
  parameters: object;
  url: string;
  method?: (typeof METHODS)[number];
  headers?: Record<string, string>;
  /** Request time limit: past it the request is aborted and the task fails HARD_TIMEOUT. */
  hard_timeout_seconds?: number;
  /** @deprecated The old name of hard_timeout_seconds, still read. */
  timeout_seconds?: number;
  /** Default budget before the call is backgrounded. */
  budget_seconds?: number;
  no_background?: boolean;
  concurrency?: number;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const SECONDS = { type: 'number', exclusiveMinimum: 0, description: 'must be a positive number of seconds' };

const checkEntry = schemaCheck({
  type: 'object',
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    parameters: { type: 'object', description: 'must be a JSON Schema object' },
    // Checked as a URL once ${NAME} is replaced.
    url: { type: 'string' },
    method: { enum: METHODS },
    headers: HEADERS,
    hard_timeout_seconds: SECONDS,
    timeout_seconds: SECONDS,
    budget_seconds: SECONDS,
    no_background: { type: 'boolean' },
    concurrency: { type: 'integer', minimum: 1, description: 'must be a positive whole number' },
  },
  required: ['name', 'description', 'parameters', 'url'],
  additionalProperties: false,
  allOf: [oneOfKeys('hard_timeout_seconds', 'timeout_seconds', false, ' (timeout_seconds is its deprecated name)')],
});
const checkUrl = schemaCheck(HTTP_URL);

/** How much of an error response's body the task's error keeps. */
const ERROR_BODY_EXCERPT = 500;

/**
 * Tools that call an HTTP endpoint: the arguments go out as the JSON body
 * (as query parameters for GET and DELETE), the response body comes back as
 * the result; a non-2xx answer fails the task with its status and a bounded
 * excerpt of its body. The task's signal aborts the request (cancel, hard
 * timeout, shutdown). `${NAME}` in the URL or a header is replaced by the
 * environment variable NAME at start, so secrets stay out of the file.
 * Throws a ConfigError naming the file, the entry and the field when the
 * file is wrong; `warn` hears of deprecated keys.
 */
export function httpTools(
  text: string,
  env: Record<string, string | undefined>,
  source: string,
  warn: (message: string) => void = () => {},
): AnyToolSpec[] {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new ConfigError(`${source} ${parsed.problem}`);
  if (!Array.isArray(parsed.value)) throw new ConfigError(`${source} must be a JSON array of tools`);
  return parsed.value.map((raw: unknown, i) => {
    const where = `${source}: tool ${i} (${isJsonObject(raw) && typeof raw.name === 'string' ? raw.name : 'unnamed'})`;
    const fail = failAt(where);
    const problem = checkEntry(raw);
    if (problem) fail(problem);
    const e = raw as HttpToolEntry;
    if (e.timeout_seconds !== undefined) warn(`${where}: timeout_seconds is deprecated; call it hard_timeout_seconds`);
    const method = e.method ?? 'POST';
    const expand = (value: string, what: string) =>
      value.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
        (_, name: string) => env[name] ?? fail(`${what} needs \${${name}}, which is not set in the environment`),
      );
    const url = expand(e.url, 'url');
    const badUrl = checkUrl(url);
    if (badUrl) fail(`url ${badUrl}`);
    const headers = Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k, expand(v, `header ${k}`)]));
    return defineTool<Record<string, unknown>>({
      name: e.name,
      description: e.description,
      parameters: e.parameters,
      noBackground: e.no_background ?? false,
      budget: e.budget_seconds,
      hardTimeout: e.hard_timeout_seconds ?? e.timeout_seconds,
      concurrency: e.concurrency,
      async handler(args, ctx) {
        const withBody = method !== 'GET' && method !== 'DELETE';
        const target = withBody ? url : withQuery(url, args);
        const response = await fetch(target, {
          method,
          headers: { ...(withBody && { 'content-type': 'application/json' }), ...traceHeaders(ctx.trace), ...headers },
          ...(withBody && { body: JSON.stringify(args) }),
          signal: ctx.signal,
        });
        const body = await response.text();
        if (!response.ok)
          throw new Error(`HTTP ${response.status} from ${e.name}: ${body.slice(0, ERROR_BODY_EXCERPT)}`);
        return body;
      },
    }) as AnyToolSpec;
  });
}

function withQuery(url: string, args: Record<string, unknown>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(args)) u.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  return u.toString();
}
