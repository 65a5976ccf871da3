/**
 * Counts the TaskService calls under way, so shutdown knows when they are
 * done without relying on grpc-js's tryShutdown callback, which never fires
 * when a client's HTTP/2 session was destroyed just before (the session's
 * close callback is never registered).
 */
export class CallTracker {
  private active = 0;
  private waiters: (() => void)[] = [];

  get count(): number {
    return this.active;
  }

  /** Marks a call as started; the returned function (idempotent) marks it finished. */
  enter(): () => void {
    this.active++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.active === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Resolves when no call is under way. */
  idle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
