import { expect } from 'chai';
import type { TestServer } from './server.js';

/** The console's API on a server, as a browser page would call it. */
export function consoleApi(server: TestServer, token?: string) {
  const base = `http://127.0.0.1:${server.app.httpPort}/console/`;
  const headers = (extra: Record<string, string> = {}) => ({
    ...(token && { authorization: `Bearer ${token}` }),
    ...extra,
  });
  return {
    base,
    get: (path: string) => fetch(`${base}api/${path}`, { headers: headers() }),
    post: (path: string, body: unknown, type = 'application/json') =>
      fetch(`${base}api/${path}`, {
        method: 'POST',
        headers: headers({ 'content-type': type }),
        body: JSON.stringify(body),
      }),
    /** Opens the live feed; `tasks` collects every task event until `close`, `resyncs` counts resync events. */
    async feed() {
      const stop = new AbortController();
      const res = await fetch(`${base}api/events`, { headers: headers(), signal: stop.signal });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/event-stream');
      const tasks: { taskId: string; status: string; userId: string; progress?: { fraction: number } }[] = [];
      const seen = { tasks, resyncs: 0 };
      const reading = (async () => {
        let buffer = '';
        const decoder = new TextDecoder();
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            buffer += decoder.decode(chunk, { stream: true });
            let end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = /^data: (.*)$/m.exec(event)?.[1];
              if (event.startsWith('event: task') && data) tasks.push(JSON.parse(data));
              else if (event.startsWith('event: resync')) seen.resyncs++;
            }
          }
        } catch {
          // aborted by close()
        }
      })();
      return Object.assign(seen, {
        async close() {
          stop.abort();
          await reading;
        },
      });
    },
  };
}
