import { setTimeout as sleep } from 'node:timers/promises';

/** Waits for `promise` (its rejection is thrown), or `ms` at most; the timer is cleared either way. */
export async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  const settled = new AbortController();
  try {
    await Promise.race([promise, sleep(ms, undefined, { signal: settled.signal })]);
  } finally {
    settled.abort();
  }
}
