import type { Origin } from './task.js';
import type { TraceContext } from './trace.js';

/**
 * A task recorded by one replica for another to run, because the workers
 * hosting its tool are connected there. The receiving replica owns the task
 * from its creation: its lease covers it, so if it dies the task fails
 * WORKER_LOST like any other of its tasks.
 */
export interface HandoffRequest {
  taskId: string;
  toolName: string;
  /** The validated arguments object as JSON text. */
  argumentsJson: string;
  origin: Origin;
  trace?: TraceContext;
}

/** Sends handoffs to other replicas; the Redis worker router implements it. */
export interface HandoffPort {
  send(instanceId: string, request: HandoffRequest): Promise<void>;
}
