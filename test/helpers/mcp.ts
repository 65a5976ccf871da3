import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createTaskSessionFromClient } from '@modelcontextprotocol/ext-tasks/client';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
export const MODERN = '2026-07-28';
export type Mode = 'legacy' | 'modern';

/** The official MCP client over Streamable HTTP, in one protocol era; closed by the caller. */
export async function mcpClient(
  url: string,
  mode: Mode,
  options: { headers?: Record<string, string>; tasks?: boolean } = {},
): Promise<Client> {
  const client = new Client(
    { name: 'taskservice-test', version: '1.0.0' },
    {
      versionNegotiation: { mode: mode === 'modern' ? { pin: MODERN } : 'legacy' },
      ...(options.tasks && { capabilities: { extensions: { [TASKS_EXTENSION]: {} } } }),
    },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: options.headers ?? {} } }),
  );
  return client;
}

/** A JSON-RPC answer: `result` when kind is 'result', `error` when 'error'. */
export interface Dispatched {
  kind: 'result' | 'error';
  // Loosely typed: each test reads the fields its method answers.
  result?: Record<string, any>;
  error?: RpcError;
}
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

const NAME_FIELD: Record<string, string> = {
  'tools/call': 'name',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};
let sequence = 0;

/**
 * One JSON-RPC request of protocol 2026-07-28 sent as a client would (the
 * Mcp-Method and Mcp-Name headers, the answer read from JSON or SSE). ext-tasks
 * needs it: the SDK 2.4 client refuses `resultType: "task"` answers itself.
 */
export function rawDispatchFor(url: string, headers: Record<string, string> = {}) {
  return async function rawDispatch(
    request: { method: string; params?: Record<string, unknown> },
    options: { signal?: AbortSignal; context?: { headers?: Record<string, string> } } = {},
  ): Promise<Dispatched> {
    const body = { jsonrpc: '2.0', id: `raw-${++sequence}`, ...request };
    const sent = new Headers({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': body.method,
      ...headers,
    });
    const field = NAME_FIELD[body.method];
    const name = field && body.params?.[field];
    if (typeof name === 'string') sent.set('mcp-name', name);
    // Headers merge case-insensitively: a plain object merge sent Mcp-Name twice.
    for (const [key, value] of Object.entries(options.context?.headers ?? {})) sent.set(key, value);
    const res = await fetch(url, { method: 'POST', headers: sent, body: JSON.stringify(body), signal: options.signal });
    const message = answerOf(await res.text(), res.headers.get('content-type') ?? '', body.id);
    if (!message) throw new Error(`no JSON-RPC answer (HTTP ${res.status})`);
    return message.error ? { kind: 'error', error: message.error } : { kind: 'result', result: message.result ?? {} };
  };
}

function answerOf(text: string, type: string, id: string) {
  type Message = { id?: unknown; result?: Record<string, unknown>; error?: RpcError };
  if (!type.includes('text/event-stream')) return JSON.parse(text) as Message;
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as Message)
    .find((m) => m.id === id);
}

/** The request envelope of protocol 2026-07-28, with or without the tasks extension. */
export function envelope(tasks: boolean): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'taskservice-test', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {},
  };
}

/** An ext-tasks requester session on a connected client, in the client's era. */
export function taskSession(client: Client, url: string, headers: Record<string, string> = {}) {
  if (client.getProtocolEra() !== 'modern') return createTaskSessionFromClient(client, { endpointId: 'test' });
  return createTaskSessionFromClient(client, {
    endpointId: 'test',
    rawDispatch: rawDispatchFor(url, headers),
    v2RequestFraming: {
      protocolVersion: MODERN,
      clientInfo: { name: 'taskservice-test', version: '1.0.0' },
      clientCapabilities: {},
    },
  } as never);
}
