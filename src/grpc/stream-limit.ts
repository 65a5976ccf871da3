import { ResourceExhausted } from '../core/errors.js';

/**
 * AwaitResult streams open per client connection (the peer address names
 * one). A client that opens streams without end would otherwise hold a
 * subscription and a heartbeat timer for each.
 */
export class StreamsPerConnection {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts one more stream for `peer`; the returned function (idempotent) ends it. */
  enter(peer: string): () => void {
    const count = this.open.get(peer) ?? 0;
    if (count >= this.max) {
      throw new ResourceExhausted(
        `this connection has ${count} AwaitResult streams open, the limit (TASKSERVICE_MAX_STREAMS_PER_CONNECTION); close some or open another connection`,
      );
    }
    this.open.set(peer, count + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.open.get(peer) ?? 1) - 1;
      if (left === 0) this.open.delete(peer);
      else this.open.set(peer, left);
    };
  }

  /** Streams open across all connections (leak checks). */
  get total(): number {
    let n = 0;
    for (const count of this.open.values()) n += count;
    return n;
  }
}
