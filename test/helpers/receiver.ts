import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryState } from '../../gen/ts/taskmanager/v1/task.js';

export interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  raw: string;
  at: number;
}

/** How to answer one request: status, extra headers, and a delay before answering. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
}

/**
 * A real HTTP endpoint on 127.0.0.1 that records every POST and answers with
 * the status codes it is told to, in order (then 200).
 */
export class Receiver {
  readonly received: Received[] = [];
  /** Answers for the next requests, in order; then 200. Plain numbers are statuses. */
  statuses: (number | Answer)[] = [];
  private server?: Server;

  /** Forgets what was received and what it was told to answer. */
  reset(): void {
    this.received.length = 0;
    this.statuses = [];
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.received.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(raw), raw, at: Date.now() });
        const next = this.statuses.shift() ?? 200;
        const answer = typeof next === 'number' ? { status: next } : next;
        const reply = () => {
          if (res.destroyed) return;
          res
            .writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers })
            .end(answer.status === 200 ? 'ok' : `status ${answer.status}`);
        };
        if (answer.delayMs) setTimeout(reply, answer.delayMs).unref();
        else reply();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** True once a task's redirect delivery has ended, delivered or failed. */
export function deliverySettled(redirect: { deliveryState: number } | undefined): boolean {
  return (
    redirect?.deliveryState === DeliveryState.DELIVERY_STATE_DELIVERED ||
    redirect?.deliveryState === DeliveryState.DELIVERY_STATE_FAILED
  );
}
