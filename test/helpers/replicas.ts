import { credentials } from '@grpc/grpc-js';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { spawnServer, type ServerProcess } from './server.js';

export interface Replica extends ServerProcess {
  client: TaskServiceClient;
  /** The `mcp` URL of its `listening` line: set when it serves MCP (TASKSERVICE_MCP_ADDR). */
  mcpUrl?: string;
  stop(): Promise<void>;
}

/** Starts `count` TaskService processes sharing one Redis and one key prefix. */
export async function startReplicas(count: number, env: Record<string, string>): Promise<Replica[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const server = await spawnServer({ TASKSERVICE_INSTANCE_ID: `replica-${i}`, ...env });
      const client = new TaskServiceClient(server.address, credentials.createInsecure());
      const mcpUrl = server.lines.find((line) => line.msg === 'listening')?.mcp;
      return {
        ...server,
        client,
        ...(typeof mcpUrl === 'string' && { mcpUrl }),
        async stop() {
          client.close();
          if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
          await server.exited;
        },
      };
    }),
  );
}
