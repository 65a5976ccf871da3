import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { Metrics } from './metrics.js';

/** More pages on the same port (the console): answers a path it owns, returns false for any other. */
export interface HttpMount {
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  /** Ends what it holds open (live feeds) before the port closes. */
  close(): void;
}

/**
 * The operators' HTTP port, apart from gRPC: `/metrics` for Prometheus,
 * `/healthz` (the process answers) and `/readyz` (it should get traffic:
 * 503 while the store is unreachable or during shutdown) for load balancers
 * and Kubernetes probes that do not speak gRPC health; and whatever is mounted
 * (the console at `/console/`).
 */
export class MetricsServer {
  private readonly server: Server;

  constructor(
    private readonly metrics: Metrics,
    private readonly ready: () => boolean,
    private readonly logger: Logger,
    private readonly mount?: HttpMount,
  ) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (this.mount?.handle(req, res, path)) return;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        this.metrics.scrape().then(
          (text) => res.writeHead(200, { 'content-type': this.metrics.contentType }).end(text),
          (err: unknown) => {
            this.logger.error({ err }, 'metrics scrape failed');
            res.writeHead(500).end('scrape failed\n');
          },
        );
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const ready = this.ready();
        res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
      } else {
        const more = this.mount ? ', /readyz or /console/' : ' or /readyz';
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`try /metrics, /healthz${more}\n`);
      }
    });
    // Scrapes are short; an idle keep-alive socket must not hold shutdown up.
    this.server.keepAliveTimeout = 5000;
  }

  /** Binds; resolves with the port (the real one when 0 was asked for). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    this.mount?.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
