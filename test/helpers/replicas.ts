import { credentials } from '@grpc/grpc-js';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { spawnServer, type ServerProcess } from './server.js';

export interface Replica extends ServerProcess {
  client: TaskServiceClient;
  stop(): Promise<void>;
}

/** Starts `count` TaskService processes sharing one Redis and one key prefix. */
export async function startReplicas(count: number, env: Record<string, string>): Promise<Replica[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const server = await spawnServer({ TASKSERVICE_INSTANCE_ID: `replica-${i}`, ...env });
      const client = new TaskServiceClient(server.address, credentials.createInsecure());
      return {
        ...server,
        client,
        async stop() {
          client.close();
          if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
          await server.exited;
        },
      };
    }),
  );
}
