import { InvalidArgument } from './errors.js';

export interface BudgetInputs {
  /** From the request; undefined or 0 = default. */
  requestedSeconds?: number;
  toolDefaultSeconds?: number;
  serverDefaultSeconds: number;
  serverMaxSeconds: number;
  /** The caller's own deadline (epoch ms), if it sent one. */
  callerDeadline?: number;
  now: number;
}

/**
 * Room kept between the budget and the caller's deadline: enough to write the
 * task and send the envelope, so a caller with a short deadline still learns
 * the task id instead of getting DEADLINE_EXCEEDED.
 */
export const DEADLINE_MARGIN_MS = 100;

/** The inline budget in milliseconds. */
export function resolveBudgetMs(inputs: BudgetInputs): number {
  const requested = inputs.requestedSeconds;
  if (requested !== undefined && !(Number.isFinite(requested) && requested >= 0)) {
    throw new InvalidArgument('timeout_seconds', 'must be a finite number >= 0 (0 means the default)');
  }
  const seconds = requested || inputs.toolDefaultSeconds || inputs.serverDefaultSeconds;
  let budget = Math.min(seconds, inputs.serverMaxSeconds) * 1000;
  if (inputs.callerDeadline !== undefined) {
    budget = Math.min(budget, Math.max(0, inputs.callerDeadline - inputs.now - DEADLINE_MARGIN_MS));
  }
  return budget;
}

/** A tool's runtime limit in milliseconds: its own, else the server's. */
export function hardTimeoutMs(tool: { readonly hardTimeoutSeconds?: number }, serverDefaultSeconds: number): number {
  return (tool.hardTimeoutSeconds ?? serverDefaultSeconds) * 1000;
}
