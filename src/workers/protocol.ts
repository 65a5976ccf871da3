import type { FailureReason, Origin } from '../core/task.js';
import type { WorkerToolSpec } from '../core/worker-tools.js';

/**
 * The worker conversation in plain types. src/grpc/worker-service.ts maps
 * the proto messages of ToolWorkerService.Connect to and from these, so the
 * hub can be driven (and tested) without gRPC.
 */

/** A tool as a worker declares it: the core's type (src/core/worker-tools.ts), since replicas share it. */
export type { WorkerToolSpec };

export interface Registration {
  workerName: string;
  tools: WorkerToolSpec[];
  /** Invocations at once on this worker across its tools; 0: no limit. */
  maxConcurrency: number;
}

/** Server -> worker. */
export type ToWorker =
  | {
      kind: 'invocation';
      taskId: string;
      toolName: string;
      argumentsJson: string;
      origin: Origin;
      hardTimeoutSeconds: number;
      /** W3C trace context of the Execute call; empty when it sent none. */
      traceparent: string;
      tracestate: string;
    }
  | { kind: 'cancellation'; taskId: string; reason: FailureReason; message: string }
  | { kind: 'ping'; sequence: number }
  /** The answer to the invocation's question (`responseJson`), or why it could not be asked (`error`). */
  | { kind: 'input'; taskId: string; responseJson: string; error?: string };

/** Worker -> server, after its registration. */
export type FromWorker =
  | { kind: 'progress'; taskId: string; fraction: number; message: string }
  | { kind: 'output'; taskId: string; text: string }
  | { kind: 'result'; taskId: string; result: string }
  | { kind: 'error'; taskId: string; error: string }
  | { kind: 'pong'; sequence: number }
  | { kind: 'input_request'; taskId: string; message: string; schemaJson: string };

/** The transport side of one connected worker (a gRPC stream). */
export interface WorkerLink {
  send(message: ToWorker): void;
  /** Ends the conversation; with an error when the worker is turned away or lost. */
  close(error?: Error): void;
}

export interface Keepalive {
  /** The server pings this often. */
  pingMs: number;
  /** A worker silent this long is lost. */
  timeoutMs: number;
}
