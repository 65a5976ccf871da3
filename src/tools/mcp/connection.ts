import type { Client, Tool as McpTool } from '@modelcontextprotocol/client';
import { jitteredBackoffMs, pause } from '../../client/backoff.js';
import type { Logger } from '../../core/logger.js';
import { FailureReason } from '../../core/task.js';
import { ToolFailure, type ToolContext, type ToolResult } from '../../core/tool.js';
import type { McpServerConfig } from '../../config/types.js';
import { Semaphore } from '../semaphore.js';
import { McpToolError, taskResult } from './results.js';
import { StderrLog } from './stderr-log.js';

export interface McpConnectionOptions {
  /** This replica's release, sent as the client's version. */
  version: string;
  /** A connected server is pinged this often... */
  pingMs: number;
  /** ...and lost when a ping (or the connect handshake) takes longer than this. */
  timeoutMs: number;
  /** Reconnection waits grow from the first to the second (jittered). */
  backoffMs: { initialMs: number; maxMs: number };
}

/** A tool as the server lists it: its MCP name, description and argument schema. */
export type McpToolDefinition = Pick<McpTool, 'name' | 'description' | 'inputSchema'>;

/** The client SDK with its stdio transport, loaded together on first use (loadSdk). */
type Sdk = typeof import('@modelcontextprotocol/client') & {
  StdioClientTransport: typeof import('@modelcontextprotocol/client/stdio').StdioClientTransport;
};
type ElicitContent = Record<string, string | number | boolean | string[]>;
type State = { kind: 'connecting' } | { kind: 'connected' } | { kind: 'down'; why: string } | { kind: 'closed' };

/** A session shorter than this does not reset the backoff: a server that dies at once is not hammered. */
const STABLE_SESSION_MS = 30_000;

/**
 * One MCP server, kept connected: connects (spawning a stdio server or
 * opening a Streamable HTTP session), lists its tools, follows
 * `notifications/tools/list_changed`, pings it, and on any loss (a child that
 * exits, a ping without answer, a failed request) fails the calls in flight
 * WORKER_LOST and connects again after a jittered backoff. Calls carry the
 * task's signal, so cancel, hard timeout and shutdown reach the server as
 * `notifications/cancelled`.
 */
export class McpConnection {
  private state: State = { kind: 'connecting' };
  private client?: Client;
  private listed?: readonly McpToolDefinition[];
  private lossWhy?: string;
  private pingTimer?: NodeJS.Timeout;
  private readonly stopping = new AbortController();
  private readonly slots?: Semaphore;
  /** Task ids of the calls in flight, named by log lines the server sends (they carry no request id). */
  private readonly running = new Map<string, ToolContext>();
  private loop?: Promise<void>;
  /** The stdio server's process id while connected (diagnostics, tests). */
  private childPid?: number;

  constructor(
    readonly config: McpServerConfig,
    private readonly logger: Logger,
    private readonly options: McpConnectionOptions,
    /** Told when the server's tools (or whether they can be called) change. */
    private readonly onChange: () => void,
  ) {
    if (config.concurrency !== undefined) this.slots = new Semaphore(config.concurrency);
  }

  /** The tools the server listed last (kept while it is down); undefined before it ever answered. */
  get tools(): readonly McpToolDefinition[] | undefined {
    return this.listed;
  }

  get pid(): number | undefined {
    return this.connected ? this.childPid : undefined;
  }

  get connected(): boolean {
    return this.state.kind === 'connected';
  }

  /** Why calls cannot be sent now, for UNAVAILABLE and ListTools. */
  get unavailableWhy(): string {
    const why =
      this.state.kind === 'down' ? this.state.why : this.state.kind === 'connecting' ? 'connecting' : 'closed';
    return `MCP server "${this.config.name}" is not connected (${why}); TaskService keeps reconnecting to it`;
  }

  /** Starts connecting; resolves when the first attempt has ended, or after `waitMs`, whichever is first. */
  async start(waitMs: number): Promise<void> {
    let firstAttempt!: () => void;
    const attempted = new Promise<void>((resolve) => (firstAttempt = resolve));
    this.loop = this.keepConnected(firstAttempt);
    const timer = setTimeout(firstAttempt, waitMs);
    await attempted;
    clearTimeout(timer);
  }

  /** Sends tools/call; the result as a task result, or the failure as the task's (see McpToolError, ToolFailure). */
  async call(mcpName: string, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
    const release = await this.slots?.acquire(ctx.signal);
    try {
      const client = this.client;
      if (!client || this.state.kind !== 'connected')
        throw new ToolFailure(FailureReason.WorkerLost, this.unavailableWhy);
      this.running.set(ctx.taskId, ctx);
      let fraction = 0;
      try {
        const result = await client.callTool(
          { name: mcpName, arguments: args },
          {
            signal: ctx.signal,
            onprogress: ({ progress, total, message }) => {
              // Without a total the server says only that it moved: keep the fraction, pass the words on.
              if (total) fraction = progress / total;
              ctx.progress(fraction, message ?? (total ? undefined : `progress ${progress}`));
            },
            // TaskService's own hard timeout fires first (and sends notifications/cancelled).
            timeout: Math.max(1000, ctx.deadline - Date.now() + 5000),
          },
        );
        return taskResult(result);
      } catch (err) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        throw this.callFailure(err);
      } finally {
        this.running.delete(ctx.taskId);
      }
    } finally {
      release?.();
    }
  }

  /** Stops reconnecting and closes the session (a stdio server's process ends with it). */
  async close(): Promise<void> {
    this.stopping.abort();
    this.state = { kind: 'closed' };
    await this.client?.close().catch(() => undefined);
    await this.loop;
  }

  private callFailure(err: unknown): Error {
    if (err instanceof McpToolError) return err;
    const sdk = loaded;
    // An error answer from the server (unknown tool, invalid params): the call failed, the session is fine.
    if (sdk && err instanceof sdk.ProtocolError) {
      return new Error(`MCP server "${this.config.name}" answered error ${err.code}: ${err.message}`);
    }
    // Anything else is the transport: the process exited, the HTTP server went away or stopped answering.
    const why = this.lossWhy ?? (err as Error).message;
    void this.lose(why);
    return new ToolFailure(
      FailureReason.WorkerLost,
      `MCP server "${this.config.name}" was lost during the call: ${why}`,
    );
  }

  private async keepConnected(firstAttempt: () => void): Promise<void> {
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      const started = Date.now();
      try {
        const { ended } = await this.connect();
        firstAttempt();
        await ended;
        if (Date.now() - started >= STABLE_SESSION_MS) attempt = 0;
      } catch (err) {
        firstAttempt();
        if (this.stopping.signal.aborted) return;
        this.markDown(`cannot connect: ${(err as Error).message}`);
      }
      if (this.stopping.signal.aborted) return;
      const waitMs = jitteredBackoffMs(this.options.backoffMs.initialMs, this.options.backoffMs.maxMs, attempt + 1);
      this.logger.info({ attempt, waitMs: Math.round(waitMs) }, 'MCP server: reconnecting');
      await pause(waitMs, this.stopping.signal);
    }
  }

  /**
   * One session: connected and listed when this resolves, with a promise of its end (in an object:
   * an async function returning a bare promise would wait for it).
   */
  private async connect(): Promise<{ ended: Promise<void> }> {
    const sdk = await loadSdk();
    this.state = { kind: 'connecting' };
    this.lossWhy = undefined;
    const client = new sdk.Client(
      { name: 'taskservice', version: this.options.version },
      {
        // Form elicitation becomes the task's question (input-required); sampling and roots are declined.
        capabilities: { elicitation: { form: {} } },
        listChanged: { tools: { onChanged: (error, tools) => this.toolsChanged(error, tools) } },
      },
    );
    // Sampling, elicitation, roots: TaskService has no model or person to ask (yet); say so plainly.
    client.fallbackRequestHandler = async (request) => {
      this.logger.warn({ method: request.method, taskIds: [...this.running.keys()] }, 'MCP server request declined');
      throw new sdk.ProtocolError(sdk.ProtocolErrorCode.MethodNotFound, declined(request.method));
    };
    client.setNotificationHandler('notifications/message', ({ params }) => this.serverLog(params));
    client.setRequestHandler('elicitation/create', (request) => this.elicit(request.params));
    const ended = new Promise<void>((resolve) => {
      client.onclose = () => {
        this.client = undefined;
        this.stopPinging();
        // A failed connect is marked down by keepConnected(), with the reason.
        if (this.state.kind === 'connected') this.markDown(this.lossWhy ?? 'the connection closed');
        resolve();
      };
    });
    client.onerror = (err) => this.logger.debug({ err: err.message }, 'MCP transport error');
    this.client = client;
    try {
      const transport = this.transport(sdk);
      await client.connect(transport, { timeout: this.options.timeoutMs });
      this.childPid = 'pid' in transport ? (transport.pid ?? undefined) : undefined;
      this.listed = await this.listTools(client);
    } catch (err) {
      this.client = undefined;
      await client.close().catch(() => undefined);
      throw err;
    }
    if (this.stopping.signal.aborted) {
      await client.close().catch(() => undefined);
      return { ended };
    }
    this.state = { kind: 'connected' };
    this.logger.info({ tools: this.listed.length }, 'MCP server connected');
    this.startPinging(client);
    this.onChange();
    return { ended };
  }

  private transport(sdk: Sdk) {
    const c = this.config;
    if (c.transport === 'http') {
      return new sdk.StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers } });
    }
    const transport = new sdk.StdioClientTransport({
      command: c.command,
      args: c.args,
      env: c.env,
      ...(c.cwd && { cwd: c.cwd }),
      stderr: 'pipe',
    });
    const stderr = new StderrLog(this.logger);
    transport.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));
    transport.stderr?.on('end', () => stderr.flush());
    return transport;
  }

  private async listTools(client: Client): Promise<McpToolDefinition[]> {
    const { tools } = await client.listTools(undefined, { timeout: this.options.timeoutMs });
    return tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema }));
  }

  private toolsChanged(error: Error | null, tools: McpTool[] | null): void {
    if (error || !tools) {
      this.logger.warn({ err: error?.message }, 'MCP server: tools/list after list_changed failed');
      return;
    }
    this.listed = tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema }));
    this.logger.info({ tools: tools.length }, 'MCP server: tool list changed');
    this.onChange();
  }

  private startPinging(client: Client): void {
    let inFlight = false;
    this.pingTimer = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      client
        .ping({ timeout: this.options.timeoutMs })
        .catch(() => this.lose(`no answer to a ping within ${this.options.timeoutMs / 1000} s`))
        .finally(() => (inFlight = false));
    }, this.options.pingMs);
  }

  private stopPinging(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /** Ends the session; its calls fail WORKER_LOST and keepConnected() starts another. */
  private async lose(why: string): Promise<void> {
    const client = this.client;
    if (!client || this.lossWhy) return;
    this.lossWhy = why;
    this.logger.warn({ why }, 'MCP server lost');
    await client.close().catch(() => undefined);
  }

  private markDown(why: string): void {
    const wasUp = this.state.kind === 'connected';
    this.state = { kind: 'down', why };
    if (wasUp) this.onChange();
    this.logger.warn({ why }, 'MCP server unavailable');
  }

  /**
   * A form elicitation during a call is the task's question: the task waits in
   * INPUT_REQUIRED until someone answers through ProvideInput, and the answer
   * goes back as `accept`. Declined when it cannot be tied to one call (the
   * protocol does not say which call a request belongs to, so with several
   * calls in flight nobody could answer the right one), for URL mode (a person
   * must open a link TaskService cannot show), or when the task ends first.
   */
  private async elicit(params: {
    mode?: string;
    message: string;
    requestedSchema?: unknown;
  }): Promise<{ action: 'accept' | 'decline' | 'cancel'; content?: ElicitContent }> {
    const calls = [...this.running.values()];
    if (params.mode === 'url' || calls.length !== 1) {
      this.logger.warn(
        { taskIds: [...this.running.keys()], mode: params.mode ?? 'form' },
        'MCP elicitation declined: URL mode, or not one call in flight to ask for',
      );
      return { action: 'decline' };
    }
    try {
      const schema = (params.requestedSchema as object | undefined) ?? { type: 'object' };
      const content = await calls[0]!.requestInput({ message: params.message, schema });
      // Checked against the server's requestedSchema, whose properties are primitives (or string lists).
      return { action: 'accept', content: content as ElicitContent };
    } catch {
      return { action: 'cancel' };
    }
  }

  private serverLog(params: { level: string; logger?: string; data?: unknown }): void {
    const level = LOG_LEVELS[params.level] ?? 'info';
    const taskIds = [...this.running.keys()];
    this.logger[level](
      { ...(taskIds.length === 1 ? { taskId: taskIds[0] } : { taskIds }), mcpLogger: params.logger, data: params.data },
      'MCP server log',
    );
  }
}

/** MCP's syslog levels onto the logger's. */
const LOG_LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error'> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'error',
  alert: 'error',
  emergency: 'error',
};

function declined(method: string): string {
  if (method === 'elicitation/create') {
    return (
      'TaskService cannot put a question to a person yet ' +
      '(elicitation arrives with the input-required state); declined'
    );
  }
  if (method === 'sampling/createMessage') {
    return 'TaskService does not offer sampling: it has no model of its own to call; declined';
  }
  return `TaskService does not answer ${method} as an MCP client; declined`;
}

let loaded: Sdk | undefined;

/** The SDK, loaded on first use: a server without MCP tool sources does not pay for it at start. */
async function loadSdk(): Promise<Sdk> {
  if (!loaded) {
    const [sdk, stdio] = await Promise.all([
      import('@modelcontextprotocol/client'),
      import('@modelcontextprotocol/client/stdio'),
    ]);
    loaded = { ...sdk, StdioClientTransport: stdio.StdioClientTransport };
  }
  return loaded;
}
