/**
 * Load generator: `calls` inline Execute calls, `inFlight` at a time, against
 * `address`; warms up first, then waits for the bench's go. Prints one JSON
 * line: every latency (ms), wall time, and its own CPU time.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { drive, measureRun } from '../lib/drive.js';

const { address, calls, inFlight, tool } = JSON.parse(process.argv[2]!) as {
  address: string;
  calls: number;
  inFlight: number;
  tool: string;
};
const client = new TaskServiceClient(address, credentials.createInsecure());
const request = {
  toolName: tool,
  argumentsJson: '{"text":"hello"}',
  userId: 'bench',
  channelId: '',
  platform: '',
  requestId: '',
  timeoutSeconds: 5,
};

function once(): Promise<void> {
  return new Promise((resolve, reject) =>
    client.execute(request, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
      if (err) return reject(err);
      if (res.backgrounded || res.text !== 'hello')
        return reject(new Error(`unexpected answer: ${JSON.stringify(res)}`));
      resolve();
    }),
  );
}

await measureRun(
  () => drive(Math.min(2000, Math.max(200, calls / 5)), inFlight, once), // warm-up: JIT, connection, pools
  (latencies) => drive(calls, inFlight, once, latencies),
);
client.close();
