import { type CallOptions, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { App, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { type Logger, silentLogger } from '../../src/core/logger.js';
import { type AwaitResultResponse, TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { storeEnv } from './test-store.js';

/** An in-process server on a free loopback port, and a client for it. */
export interface TestServer {
  app: App;
  address: string;
  client: TaskServiceClient;
  close(): Promise<void>;
}

export async function startTestServer(
  env: Record<string, string> = {},
  options: AppOptions = {},
  logger: Logger = silentLogger,
): Promise<TestServer> {
  const config = loadConfig({
    TASKSERVICE_ADDR: '127.0.0.1:0',
    TASKSERVICE_SHUTDOWN_GRACE_SECONDS: '2',
    ...storeEnv(),
    ...env,
  });
  const app = new App(config, logger, options);
  const port = await app.start().catch(async (err: unknown) => {
    await app.close();
    throw err;
  });
  const address = `127.0.0.1:${port}`;
  const client = new TaskServiceClient(address, credentials.createInsecure());
  return {
    app,
    address,
    client,
    async close() {
      client.close();
      await app.close();
    },
  };
}

type Unary<Req, Res> = (
  req: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/** Calls a unary method as a promise, with a deadline so no test can hang; with `token`, as its bearer. */
export function call<Req, Res>(
  method: Unary<Req, Res>,
  client: TaskServiceClient,
  req: Req,
  deadlineMs = 10_000,
  token?: string,
): Promise<Res> {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => {
    method.call(client, req, metadata, { deadline: Date.now() + deadlineMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** Rejects unless `promise` fails with `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: number): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    const e = err as ServiceError;
    if (e.code !== code) throw new Error(`expected code ${code}, got ${e.code}: ${e.details}`, { cause: err });
    return e;
  }
  throw new Error(`expected code ${code}, but the call succeeded`);
}

/** An AwaitResult stream read in the background: the updates so far, and all of them once it ends. */
export interface Watch {
  updates: AwaitResultResponse[];
  /** Every update once the stream ends OK; rejects with the stream's error. */
  done: Promise<AwaitResultResponse[]>;
  /** True once the first update (the snapshot) has arrived: the stream is subscribed and hears later changes. */
  readonly started: boolean;
}

export function watchTask(client: TaskServiceClient, taskId: string, userId = '', deadlineMs = 15_000): Watch {
  const updates: AwaitResultResponse[] = [];
  const done = (async () => {
    for await (const m of client.awaitResult({ taskId, userId }, { deadline: Date.now() + deadlineMs }))
      updates.push(m);
    return updates;
  })();
  return {
    updates,
    done,
    get started() {
      return updates.length > 0;
    },
  };
}

/** A server as its own process (`node --import tsx src/main.ts`), for signals and exit codes. */
export interface ServerProcess {
  child: ChildProcess;
  address: string;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
}

export function spawnServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, TASKSERVICE_ADDR: '127.0.0.1:0', ...storeEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    if (process.env.DEBUG_SERVER_STDERR) process.stderr.write(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 20 s: ${stderr}`));
    }, 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === 'listening') {
        clearTimeout(timer);
        resolve({ child, address: entry.address as string, lines, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${stderr}`));
    });
  });
}

/** Execute through gRPC with a 10 ms budget, so that a slow tool is backgrounded (and stored); its task id. */
export async function startBackground(
  server: TestServer,
  toolName: string,
  args: object,
  userId: string,
  token?: string,
): Promise<string> {
  const request = {
    toolName,
    argumentsJson: JSON.stringify(args),
    userId,
    channelId: '',
    platform: '',
    requestId: '',
    timeoutSeconds: 0.01,
  };
  return (await call(server.client.execute, server.client, request, 5000, token)).task!.taskId;
}
