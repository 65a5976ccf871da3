import { jitteredBackoffMs, pause } from './backoff.js';
import { UnavailableError } from './errors.js';

/** How UNAVAILABLE is retried: exponential backoff with equal jitter, bounded in attempts. */
export interface RetryPolicy {
  /** Tries in all, the first included; 1: no retry. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * 3.1 to 6.3 s of waiting in all: enough to ride out a replica restart. The
 * Python and Go clients use the same policy.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 7, initialDelayMs: 100, maxDelayMs: 5000 };

/** The wait before try `attempt + 1` (attempt counts from 1): half fixed, half random, so clients spread out. */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  return jitteredBackoffMs(policy.initialDelayMs, policy.maxDelayMs, attempt, random);
}

/**
 * Runs `call` until it succeeds, fails with something other than
 * UNAVAILABLE, or the attempts are used up. Only for calls that are safe to
 * repeat: a retried call may have reached the server the first time.
 */
export async function withRetry<T>(policy: RetryPolicy, call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof UnavailableError) || attempt >= policy.attempts || signal?.aborted) throw err;
      await pause(backoffMs(policy, attempt), signal);
    }
  }
}
