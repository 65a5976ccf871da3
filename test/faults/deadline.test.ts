import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { defineTool } from '../../src/tools/define.js';
import { TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { eventually } from '../helpers/core.js';
import { call, startTestServer } from '../helpers/server.js';

const TRIALS = 20;
const exec = { userId: 'u', channelId: '', platform: '', requestId: '' };

/** A tool that runs until stopped, and notes when its signal fired. */
const aborts = new Map<string, number>();
const started = new Map<string, number>();
const patient = defineTool({
  name: 'patient',
  description: 'waits for its signal',
  parameters: { type: 'object', properties: { tag: { type: 'string' }, seconds: { type: 'number' } } },
  handler: ({ tag, seconds }: { tag?: string; seconds?: number }, ctx) =>
    new Promise<string>((resolve) => {
      started.set(tag ?? '', performance.now());
      const timer = setTimeout(() => resolve('finished'), (seconds ?? 60) * 1000);
      ctx.signal.addEventListener('abort', () => {
        aborts.set(tag ?? '', performance.now());
        clearTimeout(timer);
      });
    }),
});

describe('client deadlines shorter than the budget', function () {
  this.timeout(60_000);

  it('backgrounds the tool before the deadline instead of losing it; the task survives and finishes', async () => {
    const server = await startTestServer({}, { tools: [patient] });
    try {
      const t0 = Date.now();
      const response = await call(
        server.client.execute,
        server.client,
        { ...exec, toolName: 'patient', argumentsJson: '{"tag":"d","seconds":1}', timeoutSeconds: 10 },
        500,
      );
      const answeredMs = Date.now() - t0;
      expect(response.backgrounded).to.equal(true);
      expect(aborts.has('d'), 'the tool was not stopped').to.equal(false);
      await eventually(
        async () =>
          (await call(server.client.getResult, server.client, { taskId: response.task!.taskId, userId: 'u' })).task
            ?.status === TaskStatus.TASK_STATUS_COMPLETED,
        5000,
      );
      console.log(
        `      FIGURE: deadline 500 ms, budget 10 s: envelope after ${answeredMs} ms ` +
          `(the budget ends 100 ms before the deadline); the task completed afterwards`,
      );
      expect(answeredMs).to.be.below(500);
    } finally {
      await server.close();
    }
  });

  it(
    `stops an untracked tool when its caller goes away: the signal fires within 5 ms of the cancel (p50) ` +
      `(${TRIALS} trials)`,
    async () => {
      const server = await startTestServer({}, { tools: [patient] });
      try {
        const latencies: number[] = [];
        // Trial 0 warms the path up (its first run is JIT-compiled: about 11 ms); it is not counted.
        for (let i = 0; i <= TRIALS; i++) {
          const tag = `c${i}`;
          const pending = new Promise<number>((resolve) => {
            const c = server.client.execute(
              { ...exec, toolName: 'patient', argumentsJson: JSON.stringify({ tag }), timeoutSeconds: 10 },
              new Metadata(),
              (err) => resolve(err?.code ?? status.OK),
            );
            void eventually(() => started.has(tag)).then(() => {
              const cancelledAt = performance.now();
              c.cancel();
              void eventually(() => aborts.has(tag)).then(() => latencies.push(aborts.get(tag)! - cancelledAt));
            });
          });
          expect(await pending).to.equal(status.CANCELLED);
          await eventually(() => latencies.length === i + 1);
        }
        latencies.shift();
        latencies.sort((a, b) => a - b);
        const p50 = latencies[Math.floor(TRIALS / 2)]!;
        const max = latencies.at(-1)!;
        console.log(
          `      FIGURE: client cancel -> tool signal (same process, loopback): p50 ${p50.toFixed(2)} ms, ` +
            `max ${max.toFixed(2)} ms over ${TRIALS} trials`,
        );
        // The typical case holds the 5 ms figure; a single slow trial on a busy 2-core machine (GC, the
        // scheduler) may not, so the worst case is held to 50 ms and printed.
        expect(p50).to.be.below(5);
        expect(max).to.be.below(50);
      } finally {
        await server.close();
      }
    },
  );
});
