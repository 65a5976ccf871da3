import type { McpExecution, McpTask } from './backend.js';

/**
 * How a TaskService task reads in MCP, in the two task dialects:
 * - the tasks extension `io.modelcontextprotocol/tasks` of protocol 2026-07-28 (SEP-2663):
 *   `ttlMs`/`pollIntervalMs`, a DetailedTask with the result or error inside, a tool that failed
 *   is `completed` with `isError`, `failed` is kept for failures of TaskService itself;
 * - the experimental tasks of protocol 2025-11-25: `ttl`/`pollInterval`, a flat Task, a tool
 *   that failed is `failed`, and `tasks/result` gives the result.
 */

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
export const RELATED_TASK = 'io.modelcontextprotocol/related-task';
/** How often a client should poll a task (ms), in both dialects. */
export const POLL_INTERVAL_MS = 1000;

/** Status names of both dialects. */
export type McpTaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** JSON-RPC error code for a failure of TaskService rather than of the tool (2026 `failed` tasks). */
const INTERNAL_ERROR = -32603;

/** Failures that are not the tool's own doing: the worker or the replica running it went away. */
function failedOutsideTheTool(task: McpTask): boolean {
  return task.failureReason === 'worker_lost' || task.failureReason === 'shutdown';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * How long the task is kept, counted from its creation (ms): unknown while it runs (a running
 * task is never expired; its hard limit ends it), then until its retention after it ended.
 */
function ttlMs(task: McpTask, retentionMs: number): number | null {
  return task.finishedAt === undefined ? null : task.finishedAt + retentionMs - task.createdAt;
}

function statusMessage(task: McpTask): string | undefined {
  if (task.status === 'input_required') return `waiting for input: ${task.inputRequest?.message ?? ''}`;
  if (task.status === 'running') {
    return (
      task.progress &&
      `${Math.round(task.progress.fraction * 100)}%${task.progress.message ? `: ${task.progress.message}` : ''}`
    );
  }
  return task.status === 'failed' ? `${task.failureReason ?? 'failed'}: ${task.error ?? ''}` : undefined;
}

/** The CallToolResult of a finished task, or of an inline answer (2025 form: no resultType). */
export function callToolResult(task: McpTask, text: string): Record<string, unknown> {
  const result: Record<string, unknown> = { content: [{ type: 'text', text }] };
  if (task.status === 'failed') result.isError = true;
  else {
    result.isError = false;
    const structured = jsonObject(task.result);
    if (structured) result.structuredContent = structured;
  }
  return result;
}

/** The text a model reads of a finished task, as Execute's inline answer gives it. */
export function outcomeText(task: McpTask): string {
  return task.status === 'completed' ? (task.result ?? '') : `Error: ${task.error ?? task.failureReason ?? 'failed'}`;
}

/** The answer of tools/call when no task is handed back: the outcome, or the envelope the model follows. */
export function inlineResult(execution: McpExecution): Record<string, unknown> {
  if (execution.backgrounded) return { content: [{ type: 'text', text: execution.text }], isError: false };
  return callToolResult(execution.task, execution.text);
}

function jsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (!text || text[0] !== '{') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// ----- protocol 2026-07-28, tasks extension -----

function status2026(task: McpTask): McpTaskStatus {
  if (task.status === 'running') return 'working';
  if (task.status === 'input_required') return 'input_required';
  if (task.failureReason === 'cancelled') return 'cancelled';
  return task.status === 'failed' && failedOutsideTheTool(task) ? 'failed' : 'completed';
}

/** The Task fields (CreateTaskResult and DetailedTask share them). */
export function task2026(task: McpTask, retentionMs: number): Record<string, unknown> {
  const message = statusMessage(task);
  return {
    taskId: task.taskId,
    status: status2026(task),
    ...(message && { statusMessage: message }),
    createdAt: iso(task.createdAt),
    lastUpdatedAt: iso(task.updatedAt),
    ttlMs: ttlMs(task, retentionMs),
    pollIntervalMs: POLL_INTERVAL_MS,
  };
}

/** tasks/get and notifications/tasks: the task, with its result (completed) or error (failed). */
export function detailedTask2026(task: McpTask, retentionMs: number): Record<string, unknown> {
  const fields = task2026(task, retentionMs);
  if (fields.status === 'completed') {
    // The stored result is itself a result of this protocol revision, so it says so.
    return { ...fields, result: { resultType: 'complete', ...callToolResult(task, outcomeText(task)) } };
  }
  if (fields.status === 'failed') return { ...fields, error: { code: INTERNAL_ERROR, message: outcomeText(task) } };
  if (fields.status === 'input_required' && task.inputRequest) {
    return { ...fields, inputRequests: inputRequests(task.inputRequest) };
  }
  return fields;
}

/**
 * A TaskService question as the extension's inputRequests: one form
 * elicitation keyed by the question's id (unique within the task's life, as
 * the extension requires of keys).
 */
function inputRequests(question: NonNullable<McpTask['inputRequest']>): Record<string, unknown> {
  let requestedSchema: unknown;
  try {
    requestedSchema = JSON.parse(question.schemaJson);
  } catch {
    requestedSchema = { type: 'object' };
  }
  return {
    [question.id]: {
      method: 'elicitation/create',
      params: { mode: 'form', message: question.message, requestedSchema },
    },
  };
}

// ----- protocol 2025-11-25, experimental tasks -----

function status2025(task: McpTask): McpTaskStatus {
  if (task.status === 'running') return 'working';
  if (task.status === 'input_required') return 'input_required';
  if (task.failureReason === 'cancelled') return 'cancelled';
  return task.status;
}

export function task2025(task: McpTask, retentionMs: number): Record<string, unknown> {
  const message = statusMessage(task);
  return {
    taskId: task.taskId,
    status: status2025(task),
    ...(message && { statusMessage: message }),
    createdAt: iso(task.createdAt),
    lastUpdatedAt: iso(task.updatedAt),
    ttl: ttlMs(task, retentionMs),
    pollInterval: POLL_INTERVAL_MS,
  };
}

/** Whether tasks/result answers with a JSON-RPC error rather than a CallToolResult (2025). */
export function resultIsAnError(task: McpTask): boolean {
  return task.status === 'failed' && failedOutsideTheTool(task);
}
