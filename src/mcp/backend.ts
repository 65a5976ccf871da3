/**
 * What the MCP front door asks of TaskService, for one caller. Two
 * implementations: in process over the TaskManager (core-backend.ts, the
 * `/mcp` endpoint of every replica) and over gRPC through the TypeScript
 * client (client-backend.ts, `taskservice mcp`, the stdio server). The MCP
 * handlers know only this port, so both speak exactly the same MCP.
 */

import type { ErrorKind } from '../core/errors.js';

/** A task as MCP needs it, whichever side it came from. Times are epoch ms. */
export interface McpTask {
  taskId: string;
  toolName: string;
  status: 'running' | 'input_required' | 'completed' | 'failed';
  failureReason?: 'tool_error' | 'cancelled' | 'hard_timeout' | 'worker_lost' | 'shutdown' | 'input_timeout';
  /** While input_required: the tool's question. */
  inputRequest?: { id: string; message: string; schemaJson: string };
  result?: string;
  error?: string;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  progress?: { fraction: number; message: string };
}

/** Completed or failed: nothing more will change. */
export function hasEnded(task: McpTask): boolean {
  return task.status === 'completed' || task.status === 'failed';
}

/** A tool of the catalog. */
export interface McpTool {
  name: string;
  description: string;
  /** The JSON Schema of its arguments object. */
  parameters: object;
  noBackground: boolean;
  /** check_task, cancel_task, redirect_task: what a model without task support follows a task with. */
  meta: boolean;
}

export interface McpExecution {
  backgrounded: boolean;
  /** What the model reads: the result, "Error: ...", or the envelope of a backgrounded call. */
  text: string;
  task: McpTask;
}

export interface McpExecuteCall {
  tool: string;
  /** The arguments object as JSON text. */
  argumentsJson: string;
  /** The budget asked for (seconds); undefined: the tool's or server's default. */
  budgetSeconds?: number;
  /** An idempotency key: the task is then recorded from the start (a 2025 client asked for a task). */
  requestId?: string;
  /** Fires when the MCP request is abandoned. */
  signal: AbortSignal;
  /** Told of the tool's progress while the call waits inline. */
  onProgress?: (progress: { fraction: number; message: string }) => void;
}

export interface TaskBackend {
  tools(): Promise<McpTool[]>;
  execute(call: McpExecuteCall): Promise<McpExecution>;
  /** Throws McpBackendError('not_found') for a missing task and for one this caller may not see. */
  get(taskId: string): Promise<McpTask>;
  /** Cancels a running task; a finished one throws McpBackendError('precondition'), a cancelled one is returned. */
  cancel(taskId: string): Promise<McpTask>;
  /** Answers the task's open question; a stale id or a task not waiting throws McpBackendError('precondition'). */
  provideInput(taskId: string, inputRequestId: string, responseJson: string): Promise<McpTask>;
  /** This caller's tasks, newest first. */
  list(cursor?: string): Promise<{ tasks: McpTask[]; nextCursor?: string }>;
  /** The task now, then every change, until it ends (its terminal state last) or `signal` fires. */
  watch(taskId: string, signal: AbortSignal): AsyncIterable<McpTask>;
}

/** Why a backend call failed, in the few kinds the MCP errors distinguish. */
export type BackendErrorKind = ErrorKind | 'internal';

export class McpBackendError extends Error {
  constructor(
    readonly kind: BackendErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'McpBackendError';
  }
}
