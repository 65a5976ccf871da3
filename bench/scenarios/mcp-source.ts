import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goLoad, type Measured } from '../lib/load.js';
import { type BenchServer, stop } from '../lib/procs.js';
import { type Spread, spread } from '../lib/stats.js';
import { freePort } from '../../test/helpers/redis.js';

export interface McpSourceRow {
  target: 'module' | 'mcp-stdio' | 'mcp-http';
  inFlight: number;
  callsPerSecond: Spread;
  p50Ms: Spread;
  serverCpuUsPerCall: Spread;
  mcpServerCpuUsPerCall?: Spread;
}

const TOOLS = { module: 'noop', 'mcp-stdio': 'stdio_say', 'mcp-http': 'http_say' } as const;
type Target = keyof typeof TOOLS;

/**
 * Scenario 6: what an MCP tool source costs. The same trivial tool, inline,
 * as a tool module (in process), from an MCP server over stdio (TaskService's
 * child) and from one over Streamable HTTP (bench/mcp-echo-server.ts for
 * both), at 1 and 16 calls in flight. The MCP server's own CPU is printed
 * beside TaskService's.
 */
export async function mcpSource(
  startTaskService: (env: Record<string, string>) => Promise<BenchServer>,
  runs: number,
  calls: number,
) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mcp-'));
  const port = await freePort();
  const http = spawn(process.execPath, ['--import', 'tsx', 'bench/mcp-echo-server.ts', 'http', String(port)], {
    env: { ...process.env, MCP_ECHO_PID_FILE: join(dir, 'http.pid') },
    stdio: 'ignore',
  });
  try {
    await portOpen(port);
    const servers = {
      stdio: {
        command: process.execPath,
        args: ['--import', 'tsx', 'bench/mcp-echo-server.ts', 'stdio'],
        env: { MCP_ECHO_PID_FILE: join(dir, 'stdio.pid') },
        tool_prefix: 'stdio_',
      },
      http: { url: `http://127.0.0.1:${port}/mcp`, tool_prefix: 'http_' },
    };
    const taskservice = await startTaskService({ TASKSERVICE_MCP_SERVERS: JSON.stringify(servers) });
    const mcpPid = { 'mcp-stdio': pidIn(join(dir, 'stdio.pid')), 'mcp-http': http.pid! };
    const samples = new Map<string, Measured[]>();
    for (let run = 0; run < runs; run++) {
      for (const inFlight of [1, 16]) {
        for (const target of Object.keys(TOOLS) as Target[]) {
          const config = { mode: 'unary', address: taskservice.address, calls, inFlight, tool: TOOLS[target] };
          const watch = { server: taskservice.pid, ...(target !== 'module' && { mcp: mcpPid[target] }) };
          const measured = await goLoad([config], watch);
          const key = `${target}/${inFlight}`;
          samples.set(key, [...(samples.get(key) ?? []), measured]);
        }
      }
    }
    return [...samples].map(([key, ms]): McpSourceRow => {
      const [target, inFlight] = key.split('/') as [Target, string];
      return {
        target,
        inFlight: Number(inFlight),
        callsPerSecond: spread(ms.map((m) => m.perSecond)),
        p50Ms: spread(ms.map((m) => m.latency.p50)),
        serverCpuUsPerCall: spread(ms.map((m) => m.cpuUsPerOp.server!)),
        ...(target !== 'module' && { mcpServerCpuUsPerCall: spread(ms.map((m) => m.cpuUsPerOp.mcp!)) }),
      };
    });
  } finally {
    await stop(http);
    rmSync(dir, { recursive: true, force: true });
  }
}

function pidIn(file: string): number {
  return Number(readFileSync(file, 'utf8'));
}

async function portOpen(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`bench/mcp-echo-server.ts did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
