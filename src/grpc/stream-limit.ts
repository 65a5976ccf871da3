import { CountsByKey } from '../core/counts.js';
import { ResourceExhausted } from '../core/errors.js';

/**
 * AwaitResult streams open per client connection (the peer address names
 * one). A client that opens streams without end would otherwise hold a
 * subscription and a heartbeat timer for each.
 */
export class StreamsPerConnection {
  private readonly open = new CountsByKey<string>();

  constructor(private readonly max: number) {}

  /** Counts one more stream for `peer`; the returned function (idempotent) ends it. */
  enter(peer: string): () => void {
    const count = this.open.get(peer);
    if (count >= this.max) {
      throw new ResourceExhausted(
        `this connection has ${count} AwaitResult streams open, the limit ` +
          '(TASKSERVICE_MAX_STREAMS_PER_CONNECTION); close some or open another connection',
      );
    }
    this.open.add(peer);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.open.remove(peer);
    };
  }

  /** Streams open across all connections (leak checks). */
  get total(): number {
    return this.open.total;
  }
}
