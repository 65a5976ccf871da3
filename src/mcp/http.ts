import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostHeaderValidation, originValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, type McpRequestContext } from '@modelcontextprotocol/server';
import type { TokenBook } from '../auth/tokens.js';
import { ANYONE, type Caller } from '../core/caller.js';
import type { Logger } from '../core/logger.js';
import type { TaskManager } from '../core/manager.js';
import { CoreBackend, type McpIdentity } from './core-backend.js';
import { isTaskListen, json, serveTaskListen } from './listen.js';
import { buildMcpServer } from './server.js';
import { readBodyAtMost } from '../http-body.js';

/** The header that names the user an MCP request acts for when its token does not (or with no tokens). */
export const USER_HEADER = 'x-taskservice-user';
export const MCP_PATH = '/mcp';
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export interface McpHttpOptions {
  host: string;
  port: number;
  /** Origin hostnames a browser-borne request may come from; other origins get 403 (DNS rebinding). */
  allowedOrigins: string[];
  /** Largest request body accepted (bytes); larger ones get 413. */
  maxBodyBytes: number;
  /** Finished tasks are kept this long: the tasks' ttlMs. */
  retentionMs: number;
  version: string;
  tls?: { cert: Buffer; key: Buffer };
}

/**
 * The MCP front door of a replica: Streamable HTTP at `/mcp`, stateless
 * (a fresh MCP server per request, tasks in the store), so any replica
 * answers any request about any task. It checks the Origin (and, bound to
 * loopback, the Host) header, authenticates with the same bearer tokens as
 * gRPC, and serves task subscriptions itself (the SDK's router drops them).
 */
export class McpHttpServer {
  private readonly server: Server;
  private readonly mcp: ReturnType<typeof createMcpHandler>;
  private readonly nodeHandler: ReturnType<typeof toNodeHandler>;
  private readonly checkOrigin: ReturnType<typeof originValidation>;
  private readonly checkHost?: ReturnType<typeof hostHeaderValidation>;
  /** Ends the task subscriptions that are open (close()). */
  private readonly stop = new AbortController();
  private readonly streams = new Set<Promise<void>>();
  private closing?: Promise<void>;
  private listenerClosed?: Promise<void>;

  constructor(
    private readonly manager: TaskManager,
    private readonly tokens: TokenBook,
    private readonly options: McpHttpOptions,
    private readonly logger: Logger,
  ) {
    const serverOptions = { retentionMs: options.retentionMs, version: options.version, logger };
    this.mcp = createMcpHandler((rc: McpRequestContext) => buildMcpServer(rc.era, this.backendFor(rc), serverOptions), {
      maxRequestBodySize: options.maxBodyBytes,
      onerror: (err) => logger.debug({ err: err.message }, 'mcp'),
    });
    this.nodeHandler = toNodeHandler(this.mcp, { maxRequestBodySize: options.maxBodyBytes });
    this.checkOrigin = originValidation(options.allowedOrigins);
    // Bound to loopback, only a local name may reach it: a rebound DNS name is refused.
    if (LOOPBACK_HOSTS.includes(options.host) || options.host.startsWith('127.')) {
      this.checkHost = hostHeaderValidation(LOOPBACK_HOSTS);
    }
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = options.tls
      ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handle)
      : createHttpServer(handle);
  }

  /** Listens; resolves with the port (the real one when 0 was asked for). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Task subscriptions open now (tests check none is left behind). */
  get openSubscriptions(): number {
    return this.streams.size;
  }

  /**
   * Takes no new connections (shutdown's first step); requests under way go
   * on, and open subscriptions still see their tasks end (SHUTDOWN).
   */
  stopAccepting(): void {
    this.listenerClosed ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
  }

  /** Stops taking requests, ends open subscriptions and in-flight exchanges. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopAccepting();
      this.stop.abort();
      await this.mcp.close();
      await Promise.allSettled([...this.streams]);
      this.server.closeAllConnections();
      await this.listenerClosed;
    })();
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== MCP_PATH) {
        json(res, 404, { error: `not found; the MCP endpoint is ${MCP_PATH}` });
        return;
      }
      if (this.checkHost && !this.checkHost(req, res)) return;
      if (!this.checkOrigin(req, res)) return;
      const identity = this.identify(req, res);
      if (!identity) return;
      (req as IncomingMessage & { auth?: unknown }).auth = {
        token: '',
        clientId: identity.caller.name,
        scopes: [],
        extra: { identity },
      };
      if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/json')) {
        await this.nodeHandler(req, res);
        return;
      }
      const body = await this.readJson(req, res);
      if (body === undefined) return;
      if (isTaskListen(body)) {
        const stream = serveTaskListen(body, res, new CoreBackend(this.manager, identity), {
          retentionMs: this.options.retentionMs,
          stop: this.stop.signal,
          logger: this.logger,
        });
        this.streams.add(stream);
        await stream.finally(() => this.streams.delete(stream));
        return;
      }
      await this.nodeHandler(req, res, body);
    } catch (err) {
      this.logger.error({ err }, 'MCP request failed');
      if (!res.headersSent)
        json(res, 500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'internal error' } });
      else res.end();
    }
  }

  /** The caller and user of a request, or undefined when it was refused (401 written). */
  private identify(req: IncomingMessage, res: ServerResponse): McpIdentity | undefined {
    let caller: Caller = ANYONE;
    if (this.tokens.enabled) {
      const who = this.tokens.identify(req.headers.authorization, 'header');
      if ('problem' in who) {
        json(
          res,
          401,
          { jsonrpc: '2.0', id: null, error: { code: -32001, message: who.problem } },
          {
            'www-authenticate': 'Bearer realm="taskservice"',
          },
        );
        return undefined;
      }
      caller = who;
    }
    const named = req.headers[USER_HEADER];
    const header = typeof named === 'string' ? named.trim() : '';
    // A token for one user acts for that user; otherwise the header says, as user_id does on gRPC.
    const only = caller.users?.size === 1 ? [...caller.users][0]! : '';
    return { caller, userId: header || only };
  }

  /** The request's JSON body, bounded; undefined when it was refused (the answer written). */
  private async readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const raw = await readBodyAtMost(req, this.options.maxBodyBytes);
    if (!raw) {
      json(
        res,
        413,
        {
          jsonrpc: '2.0',
          id: null,
          error: {
            code: -32000,
            message: `Payload Too Large: the body must not exceed ${this.options.maxBodyBytes} bytes`,
          },
        },
        { connection: 'close' },
      );
      req.destroy();
      return undefined;
    }
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: Invalid JSON' } });
      return undefined;
    }
  }

  private backendFor(rc: McpRequestContext): CoreBackend {
    const identity = (rc.authInfo?.extra as { identity?: McpIdentity } | undefined)?.identity;
    // handle() identifies every request before the SDK sees it; be strict anyway.
    if (!identity) throw new Error('an MCP request reached its server without an identity');
    return new CoreBackend(this.manager, identity);
  }
}
