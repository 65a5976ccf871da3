import { traceHeaders } from '../tracing.js';
import { type AnyToolSpec, defineTool } from './define.js';

/** One entry of TASKSERVICE_HTTP_TOOLS_FILE (a JSON array). */
interface HttpToolEntry {
  name: string;
  description: string;
  parameters: object;
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** Request time limit: past it the request is aborted and the task fails HARD_TIMEOUT. */
  timeout_seconds?: number;
  /** Default budget before the call is backgrounded. */
  budget_seconds?: number;
  no_background?: boolean;
  concurrency?: number;
}

/** How much of an error response's body the task's error keeps. */
const ERROR_BODY_EXCERPT = 500;

/**
 * Tools that call an HTTP endpoint: the arguments go out as the JSON body
 * (as query parameters for GET and DELETE), the response body comes back as
 * the result; a non-2xx answer fails the task with its status and a bounded
 * excerpt of its body. The task's signal aborts the request (cancel, hard
 * timeout, shutdown). `${NAME}` in the URL or a header is replaced by the
 * environment variable NAME at start, so secrets stay out of the file.
 * Throws an Error naming the entry and the setting when the file is wrong.
 */
export function httpTools(text: string, env: Record<string, string | undefined>, source: string): AnyToolSpec[] {
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source} is not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(entries)) throw new Error(`${source} must be a JSON array of tools`);
  return entries.map((raw, i) => {
    const e = raw as HttpToolEntry;
    const where = `${source}: tool ${i} (${typeof e?.name === 'string' ? e.name : 'unnamed'})`;
    const fail = (what: string): never => {
      throw new Error(`${where}: ${what}`);
    };
    if (typeof e !== 'object' || e === null) fail('must be an object');
    if (typeof e.name !== 'string' || typeof e.description !== 'string') fail('needs "name" and "description" strings');
    if (typeof e.parameters !== 'object' || e.parameters === null) fail('needs a "parameters" JSON Schema object');
    const method = e.method ?? 'POST';
    if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) fail(`method ${method} is not supported`);
    const expand = (value: string, what: string) =>
      value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? fail(`${what} needs \${${name}}, which is not set in the environment`));
    const url = expand(String(e.url ?? ''), 'url');
    if (!/^https?:\/\//.test(url)) fail('url must be an http(s) URL');
    const headers = Object.fromEntries(Object.entries(e.headers ?? {}).map(([k, v]) => [k, expand(String(v), `header ${k}`)]));
    return defineTool<Record<string, unknown>>({
      name: e.name,
      description: e.description,
      parameters: e.parameters,
      noBackground: e.no_background ?? false,
      budget: e.budget_seconds,
      hardTimeout: e.timeout_seconds,
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
        if (!response.ok) throw new Error(`HTTP ${response.status} from ${e.name}: ${body.slice(0, ERROR_BODY_EXCERPT)}`);
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
