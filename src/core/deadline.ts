import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The deadline of the call being served (epoch ms), carried implicitly
 * through every await below it, so a store can bound its own I/O by it
 * without every signature passing it along.
 */
const deadlines = new AsyncLocalStorage<number>();

export function withDeadline<T>(deadline: number | undefined, fn: () => T): T {
  return deadline === undefined ? fn() : deadlines.run(deadline, fn);
}

export function currentDeadline(): number | undefined {
  return deadlines.getStore();
}

/**
 * Runs `fn` outside any call's deadline. Background work (a tool that
 * outlives its call, storing its outcome, deliveries, retries) starts here:
 * timers and promise continuations inherit the context they were created in,
 * so without this a caller's long-gone deadline would bound them forever.
 */
export function detached<T>(fn: () => T): T {
  return deadlines.exit(fn);
}
