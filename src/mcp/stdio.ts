import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Client } from '../client/client.js';
import type { Logger } from '../core/logger.js';
import { ClientBackend } from './client-backend.js';
import { buildMcpServer } from './server.js';

export interface McpStdioOptions {
  /** The server's retention of finished tasks (for ttlMs); it is not told over gRPC. */
  retentionMs: number;
  version: string;
  logger: Logger;
}

/**
 * An MCP server on this process's stdin/stdout that forwards every request to
 * a TaskService over gRPC (`taskservice mcp --addr host:port`): desktop agents
 * that start stdio servers get the same tools, budget and tasks as `/mcp`.
 * Resolves when the client closes stdin. Logs go to stderr only: stdout is the
 * protocol's.
 */
export async function serveMcpOverStdio(client: Client, options: McpStdioOptions): Promise<void> {
  const backend = new ClientBackend(client);
  const ended = new Promise<void>((resolve) => process.stdin.once('end', resolve));
  const handle = serveStdio((rc) => buildMcpServer(rc.era, backend, options), {
    onerror: (err) => options.logger.warn({ err: err.message }, 'mcp stdio'),
  });
  await ended;
  await handle.close();
}
