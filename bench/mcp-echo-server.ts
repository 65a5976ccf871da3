/**
 * The bench's MCP server: one tool, `say` ({text}) returning its text, built
 * with the official server SDK, so the MCP tool-source scenario measures the
 * hop and not a tool. `stdio` (TaskService starts it) or `http <port>`
 * (stateful Streamable HTTP). Writes its pid to MCP_ECHO_PID_FILE, so the
 * bench can read its CPU.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { fromJsonSchema, McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

const TEXT = fromJsonSchema<{ text: string }>({
  type: 'object',
  properties: { text: { type: 'string' } },
  required: ['text'],
});

function build(): McpServer {
  const mcp = new McpServer({ name: 'bench-echo', version: '1.0.0' });
  mcp.registerTool('say', { description: 'Returns its text', inputSchema: TEXT }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return mcp;
}

if (process.env.MCP_ECHO_PID_FILE) writeFileSync(process.env.MCP_ECHO_PID_FILE, String(process.pid));
const [mode, port] = process.argv.slice(2);
if (mode === 'http') {
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
  createServer((req, res) => {
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    if (known) return void known.handleRequest(req, res);
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
    });
    void build()
      .connect(transport)
      .then(() => transport.handleRequest(req, res));
  }).listen(Number(port), '127.0.0.1');
} else {
  await build().connect(new StdioServerTransport());
}
