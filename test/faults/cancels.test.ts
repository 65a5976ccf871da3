import { credentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { eventually } from '../helpers/core.js';
import { activeTimers } from '../helpers/resources.js';
import { call, startTestServer } from '../helpers/server.js';

const STREAMS = 1000;
/** Cancels land anywhere in this window: before the stream opens, after its snapshot, between heartbeats. */
const WINDOW_MS = 3000;
const TASKS = 50;
const CONNECTIONS = 4;

describe('clients cancelling AwaitResult streams at random points', function () {
  this.timeout(120_000);

  it(`releases every listener, timer and subscription after ${STREAMS} random cancels`, async () => {
    const server = await startTestServer({ TASKSERVICE_HEARTBEAT_SECONDS: '0.2' });
    const clients = Array.from(
      { length: CONNECTIONS },
      () =>
        new TaskServiceClient(server.address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
    );
    const { url, prefix } = server.app.config.redis;
    const redis = url ? new Redis(url) : undefined;
    const subscriptions = async () =>
      redis ? Number(((await redis.pubsub('NUMSUB', `${prefix}events`)) as [string, number])[1]) : 0;
    try {
      const ids: string[] = [];
      for (let i = 0; i < TASKS; i++) {
        const r = await call(server.client.execute, server.client, {
          toolName: 'sleep',
          argumentsJson: '{"seconds":60}',
          userId: 'u',
          channelId: '',
          platform: '',
          requestId: '',
          timeoutSeconds: 0.001,
        });
        ids.push(r.task!.taskId);
      }
      // Baselines with the client connections warm and the tasks running.
      await Promise.all(clients.map((c) => call(c.listTools, c as never, {})));
      const baseline = {
        listeners: server.app.store.listenerCount,
        timers: activeTimers(),
        subscriptions: await subscriptions(),
      };
      let messages = 0;
      const failures: number[] = [];
      const cancelledAt: number[] = [];
      await Promise.all(
        Array.from({ length: STREAMS }, async (_, i) => {
          const client = clients[i % CONNECTIONS]!;
          const stream = client.awaitResult({ taskId: ids[i % TASKS]!, userId: 'u', timeoutSeconds: 60 });
          stream.on('data', () => messages++);
          const ended = new Promise<void>((resolve) => {
            stream.on('error', (err: { code: number }) => {
              if (err.code !== 1) failures.push(err.code); // 1 = CANCELLED, our own doing
              resolve();
            });
            stream.on('end', () => resolve());
          });
          const delay = Math.floor(Math.random() * WINDOW_MS);
          await new Promise((resolve) => setTimeout(resolve, delay));
          stream.cancel();
          cancelledAt.push(delay);
          await ended;
        }),
      );
      await eventually(() => server.app.grpc.streams.total === 0, 10_000);
      await eventually(() => server.app.store.listenerCount === baseline.listeners, 10_000);
      await eventually(() => activeTimers() <= baseline.timers, 10_000);
      const subscriptionsAfter = await subscriptions();
      console.log(
        `      FIGURE: ${STREAMS} AwaitResult streams on ${TASKS} running tasks cancelled at random points in ` +
          `${WINDOW_MS} ms (${messages} messages seen): streams open ${server.app.grpc.streams.total}, ` +
          `store listeners ${server.app.store.listenerCount} (baseline ${baseline.listeners}), ` +
          `timers ${activeTimers()} (baseline ${baseline.timers}), ` +
          `Redis subscriptions on the events channel ${subscriptionsAfter} (baseline ${baseline.subscriptions})`,
      );
      expect(cancelledAt).to.have.length(STREAMS);
      expect(failures, 'streams that ended with an error other than our cancel').to.deep.equal([]);
      expect(messages, 'streams that lived long enough received snapshots and heartbeats').to.be.greaterThan(
        STREAMS / 2,
      );
      expect(subscriptionsAfter).to.equal(baseline.subscriptions);
      for (const id of ids) await call(server.client.cancelTask, server.client, { taskId: id, userId: 'u' });
    } finally {
      for (const c of clients) c.close();
      redis?.disconnect();
      await server.close();
    }
  });
});
