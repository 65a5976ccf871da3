/**
 * Load generator, scenario 5: starts `tasks` background tasks that run
 * until stopped (the `idle` tool, which holds nothing, with a 1 ms budget),
 * 64 calls at a time, for one user; then, on the next go line, times
 * `lists` ListTasks calls of `pageSize` for that user, one at a time.
 */
import { createInterface } from 'node:readline';
import { credentials, Metadata } from '@grpc/grpc-js';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { summarize } from '../lib/stats.js';

const { address, tasks, lists, pageSize, userId } = JSON.parse(process.argv[2]!) as {
  address: string;
  tasks: number;
  lists: number;
  pageSize: number;
  userId: string;
};
const client = new TaskServiceClient(address, credentials.createInsecure());
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const request = {
  toolName: 'idle',
  argumentsJson: '{}',
  userId,
  channelId: '',
  platform: '',
  requestId: '',
  timeoutSeconds: 0.001,
};

const execute = () =>
  new Promise<void>((resolve, reject) =>
    client.execute(request, new Metadata(), { deadline: Date.now() + 30_000 }, (err, res) =>
      err ? reject(err) : res.backgrounded ? resolve() : reject(new Error('not backgrounded')),
    ),
  );
const list = (pageToken: string) =>
  new Promise<string>((resolve, reject) =>
    client.listTasks(
      { userId, status: TaskStatus.TASK_STATUS_UNSPECIFIED, toolName: '', pageSize, pageToken },
      new Metadata(),
      { deadline: Date.now() + 30_000 },
      (err, res) =>
        err
          ? reject(err)
          : res.tasks.length === pageSize
            ? resolve(res.nextPageToken)
            : reject(new Error(`page of ${res.tasks.length}`)),
    ),
  );

process.stdout.write('ready\n');
await lines.next();
let next = 0;
/** Calls refused UNAVAILABLE (the store did not answer in time) and tried again. */
let unavailable = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < tasks) {
      next++;
      for (;;) {
        try {
          await execute();
          break;
        } catch (err) {
          if ((err as { code?: number }).code !== 14 || ++unavailable > 1000) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  }),
);
process.stdout.write(`${JSON.stringify({ started: tasks, unavailable, seconds: (performance.now() - t0) / 1000 })}\n`);
await lines.next();
// First pages and later ones: a page token from the previous answer, restarting at the top now and then.
const latencies: number[] = [];
let token = '';
for (let i = 0; i < lists; i++) {
  const t = performance.now();
  token = await list(i % 20 === 0 ? '' : token);
  latencies.push(performance.now() - t);
}
process.stdout.write(`${JSON.stringify(summarize(latencies))}\n`);
client.close();
