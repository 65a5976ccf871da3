/**
 * Load generator, scenario 3: how long after a tool settles its watchers
 * hear of it. Starts `tasks` tasks at `tasksPerSecond` on `execAddress`
 * (the `settle_stamp` tool: it returns the epoch time at which it settled),
 * opens `watchers` AwaitResult streams per task on `awaitAddress` (the same
 * replica or another one), and records, per terminal update, the time it
 * arrived minus the time the tool settled. Same machine, same clock.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { type AwaitResultResponse, TaskServiceClient, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { measureRun } from '../lib/drive.js';

const config = JSON.parse(process.argv[2]!) as {
  execAddress: string;
  awaitAddress: string;
  tasks: number;
  tasksPerSecond: number;
  watchers: number;
  toolMs: number;
};
const exec = new TaskServiceClient(config.execAddress, credentials.createInsecure());
const watch =
  config.awaitAddress === config.execAddress
    ? exec
    : new TaskServiceClient(config.awaitAddress, credentials.createInsecure());
const userId = `notify-${process.pid}`;
const now = () => performance.timeOrigin + performance.now();

function start(): Promise<string> {
  const request = {
    toolName: 'settle_stamp',
    argumentsJson: JSON.stringify({ ms: config.toolMs }),
    userId,
    channelId: '',
    platform: '',
    requestId: '',
    timeoutSeconds: 0.001,
  };
  return new Promise((resolve, reject) =>
    exec.execute(request, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
      if (err) return reject(err);
      if (!res.backgrounded) return reject(new Error('settle_stamp was not backgrounded'));
      resolve(res.task!.taskId);
    }),
  );
}

/** Resolves with the notification latency (ms), or NaN when the stream opened after the tool settled. */
function terminalLatency(taskId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = watch.awaitResult({ taskId, userId, timeoutSeconds: 30 }, { deadline: Date.now() + 40_000 });
    let first = true;
    stream.on('data', (update: AwaitResultResponse) => {
      const at = now();
      // A stream whose first message is already terminal missed the settle: not a notification.
      if (update.kind === UpdateKind.UPDATE_KIND_TERMINAL) resolve(first ? NaN : at - Number(update.task!.result));
      first = false;
    });
    stream.on('error', reject);
  });
}

async function one(latencies?: number[]): Promise<void> {
  const taskId = await start();
  const heard = await Promise.all(Array.from({ length: config.watchers }, () => terminalLatency(taskId)));
  latencies?.push(...heard);
}

/** Starts `tasks` tasks at the configured rate (an open loop: a slow answer does not slow the starts). */
async function paced(tasks: number, latencies?: number[]): Promise<void> {
  const interval = 1000 / config.tasksPerSecond;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < tasks; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(one(latencies));
  }
  await Promise.all(pending);
}

let missedSettle = 0;
await measureRun(
  () => paced(Math.min(50, config.tasks)),
  async (latencies) => {
    const all: number[] = [];
    await paced(config.tasks, all);
    for (const l of all) {
      if (Number.isNaN(l)) missedSettle++;
      else latencies.push(l);
    }
  },
  () => ({ missedSettle }),
);
exec.close();
watch.close();
