/**
 * The soak's load generator, in its own process so its CPU is not the
 * server's: `loops` concurrent clients, each repeating Execute (a background
 * sleep) + AwaitResult until the terminal message, for `seconds`. Prints one
 * JSON summary line.
 *
 *   tsx test/faults/load/soak-client.ts <address> <loops> <seconds> <sleepSeconds>
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  type AwaitResultResponse,
  TaskServiceClient,
  UpdateKind,
} from '../../../gen/ts/taskmanager/v1/task_service.js';

const [address, loopsArg, secondsArg, sleepArg] = process.argv.slice(2);
const loops = Number(loopsArg);
const endAt = Date.now() + Number(secondsArg) * 1000;
const sleepSeconds = Number(sleepArg);
const CONNECTIONS = 8;
const clients = Array.from(
  { length: CONNECTIONS },
  () => new TaskServiceClient(address!, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
);

const summary = {
  started: 0,
  completions: 0,
  lost: 0,
  wrongResult: 0,
  executeErrors: {} as Record<string, number>,
  streamErrors: {} as Record<string, number>,
  maxOpenStreams: 0,
};
let open = 0;

/** 100 users, so no one user meets TASKSERVICE_MAX_RUNNING_PER_USER. */
const userOf = (i: number) => `soak-${i % 100}`;

function execute(client: TaskServiceClient, userId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.execute(
      {
        toolName: 'nap',
        argumentsJson: JSON.stringify({ seconds: sleepSeconds }),
        userId,
        channelId: '',
        platform: '',
        requestId: '',
        timeoutSeconds: 0.001,
      },
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, res) =>
        err ? reject(err) : res!.backgrounded ? resolve(res!.task!.taskId) : reject(new Error('not backgrounded')),
    );
  });
}

function awaitTerminal(
  client: TaskServiceClient,
  taskId: string,
  userId: string,
): Promise<AwaitResultResponse | undefined> {
  return new Promise((resolve, reject) => {
    let last: AwaitResultResponse | undefined;
    open++;
    summary.maxOpenStreams = Math.max(summary.maxOpenStreams, open);
    const stream = client.awaitResult({ taskId, userId, timeoutSeconds: 60 }, new Metadata(), {
      deadline: Date.now() + 60_000,
    });
    stream.on('data', (m: AwaitResultResponse) => (last = m));
    stream.on('end', () => {
      open--;
      resolve(last);
    });
    stream.on('error', (err) => {
      open--;
      reject(err);
    });
  });
}

const count = (bag: Record<string, number>, key: string) => (bag[key] = (bag[key] ?? 0) + 1);

async function loop(i: number): Promise<void> {
  const client = clients[i % CONNECTIONS]!;
  // Spread the starts over one task length, so completions arrive evenly.
  await new Promise((r) => setTimeout(r, (i / loops) * sleepSeconds * 1000));
  while (Date.now() < endAt) {
    let taskId: string;
    try {
      taskId = await execute(client, userOf(i));
    } catch (err) {
      count(summary.executeErrors, String((err as { code?: number }).code ?? (err as Error).message));
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    summary.started++;
    try {
      const last = await awaitTerminal(client, taskId, userOf(i));
      if (last?.kind !== UpdateKind.UPDATE_KIND_TERMINAL) summary.lost++;
      else if (last.text !== `slept ${sleepSeconds} s`) summary.wrongResult++;
      else summary.completions++;
    } catch (err) {
      summary.lost++;
      count(summary.streamErrors, String((err as { code?: number }).code));
    }
  }
}

await Promise.all(Array.from({ length: loops }, (_, i) => loop(i)));
for (const c of clients) c.close();
console.log(JSON.stringify(summary));
