/**
 * Load generator for bench/shards.ts: `count` background tasks through
 * Execute, `inFlight` at a time, each a `sleep` of `toolSeconds` with a
 * budget of `budgetSeconds` (so it is backgrounded, stored, and finishes on
 * its own a moment later), for `users` distinct user ids (`<userPrefix><i>`,
 * round robin), as real traffic has. Nobody awaits the tasks: the lifecycle
 * is create + finish. Prints the Execute latencies and every task id.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { drive, measureRun } from '../lib/drive.js';

const { address, count, inFlight, users, userPrefix, toolSeconds, budgetSeconds } = JSON.parse(process.argv[2]!) as {
  address: string;
  count: number;
  inFlight: number;
  users: number;
  userPrefix: string;
  toolSeconds: number;
  budgetSeconds: number;
};
const client = new TaskServiceClient(address, credentials.createInsecure());
const taskIds: string[] = [];
let inline = 0;
let next = 0;

function execute(record: boolean): Promise<boolean> {
  const userId = `${userPrefix}${next++ % users}`;
  return new Promise((resolve, reject) =>
    client.execute(
      {
        toolName: 'sleep',
        argumentsJson: JSON.stringify({ seconds: toolSeconds }),
        userId,
        channelId: '',
        platform: '',
        requestId: '',
        timeoutSeconds: budgetSeconds,
      },
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, res) => {
        if (err) return reject(err);
        if (!res.backgrounded) {
          inline++;
          return resolve(false);
        }
        if (record) taskIds.push(res.task!.taskId);
        resolve(true);
      },
    ),
  );
}

await measureRun(
  // A short warm-up whose tasks are stored too, but not counted here: the bench counts keys after the run.
  () => drive(Math.min(200, Math.max(20, count / 50)), inFlight, () => execute(false)),
  (latencies) => drive(count, inFlight, () => execute(true), latencies),
  () => ({ inline }),
);
process.stdout.write(`${JSON.stringify({ taskIds })}\n`);
client.close();
