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
