import { credentials } from '@grpc/grpc-js';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { RedisServer } from './redis.js';
import { call, spawnServer, type ServerProcess } from './server.js';

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

/** One real Redis, a fresh key prefix in `shards` shards, and `count` replicas on it (test/redis suites). */
export interface SharedRedisDeployment {
  redis: RedisServer;
  /** A plain connection, to look at the keys. */
  raw: Redis;
  keys: RedisKeys;
  replicas: Replica[];
  stop(): Promise<void>;
}

export async function startOnOneRedis(
  count: number,
  shards: number,
  env: Record<string, string> = {},
): Promise<SharedRedisDeployment> {
  const redis = await RedisServer.start();
  const raw = new Redis(redis.url);
  const prefix = `r${randomBytes(3).toString('hex')}:`;
  const stop = async (replicas: Replica[] = []) => {
    await Promise.all(replicas.map((r) => r.stop()));
    raw.disconnect();
    await redis.stop();
  };
  try {
    const replicas = await startReplicas(count, {
      REDIS_URL: redis.url,
      TASKSERVICE_REDIS_PREFIX: prefix,
      TASKSERVICE_REDIS_SHARDS: String(shards),
      ...env,
    });
    return { redis, raw, keys: new RedisKeys(prefix, shards), replicas, stop: () => stop(replicas) };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Starts the example `sleep` tool for `seconds` on a replica with a 10 ms budget: a background task. */
export function startSleep(replica: Replica, userId: string, seconds: number, requestId = '') {
  return call(replica.client.execute, replica.client, {
    toolName: 'sleep',
    argumentsJson: JSON.stringify({ seconds }),
    userId,
    channelId: '',
    platform: '',
    requestId,
    timeoutSeconds: 0.01,
  });
}
