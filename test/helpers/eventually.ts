import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** How long to keep polling before failing (default 5 s: generous, since a loaded machine is slow, not wrong). */
  timeoutMs?: number;
  /** Pause between checks. */
  intervalMs?: number;
  /** What is awaited, for the failure message; defaults to the source text of `check`. */
  what?: string;
}

/**
 * Polls `check` until it holds, for effects that land asynchronously: the
 * wait for the event itself instead of a fixed sleep that is "long enough"
 * on an idle machine. Fails after `timeoutMs` naming the condition and how
 * long it waited; an error thrown by `check` fails at once (a check can throw
 * to say "this will never hold now").
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  options: number | EventuallyOptions = {},
): Promise<void> {
  const { timeoutMs = 5000, intervalMs = 5, what } = typeof options === 'number' ? { timeoutMs: options } : options;
  const started = Date.now();
  for (;;) {
    if (await check()) return;
    const waited = Date.now() - started;
    if (waited > timeoutMs) {
      const described = what ?? check.toString().replace(/\s+/g, ' ').slice(0, 200);
      throw new Error(`condition not met within ${timeoutMs} ms (checked for ${waited} ms): ${described}`);
    }
    await sleep(intervalMs);
  }
}
