import type { Cancellation } from '../core/cancellation.js';

/** The part of a grpc-js call it follows: its flag and its 'cancelled' event. */
interface CancellableCall {
  readonly cancelled: boolean;
  once(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
}

/**
 * A call's cancellation (the client cancelled, or its deadline passed), without
 * an AbortController: one object and, once someone listens, one Set. It
 * behaves as an AbortSignal does for what the core uses: a listener added
 * after the abort is never called, each listener is called once, in the order
 * added. release() drops the listener it holds on the call.
 */
export class CallCancellation implements Cancellation {
  private listeners?: Set<() => void>;
  private fired = false;
  private readonly onCancelled = () => this.fire();

  constructor(private readonly call: CancellableCall) {
    if (!call.cancelled) call.once('cancelled', this.onCancelled);
  }

  get aborted(): boolean {
    return this.fired || this.call.cancelled;
  }

  /** Every listener is called at most once, so `once` changes nothing. */
  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (!this.aborted) (this.listeners ??= new Set()).add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners?.delete(listener);
  }

  release(): void {
    this.call.off('cancelled', this.onCancelled);
  }

  private fire(): void {
    if (this.fired) return;
    this.fired = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    // As EventTarget does: a listener that throws does not stop the others; its error is reported as uncaught.
    for (const listener of listeners ?? []) {
      try {
        listener();
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
