import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { TokenBook } from '../auth/tokens.js';
import { ANYONE, type Caller } from '../core/caller.js';
import { InvalidArgument } from '../core/errors.js';
import { parseJsonObject } from '../core/json.js';
import type { Logger } from '../core/logger.js';
import type { TaskRecord } from '../core/task.js';
import { readBodyAtMost } from '../http-body.js';
import {
  answerInput,
  type ApiAnswer,
  type ApiContext,
  apiError,
  cancelTask,
  getOutput,
  getTask,
  listReplicas,
  listTasks,
  listTools,
  me,
  stats,
  taskView,
} from './api.js';

export const CONSOLE_PATH = '/console/';
/** A comment line this often keeps proxies from closing a quiet feed. */
const KEEPALIVE_MS = 15_000;
/** How long a feed gathers changes before it writes them. */
const FEED_BATCH_MS = 100;
/** The feed's `resync` event: changes may have been missed, the console reads its page again. */
const RESYNC_EVENT = 'event: resync\ndata: {}\n\n';
/** The largest action body accepted (an answer to a question is bounded by the manager again). */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Scripts and styles only from the console itself, nothing inline, no frames, no forms posting elsewhere: task
 * texts are rendered as text, and this makes any slip there inert.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** The page and its files (src/console/console-assets/, copied to dist/console-assets/ by the build). */
const ASSETS: Record<string, { file: string; type: string }> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  'console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

export interface ConsoleOptions {
  /** Without tokens, serve clients that are not on loopback too (TASKSERVICE_CONSOLE=open). */
  open: boolean;
}

/**
 * The operators' console at /console/ on the HTTP listener: the page, its files, its JSON API and the live feed.
 * With tokens configured every API request needs one (a bearer header, never a cookie) and sees what the token's
 * users may; without tokens it answers only loopback clients unless told to be open. Actions are POSTs with a
 * JSON body, which a page of another origin cannot send without a CORS preflight that is never granted.
 */
export class OperatorConsole {
  private readonly assets = new Map<string, Buffer>();
  /** Each open feed's response, and what ends it: its subscription, timers and place here. */
  private readonly feeds = new Map<ServerResponse, () => void>();
  private readonly eventTexts = new WeakMap<TaskRecord, string>();

  constructor(
    private readonly context: Omit<ApiContext, 'caller'>,
    private readonly tokens: TokenBook,
    private readonly options: ConsoleOptions,
    private readonly logger: Logger,
  ) {}

  /** A task's feed event, made once per change however many consoles follow (they are all told the same object). */
  private eventText(task: TaskRecord): string {
    let text = this.eventTexts.get(task);
    if (text === undefined) {
      text = `event: task\ndata: ${JSON.stringify(taskView(task, this.context.showArguments))}\n\n`;
      this.eventTexts.set(task, text);
    }
    return text;
  }

  /** Live feeds open now (leak checks). */
  get openFeeds(): number {
    return this.feeds.size;
  }

  /** Answers a request under /console; false when the path is not the console's. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path === '/console') {
      res.writeHead(308, { location: CONSOLE_PATH, ...SECURITY_HEADERS }).end();
      return true;
    }
    if (!path.startsWith(CONSOLE_PATH)) return false;
    void this.serve(req, res, path.slice(CONSOLE_PATH.length)).catch((err: unknown) => {
      const known = apiError(err);
      if (!known) this.logger.error({ err }, 'console request failed');
      // An answer before the body was read to its end (too large) ends the connection: the client cannot reuse it.
      const unread: Record<string, string> = req.complete ? {} : { connection: 'close' };
      if (!res.headersSent) sendJson(res, known ?? { status: 500, body: { error: 'internal error' } }, unread);
      else res.end();
    });
    return true;
  }

  /** Ends every open feed (shutdown), letting go of its subscription now, before the store it follows closes. */
  close(): void {
    for (const [res, end] of [...this.feeds]) {
      end();
      res.end();
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const started = performance.now();
    const refusal = this.refuseOutsider(req);
    if (refusal) return sendJson(res, { status: 403, body: { error: refusal } });
    if (!rest.startsWith('api/')) return this.sendAsset(req, res, rest);
    const caller = this.identify(req, res);
    if (!caller) return;
    if (req.method === 'GET' && rest === 'api/events') return this.serveFeed(req, res, caller);
    const answer = await this.answer(req, { ...this.context, caller }, rest.slice('api/'.length));
    // The server's own time for the answer (Server-Timing): what the bench holds to its targets.
    sendJson(res, answer, { 'server-timing': `app;dur=${(performance.now() - started).toFixed(2)}` });
  }

  /** An API call's answer (the feed aside). */
  private async answer(req: IncomingMessage, ctx: ApiContext, route: string): Promise<ApiAnswer> {
    const query = new URL(req.url ?? '/', 'http://console').searchParams;
    const task = /^tasks\/([^/]+)(?:\/(cancel|input|output))?$/.exec(route);
    const taskId = task && taskIdOf(task[1]!);
    if (req.method === 'GET') {
      if (route === 'tasks') return listTasks(ctx, query);
      if (taskId && !task[2]) return getTask(ctx, taskId, query);
      if (taskId && task[2] === 'output') return getOutput(ctx, taskId, query);
      if (route === 'tools') return listTools(ctx);
      if (route === 'replicas') return listReplicas(ctx);
      if (route === 'stats') return stats(ctx);
      if (route === 'me') return me(ctx);
    } else if (req.method === 'POST' && taskId && (task[2] === 'cancel' || task[2] === 'input')) {
      const body = await readJsonBody(req);
      return task[2] === 'cancel' ? cancelTask(ctx, taskId, body) : answerInput(ctx, taskId, body);
    }
    return { status: 404, body: { error: `no such console API: ${req.method} /console/api/${route}` } };
  }

  /** Why a client may not use the console without tokens, or undefined when it may. */
  private refuseOutsider(req: IncomingMessage): string | undefined {
    if (this.tokens.enabled || this.options.open) return undefined;
    if (!isLoopback(req.socket.remoteAddress)) {
      return (
        'without tokens the console answers only loopback clients: configure TASKSERVICE_AUTH_TOKENS, ' +
        'or set TASKSERVICE_CONSOLE=open'
      );
    }
    // A page on a rebound DNS name reaches loopback with its own Host: only local names may.
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!['localhost', '127.0.0.1', '[::1]'].includes(host))
      return `the console on loopback answers only local host names`;
    return undefined;
  }

  /** The caller of an API request, or undefined when it was refused (401 written). */
  private identify(req: IncomingMessage, res: ServerResponse): Caller | undefined {
    if (!this.tokens.enabled) return ANYONE;
    const who = this.tokens.identify(req.headers.authorization, 'header');
    if ('problem' in who) {
      sendJson(
        res,
        { status: 401, body: { error: who.problem } },
        { 'www-authenticate': 'Bearer realm="taskservice"' },
      );
      return undefined;
    }
    return who;
  }

  private sendAsset(req: IncomingMessage, res: ServerResponse, name: string): void {
    const asset = ASSETS[name];
    if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS }).end('not found\n');
      return;
    }
    let body = this.assets.get(name);
    if (!body) {
      body = readFileSync(fileURLToPath(new URL(`./console-assets/${asset.file}`, import.meta.url)));
      this.assets.set(name, body);
    }
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /**
   * Server-sent events: `task` with a task's view whenever a task the caller may see changes or is found new;
   * `resync` when changes may have been missed (the store was unreachable).
   */
  private serveFeed(req: IncomingMessage, res: ServerResponse, caller: Caller): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      ...SECURITY_HEADERS,
    });
    res.write(': following\n\n');
    // Changes wait up to FEED_BATCH_MS and go in one write, the newest state of each task only: a person reads
    // the page, and a write per change per console was most of what a hundred consoles cost the server.
    const pending = new Map<string, string>();
    let resync = false;
    let flush: NodeJS.Timeout | undefined;
    const send = () => {
      flush = undefined;
      res.write((resync ? RESYNC_EVENT : '') + [...pending.values()].join(''));
      pending.clear();
      resync = false;
    };
    const unfollow = this.context.manager.follow(
      caller,
      (task) => {
        pending.set(task.taskId, this.eventText(task));
        flush ??= setTimeout(send, FEED_BATCH_MS);
      },
      () => {
        // The console reads its page again, which supersedes whatever changes wait here.
        pending.clear();
        resync = true;
        flush ??= setTimeout(send, FEED_BATCH_MS);
      },
    );
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    const end = () => {
      unfollow();
      clearInterval(keepalive);
      clearTimeout(flush);
      this.feeds.delete(res);
    };
    this.feeds.set(res, end);
    req.on('close', end);
    res.on('close', end);
  }
}

/** A task id from the path, percent-decoded; a malformed escape is the caller's mistake, not a server error. */
function taskIdOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidArgument('task_id', `"${segment}" in the path is not valid percent-encoding`);
  }
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

function sendJson(res: ServerResponse, { status, body }: ApiAnswer, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...SECURITY_HEADERS,
      ...headers,
    })
    .end(JSON.stringify(body));
}

/** An action's body: a JSON object sent as application/json (what a cross-origin form or simple request cannot). */
async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new InvalidArgument('content-type', 'an action must be sent as application/json');
  }
  const raw = await readBodyAtMost(req, MAX_BODY_BYTES);
  if (!raw) throw new InvalidArgument('body', `must not exceed ${MAX_BODY_BYTES} bytes`);
  const parsed = parseJsonObject(raw.toString('utf8') || '{}');
  if (!parsed.ok) throw new InvalidArgument('body', parsed.problem);
  return parsed.value;
}
