import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { activeTimers } from '../helpers/resources.js';
import { eventually } from '../helpers/core.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

describe('AwaitResult stream lifecycle', () => {
  let server: TestServer;
  let client: TaskServiceClient;
  before(async () => {
    server = await startTestServer();
    client = server.client;
  });
  after(() => server.close());

  it('leaves no listener or timer behind when clients cancel their streams', async () => {
    const res = await call(client.execute, client, {
      toolName: 'sleep',
      argumentsJson: '{"seconds":60}',
      timeoutSeconds: 0.01,
      userId: '',
      channelId: '',
      platform: '',
      requestId: '',
    });
    const taskId = res.task!.taskId;
    await sleep(50);
    const listenersBefore = server.app.store.listenerCount;
    const timersBefore = activeTimers();

    const streams = Array.from({ length: 50 }, () => client.awaitResult({ taskId, userId: '', heartbeatSeconds: 30 }));
    const codes: number[] = [];
    for (const s of streams) s.on('error', (err: { code: number }) => codes.push(err.code));
    await Promise.all(streams.map((s) => new Promise((resolve) => s.once('data', resolve))));
    // The streams of one task share one subscription (src/core/watched-tasks.ts).
    expect(server.app.store.listenerCount).to.equal(listenersBefore + 1);
    expect(activeTimers()).to.be.at.least(timersBefore + 50);

    for (const s of streams) s.cancel();
    await eventually(() => codes.length === 50);
    expect(new Set(codes)).to.deep.equal(new Set([1 /* CANCELLED */]));
    await eventually(() => server.app.store.listenerCount === listenersBefore);
    await eventually(() => activeTimers() <= timersBefore);
    expect(server.app.store.listenerCount).to.equal(listenersBefore);

    await call(client.cancelTask, client, { taskId, userId: '' });
  });

  it('ends open streams with the terminal update when their task finishes', async () => {
    const res = await call(client.execute, client, {
      toolName: 'sleep',
      argumentsJson: '{"seconds":0.4}',
      timeoutSeconds: 0.01,
      userId: '',
      channelId: '',
      platform: '',
      requestId: '',
    });
    const listenersBefore = server.app.store.listenerCount;
    const ends = Array.from({ length: 20 }, async () => {
      const kinds: number[] = [];
      for await (const m of client.awaitResult({ taskId: res.task!.taskId, userId: '' })) kinds.push(m.kind);
      return kinds.at(-1);
    });
    expect(new Set(await Promise.all(ends))).to.deep.equal(new Set([4 /* TERMINAL */]));
    // The run's own watch goes too, once the finish's reply is back (the streams may end on its event before).
    await eventually(() => server.app.store.listenerCount === listenersBefore - 1);
  });
});
