import type { Caller } from '../core/caller.js';
import { type ErrorKind, errorKind, InvalidArgument } from '../core/errors.js';
import type { TaskManager } from '../core/manager.js';
import type { ReplicaDirectory } from '../core/replicas.js';
import { type TaskRecord, TaskStatus } from '../core/task.js';
import type { Tool } from '../core/tool.js';

/*
 * The console's JSON API: what the pages read and do, each a call of the TaskManager with the console user's
 * caller, so a token limited to some users sees and acts only for them, as on gRPC.
 */

/** An API answer: the HTTP status and the JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface ApiContext {
  manager: TaskManager;
  caller: Caller;
  /** This replica: its id, and what runs here. */
  self: { instanceId: string; running(): number; leaseSeconds: number };
  replicas?: ReplicaDirectory;
  /** Task defaults, shown on the tools page for tools without their own. */
  defaults: { budgetSeconds: number; hardTimeoutSeconds: number };
  /** This replica's counters since start, for the charts (the service's own metrics: Metrics.consoleStats). */
  stats(): object;
  /** Tasks' arguments may be shown (TASKSERVICE_LOG_TOOL_ARGUMENTS, the rule of the logs). */
  showArguments: boolean;
}

const STATUSES = new Set<string>(Object.values(TaskStatus));

/** GET /console/api/tasks?user=&status=&tool=&page_token=&page_size= */
export async function listTasks(ctx: ApiContext, query: URLSearchParams): Promise<ApiAnswer> {
  const status = query.get('status') ?? '';
  if (status && !STATUSES.has(status)) {
    throw new InvalidArgument('status', `must be one of ${[...STATUSES].join(', ')}, or empty for any`);
  }
  const page = await ctx.manager.list({
    userId: query.get('user') ?? '',
    caller: ctx.caller,
    ...(status && { status: status as TaskStatus }),
    toolName: query.get('tool') ?? '',
    pageSize: Number(query.get('page_size') ?? 0),
    pageToken: query.get('page_token') ?? '',
  });
  const tasks = page.tasks.map((t) => taskView(t, ctx.showArguments));
  return { status: 200, body: { tasks, nextPageToken: page.nextCursor ?? '' } };
}

/** GET /console/api/tasks/:id?user= */
export async function getTask(ctx: ApiContext, taskId: string, query: URLSearchParams): Promise<ApiAnswer> {
  const task = await ctx.manager.get(taskId, query.get('user') ?? '', ctx.caller);
  return { status: 200, body: { task: taskView(task, ctx.showArguments) } };
}

/**
 * GET /console/api/tasks/:id/output?user=&offset=N: the task's output from byte N (a bounded piece: the page asks
 * again from where it got to), and the task.
 */
export async function getOutput(ctx: ApiContext, taskId: string, query: URLSearchParams): Promise<ApiAnswer> {
  const offset = Number(query.get('offset') ?? 0);
  const { task, output } = await ctx.manager.getWithOutput(taskId, query.get('user') ?? '', offset, ctx.caller);
  // The next offset in bytes: the text is UTF-8 on the wire, and offsets count its bytes.
  const next = output.offset + Buffer.byteLength(output.text, 'utf8');
  const shown = taskView(task, ctx.showArguments);
  return { status: 200, body: { task: shown, offset: output.offset, text: output.text, next } };
}

/** POST /console/api/tasks/:id/cancel  {"user": "..."} */
export async function cancelTask(ctx: ApiContext, taskId: string, body: Record<string, unknown>): Promise<ApiAnswer> {
  const task = await ctx.manager.cancel(taskId, text(body, 'user'), ctx.caller);
  return { status: 200, body: { task: taskView(task, ctx.showArguments) } };
}

/** POST /console/api/tasks/:id/input  {"user": "...", "inputRequestId": "...", "response": {...}} */
export async function answerInput(ctx: ApiContext, taskId: string, body: Record<string, unknown>): Promise<ApiAnswer> {
  const task = await ctx.manager.provideInput({
    taskId,
    userId: text(body, 'user'),
    inputRequestId: text(body, 'inputRequestId'),
    responseJson: JSON.stringify(body.response ?? null),
    caller: ctx.caller,
  });
  return { status: 200, body: { task: taskView(task, ctx.showArguments) } };
}

/** GET /console/api/tools */
export function listTools(ctx: ApiContext): ApiAnswer {
  return { status: 200, body: { tools: ctx.manager.listTools().map((t) => toolView(t, ctx.defaults)) } };
}

/** GET /console/api/replicas: the live replicas, and which of them answered. */
export async function listReplicas(ctx: ApiContext): Promise<ApiAnswer> {
  const { self } = ctx;
  const replicas = ctx.replicas
    ? await ctx.replicas.liveReplicas()
    : [{ instanceId: self.instanceId, leaseExpiresAt: 0, running: self.running() }];
  return {
    status: 200,
    body: { self: self.instanceId, leaseSeconds: ctx.replicas ? self.leaseSeconds : 0, replicas },
  };
}

/** GET /console/api/me: who the console acts as (the token's name) and the users it may see (null: any user). */
export function me(ctx: ApiContext): ApiAnswer {
  const users = ctx.caller.users === null ? null : [...ctx.caller.users].sort();
  return { status: 200, body: { name: ctx.caller.name, users } };
}

/** GET /console/api/stats: this replica's totals since start, with the time read; the page charts differences. */
export function stats(ctx: ApiContext): ApiAnswer {
  return { status: 200, body: { at: Date.now(), instanceId: ctx.self.instanceId, ...ctx.stats() } };
}

/**
 * What the console shows of a task: the record without its internal fields (answers, the question log), and its
 * arguments only where the server may show them (a task stored while it could keeps them when it no longer can).
 */
export function taskView(task: TaskRecord, showArguments: boolean): Record<string, unknown> {
  const { inputAnswer: _answer, inputLog: _log, argumentsJson, ...shown } = task;
  return showArguments && argumentsJson !== undefined ? { ...shown, argumentsJson } : shown;
}

function toolView(tool: Tool, defaults: ApiContext['defaults']): Record<string, unknown> {
  const placement = tool.place?.();
  return {
    name: tool.name,
    description: tool.description,
    source: tool.source,
    workers: tool.workerCount?.() ?? 0,
    ...(tool.concurrency !== undefined && { concurrency: tool.concurrency }),
    noBackground: tool.noBackground,
    budgetSeconds: tool.budgetSeconds ?? defaults.budgetSeconds,
    hardTimeoutSeconds: tool.hardTimeoutSeconds ?? defaults.hardTimeoutSeconds,
    available: placement?.kind !== 'nowhere',
    unavailableReason: placement?.kind === 'nowhere' ? placement.why : '',
  };
}

function text(body: Record<string, unknown>, field: string): string {
  const value = body[field] ?? '';
  if (typeof value !== 'string') throw new InvalidArgument(field, 'must be a string');
  return value;
}

const HTTP_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unknown_tool: 400,
  not_found: 404,
  denied: 403,
  precondition: 409,
  exhausted: 429,
  unavailable: 503,
};

/** The HTTP status and message of a failed API call; undefined for errors that are not the caller's to know. */
export function apiError(err: unknown): ApiAnswer | undefined {
  const kind = errorKind(err);
  return kind && { status: HTTP_STATUS[kind], body: { error: (err as Error).message } };
}
