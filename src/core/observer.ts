import type { Outcome } from './task.js';

/**
 * What the manager reports about the work it does, for whoever counts it
 * (src/metrics implements it with Prometheus). Calls are synchronous and
 * must be cheap: they happen on every Execute.
 */
export interface TaskObserver {
  /** A tool run started in this process. */
  runStarted(tool: string): void;
  /** A run ended, `seconds` after it started. */
  runFinished(tool: string, outcome: Outcome, seconds: number): void;
  /** Execute answered: with the outcome (inline) or with the envelope of a background task. */
  executeAnswered(tool: string, backgrounded: boolean): void;
  /** The call's budget ran out before the tool settled, so it went on in the background. */
  budgetExceeded(tool: string): void;
}

export const NO_OBSERVER: TaskObserver = {
  runStarted() {},
  runFinished() {},
  executeAnswered() {},
  budgetExceeded() {},
};
