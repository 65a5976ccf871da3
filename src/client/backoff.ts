import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Exponential backoff with equal jitter: the ceiling doubles from
 * `initialMs` with each attempt (counted from 1) up to `maxMs`, and the
 * wait is half of it fixed, half random, so clients (or replicas) retrying
 * the same thing spread out. The client's retries and the server's redirect
 * deliveries both wait this way.
 */
export function jitteredBackoffMs(initialMs: number, maxMs: number, attempt: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Waits `ms`, or less if `signal` fires first; never rejects. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  // Rejects only when the signal fires, which just ends the wait early.
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}
