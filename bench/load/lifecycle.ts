/**
 * Load generator: background task lifecycles. Each one is an Execute whose
 * tool outlives its budget (so it is backgrounded and stored) and then an
 * AwaitResult stream read until the terminal update. `inFlight` lifecycles at
 * a time, `count` in all. Prints every lifecycle's latency (Execute sent ->
 * terminal update received).
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { type AwaitResultResponse, TaskServiceClient, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { drive, measureRun } from '../lib/drive.js';

const { address, count, inFlight, toolMs } = JSON.parse(process.argv[2]!) as {
  address: string;
  count: number;
  inFlight: number;
  toolMs: number;
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

await measureRun(
  () => drive(Math.max(100, count / 10), inFlight, lifecycle),
  (latencies) => drive(count, inFlight, lifecycle, latencies),
  () => ({ inline }),
);
if (firstInline) process.stderr.write(`answered inline ${inline} times, e.g. ${firstInline}\n`);
client.close();
