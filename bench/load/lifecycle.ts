/**
 * Load generator: background task lifecycles. Each one runs a tool that
 * outlives its budget (so it is backgrounded and stored) and follows it to
 * its terminal update: `mode` "two-call" is an Execute and then an
 * AwaitResult stream, "stream" one ExecuteStream. `inFlight` lifecycles at a
 * time, `count` in all. Prints every lifecycle's latency (call sent ->
 * terminal update received).
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  type AwaitResultResponse,
  type ExecuteStreamResponse,
  TaskServiceClient,
  UpdateKind,
} from '../../gen/ts/taskmanager/v1/task_service.js';
import { drive, measureRun } from '../lib/drive.js';

const { address, count, inFlight, toolMs, mode } = JSON.parse(process.argv[2]!) as {
  address: string;
  count: number;
  inFlight: number;
  toolMs: number;
  mode?: 'two-call' | 'stream';
};
const client = new TaskServiceClient(address, credentials.createInsecure());
const request = {
  toolName: 'wait_ms',
  argumentsJson: JSON.stringify({ ms: toolMs }),
  userId: `bench-${process.pid}`,
  channelId: '',
  platform: '',
  requestId: '',
  timeoutSeconds: 0.001,
};

/** Calls answered inline after all (none expected: the tool outlives its budget 20 times over). */
let inline = 0;
let firstInline = '';

/** The task id, or undefined when the call was answered inline. */
function execute(): Promise<string | undefined> {
  return new Promise((resolve, reject) =>
    client.execute(request, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
      if (err) return reject(err);
      if (!res.backgrounded) {
        inline++;
        firstInline ||= JSON.stringify({ text: res.text, status: res.task?.status, reason: res.task?.failureReason });
        return resolve(undefined);
      }
      resolve(res.task!.taskId);
    }),
  );
}

function terminal(taskId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = client.awaitResult(
      { taskId, userId: request.userId, timeoutSeconds: 10 },
      { deadline: Date.now() + 15_000 },
    );
    stream.on('data', (update: AwaitResultResponse) => {
      if (update.kind === UpdateKind.UPDATE_KIND_TERMINAL) {
        if (update.text !== 'done') reject(new Error(`task ended with ${update.text}`));
        resolve();
      }
    });
    stream.on('error', reject);
    stream.on('end', resolve);
  });
}

async function lifecycle(): Promise<boolean> {
  const taskId = await execute();
  if (taskId === undefined) return false;
  await terminal(taskId);
  return true;
}

/** The same lifecycle as one ExecuteStream: the answer (backgrounded), then updates to the terminal one. */
function streamed(): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const stream = client.executeStream(request, new Metadata(), { deadline: Date.now() + 15_000 });
    stream.on('data', ({ event }: ExecuteStreamResponse) => {
      if (event?.$case === 'answer' && !event.value.backgrounded) {
        inline++;
        firstInline ||= event.value.text;
        resolve(false);
      }
      if (event?.$case === 'update' && event.value.kind === UpdateKind.UPDATE_KIND_TERMINAL) {
        if (event.value.text !== 'done') reject(new Error(`task ended with ${event.value.text}`));
        resolve(true);
      }
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(true));
  });
}

const one = mode === 'stream' ? streamed : lifecycle;
await measureRun(
  () => drive(Math.max(100, count / 10), inFlight, one),
  (latencies) => drive(count, inFlight, one, latencies),
  () => ({ inline }),
);
if (firstInline) process.stderr.write(`answered inline ${inline} times, e.g. ${firstInline}\n`);
client.close();
