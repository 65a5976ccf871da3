import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A loopback TCP proxy in front of a server, whose connections a test can cut
 * at will: what a client sees when the network drops under a stream.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  cuts = 0;

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(target: string): Promise<TcpProxy> {
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      const upstream = connect(port, host);
      for (const socket of [client, upstream]) {
        proxy!.sockets.add(socket);
        socket.on('close', () => proxy!.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port: listening } = server.address() as { port: number };
    proxy = new TcpProxy(server, `127.0.0.1:${listening}`);
    return proxy;
  }

  /** Drops every connection through the proxy; new ones are accepted as before. */
  cutAll(): void {
    this.cuts++;
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
