import { credentials, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FailureReason } from '../../gen/ts/taskmanager/v1/task.js';
import { type AwaitResultResponse, TaskServiceClient, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { untilToolsRunning } from '../helpers/metrics.js';
import { freePort, RedisServer } from '../helpers/redis.js';
import { call, spawnServer, startTestServer } from '../helpers/server.js';

const INLINE = 50;
const BACKGROUND = 50;
const STREAMS = 50;
const GRACE_S = 5;
const exec = { userId: 'u', channelId: '', platform: '', requestId: '' };

describe('SIGTERM under load', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.stop());

  it(
    `ends ${INLINE} inline calls, ${BACKGROUND} background tasks and ${STREAMS} streams cleanly, ` +
      `exits inside the grace period, and leaves no task RUNNING`,
    async () => {
      const env = { REDIS_URL: redis.url, TASKSERVICE_REDIS_PREFIX: `s${randomBytes(3).toString('hex')}:` };
      const metricsPort = await freePort();
      const server = await spawnServer({
        ...env,
        TASKSERVICE_SHUTDOWN_GRACE_SECONDS: String(GRACE_S),
        TASKSERVICE_HTTP_ADDR: `127.0.0.1:${metricsPort}`,
      });
      const client = new TaskServiceClient(server.address, credentials.createInsecure());
      try {
        const background = await Promise.all(
          Array.from({ length: BACKGROUND }, () =>
            call(client.execute, client, {
              ...exec,
              toolName: 'sleep',
              argumentsJson: '{"seconds":60}',
              timeoutSeconds: 0.01,
            }),
          ),
        );
        const streams = background.slice(0, STREAMS).map(
          ({ task }) =>
            new Promise<{ code: number; last?: AwaitResultResponse }>((resolve) => {
              let last: AwaitResultResponse | undefined;
              const stream = client.awaitResult({ taskId: task!.taskId, userId: 'u', timeoutSeconds: 60 });
              stream.on('data', (m: AwaitResultResponse) => (last = m));
              stream.on('end', () => resolve({ code: status.OK, last }));
              stream.on('error', (err: { code: number }) => resolve({ code: err.code, last }));
            }),
        );
        const inline = Array.from({ length: INLINE }, () =>
          call(client.execute, client, {
            ...exec,
            toolName: 'sleep',
            argumentsJson: '{"seconds":0.5}',
            timeoutSeconds: 10,
          }).then(
            (r) => ({ code: status.OK, text: r.text }),
            (err: { code: number }) => ({ code: err.code, text: '' }),
          ),
        );
        await untilToolsRunning(metricsPort, BACKGROUND + INLINE); // every inline call is under way
        const signalledAt = Date.now();
        server.child.kill('SIGTERM');
        const [inlineResults, streamResults, exitCode] = await Promise.all([
          Promise.all(inline),
          Promise.all(streams),
          server.exited,
        ]);
        const exitMs = Date.now() - signalledAt;

        const inlineCodes = new Set(inlineResults.map((r) => r.code));
        const completed = inlineResults.filter((r) => r.text === 'slept 0.5 s').length;
        const terminal = streamResults.filter(
          (r) =>
            r.code === status.OK &&
            r.last?.kind === UpdateKind.UPDATE_KIND_TERMINAL &&
            r.last.task?.failureReason === FailureReason.FAILURE_REASON_SHUTDOWN,
        ).length;
        const streamCodes = new Set(streamResults.map((r) => r.code));

        // The record, read by a fresh server on the same Redis.
        const after = await startTestServer(env);
        let running = 0;
        try {
          const page = await call(after.client.listTasks, after.client, {
            userId: 'u',
            status: 1,
            toolName: '',
            pageSize: 500,
            pageToken: '',
          });
          running = page.tasks.length;
        } finally {
          await after.close();
        }
        console.log(
          `      FIGURE: SIGTERM with ${INLINE} inline calls, ${BACKGROUND} background tasks, ` +
            `${STREAMS} open streams: exit ${exitCode} after ${exitMs} ms ` +
            `(grace ${GRACE_S} s); inline ${completed}/${INLINE} completed, ` +
            `codes ${[...inlineCodes].map((c) => status[c]).join('/')}; ` +
            `streams ${terminal}/${STREAMS} ended with the SHUTDOWN terminal update, ` +
            `codes ${[...streamCodes].map((c) => status[c]).join('/')}; tasks left RUNNING: ${running}`,
        );
        expect(exitCode).to.equal(0);
        expect(exitMs).to.be.below(GRACE_S * 1000 + 1000);
        expect([...inlineCodes].every((c) => c === status.OK || c === status.UNAVAILABLE)).to.equal(true);
        expect([...streamCodes].every((c) => c === status.OK || c === status.UNAVAILABLE)).to.equal(true);
        expect(running).to.equal(0);
      } finally {
        client.close();
        server.child.kill('SIGKILL');
      }
    },
  );
});
