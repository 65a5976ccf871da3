import type { IncomingMessage } from 'node:http';

/**
 * A request's body, or undefined as soon as it grows past `maxBytes`: what the HTTP front doors (MCP, the
 * console) read. The request is left as it is when the body is too large, not destroyed, so the caller's answer
 * reaches the client (destroying it first reset the connection under the answer); Node discards the rest of the
 * body once the answer is sent.
 */
export async function readBodyAtMost(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
