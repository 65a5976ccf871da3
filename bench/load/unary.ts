/**
 * Load generator: `calls` inline Execute calls, `inFlight` at a time, against
 * `address`; warms up first, then waits for the bench's go. Prints one JSON
 * line: every latency (ms), wall time, and its own CPU time.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { readyThenWait } from '../lib/procs.js';

const { address, calls, inFlight, tool } = JSON.parse(process.argv[2]!) as { address: string; calls: number; inFlight: number; tool: string };
const client = new TaskServiceClient(address, credentials.createInsecure());
const request = { toolName: tool, argumentsJson: '{"text":"hello"}', userId: 'bench', channelId: '', platform: '', requestId: '', timeoutSeconds: 5 };

function once(): Promise<void> {
  return new Promise((resolve, reject) =>
    client.execute(request, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
      if (err) return reject(err);
      if (res.backgrounded || res.text !== 'hello') return reject(new Error(`unexpected answer: ${JSON.stringify(res)}`));
      resolve();
    }),
  );
}

async function drive(count: number, latencies?: number[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        next++;
        const t0 = performance.now();
        await once();
        latencies?.push(performance.now() - t0);
      }
    }),
  );
}

await drive(Math.min(2000, Math.max(200, calls / 5))); // warm-up: JIT, connection, pools
await readyThenWait();
const latencies: number[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await drive(calls, latencies);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ latencies, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
client.close();
