import { status } from '@grpc/grpc-js';
import type { Logger } from '../core/logger.js';

/** Counts finished calls (metrics implement it). */
export interface RpcObserver {
  rpcFinished(service: string, method: string, code: status, seconds: number): void;
}

export const NO_RPC_OBSERVER: RpcObserver = { rpcFinished() {} };

export interface RpcLogOptions {
  /** One info line per call; off: only failed calls are logged. */
  everyCall: boolean;
  /** Put Execute's arguments_json in its line (off by default: arguments may hold personal data). */
  toolArguments: boolean;
}

/** The status code's name, as grpcurl and the gRPC docs spell it. */
export const CODE_NAMES: readonly string[] = Object.entries(status)
  .filter(([, value]) => typeof value === 'number')
  .sort(([, a], [, b]) => (a as number) - (b as number))
  .map(([name]) => name);

/** Fields of requests and responses worth a place in the call's log line. */
interface Described {
  taskId?: string;
  toolName?: string;
  requestId?: string;
  argumentsJson?: string;
  task?: { taskId?: string };
}

/**
 * The record of every finished call: one structured log line (method, code,
 * duration, task id) and the metrics. One place, so the two never disagree.
 */
export class RpcRecorder {
  constructor(
    private readonly service: string,
    private readonly logger: Logger,
    private readonly options: RpcLogOptions,
    private readonly observer: RpcObserver = NO_RPC_OBSERVER,
  ) {}

  finished(
    method: string,
    code: status,
    started: bigint,
    request: unknown,
    response?: unknown,
    details?: string,
  ): void {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.observer.rpcFinished(this.service, method, code, ms / 1000);
    if (code === status.OK && !this.options.everyCall) return;
    const req = (request ?? {}) as Described;
    const res = (response ?? {}) as Described;
    const line: Record<string, unknown> = { method, code: CODE_NAMES[code] ?? code, ms: Math.round(ms * 1000) / 1000 };
    // Inline answers carry an empty id: nothing was stored.
    const taskId = req.taskId || res.task?.taskId;
    if (taskId) line.taskId = taskId;
    if (req.toolName) line.tool = req.toolName;
    if (req.requestId) line.requestId = req.requestId;
    if (this.options.toolArguments && req.argumentsJson !== undefined) line.arguments = req.argumentsJson;
    if (details) line.details = details;
    this.logger.info(line, 'rpc');
  }
}
