/**
 * The promise `start` returns, with a synchronous throw turned into a
 * rejection, so the caller has one path for every failure. Not
 * `Promise.resolve().then(start)`: that costs a microtask hop, and this runs
 * on every call and every Redis command.
 */
export function attempt<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (err) {
    return Promise.reject(err);
  }
}
