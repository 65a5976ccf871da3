import { expect } from 'chai';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DeliveryState } from '../../gen/ts/taskmanager/v1/task.js';
import type { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { TRUNCATION_MARKER } from '../../src/redirect/format.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/redirect/webhook.js';
import { eventually } from '../helpers/core.js';
import { deliverySettled, Receiver } from '../helpers/receiver.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

/** Each adapter kind against a real receiver on 127.0.0.1, including the receiver misbehaving. */
describe('redirect adapters', () => {
  const receiver = new Receiver();
  let server: TestServer;
  let client: TaskServiceClient;
  let n = 0;

  before(async () => {
    const base = await receiver.start();
    server = await startTestServer({
      TASKSERVICE_PLATFORMS: JSON.stringify({
        signed: { kind: 'webhook', url: `${base}/signed/{channel_id}`, secret_env: 'TEST_HOOK_SECRET' },
        slack: { kind: 'slack', url: `${base}/slack/{channel_id}` },
        discord: { kind: 'discord', url: `${base}/discord/{channel_id}`, max_chars: 5000 },
        short: { kind: 'discord', url: `${base}/short/{channel_id}`, long_messages: 'truncate' },
        flaky: { kind: 'webhook', url: `${base}/flaky` },
      }),
      TEST_HOOK_SECRET: 'hmac-key',
      TASKSERVICE_REDIRECT_BACKOFF_SECONDS: '0.05',
      TASKSERVICE_REDIRECT_TIMEOUT_SECONDS: '0.3',
      TASKSERVICE_REDIRECT_ATTEMPTS: '5',
    });
    client = server.client;
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });
  beforeEach(() => receiver.reset());

  /** Runs echo as a stored task redirected to `platform`, and waits for the delivery to settle. */
  async function deliver(text: string, platform: string, maxChars = 0) {
    const { task } = await call(client.execute, client, {
      toolName: 'echo',
      argumentsJson: JSON.stringify({ text }),
      userId: 'u',
      channelId: '',
      platform: '',
      requestId: `d-${++n}-${Date.now()}`,
      redirect: { channelId: `ch${n}`, platform, maxChars },
    });
    const read = async () => (await call(client.getResult, client, { taskId: task!.taskId, userId: '' })).task!;
    await eventually(async () => deliverySettled((await read()).redirect), 8000);
    return read();
  }

  it('signs webhook deliveries with HMAC-SHA256 over the timestamp and raw body', async () => {
    await deliver('signed result', 'signed');
    const [got] = receiver.received;
    const timestamp = String(got.headers[TIMESTAMP_HEADER]);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).to.be.below(10);
    const expected = `v1=${createHmac('sha256', 'hmac-key').update(`${timestamp}.${got.raw}`).digest('hex')}`;
    const signature = String(got.headers[SIGNATURE_HEADER]);
    expect(timingSafeEqual(Buffer.from(signature), Buffer.from(expected))).to.equal(true);
  });

  it('posts Slack\'s {"text"} payload', async () => {
    await deliver('for slack', 'slack');
    expect(receiver.received[0].url).to.match(/^\/slack\/ch\d+$/);
    expect(Object.keys(receiver.received[0].body)).to.deep.equal(['text']);
    expect(receiver.received[0].body.text).to.match(/completed:\nfor slack$/);
  });

  it('splits a long result into Discord messages of at most 2,000 characters, in order', async () => {
    const text = Array.from({ length: 90 }, (_, i) => `${i}: ${'漢'.repeat(40)}`).join('\n'); // about 4,000 characters
    const task = await deliver(text, 'discord');
    expect(task.redirect!.deliveryState).to.equal(DeliveryState.DELIVERY_STATE_DELIVERED);
    const parts = receiver.received.map((r) => r.body.content as string);
    expect(parts.length).to.be.within(3, 4);
    for (const part of parts) expect([...part].length).to.be.at.most(2000);
    expect(parts.join('')).to.equal(`[echo] task ${task.taskId} completed:\n${text}`);
  });

  it('resumes a split Discord delivery at the part that failed, sending no part twice', async () => {
    const text = 'y'.repeat(4500);
    receiver.statuses = [200, 500];
    const task = await deliver(text, 'discord');
    expect(task.redirect).to.include({ deliveryState: DeliveryState.DELIVERY_STATE_DELIVERED, attempts: 2 });
    const accepted = receiver.received.filter((_, i) => i !== 1).map((r) => r.body.content as string);
    expect(accepted.join('')).to.equal(`[echo] task ${task.taskId} completed:\n${text}`);
  });

  it('truncates to one 2,000-character Discord message when configured to', async () => {
    await deliver('z'.repeat(3000), 'short');
    expect(receiver.received).to.have.length(1);
    const content = receiver.received[0].body.content as string;
    expect([...content].length).to.equal(2000);
    expect(content.endsWith(TRUNCATION_MARKER)).to.equal(true);
  });

  it("honours a 429's Retry-After before the next attempt", async () => {
    receiver.statuses = [{ status: 429, headers: { 'retry-after': '1' } }];
    const task = await deliver('later please', 'flaky');
    expect(task.redirect).to.include({ deliveryState: DeliveryState.DELIVERY_STATE_DELIVERED, attempts: 2 });
    expect(receiver.received[1].at - receiver.received[0].at).to.be.within(950, 2000);
  });

  it('times out an attempt that hangs and delivers on the retry', async () => {
    receiver.statuses = [{ status: 200, delayMs: 2000 }];
    const task = await deliver('after a timeout', 'flaky');
    expect(task.redirect!.deliveryState).to.equal(DeliveryState.DELIVERY_STATE_DELIVERED);
    expect(task.redirect!.attempts).to.equal(2);
  });

  it('gives up after the configured attempts and keeps the last error visible', async () => {
    receiver.statuses = [500, 500, 500, 500, 500, 500];
    const task = await deliver('never', 'flaky');
    expect(task.redirect).to.include({ deliveryState: DeliveryState.DELIVERY_STATE_FAILED, attempts: 5 });
    expect(task.redirect!.lastError).to.contain('HTTP 500');
    expect(receiver.received).to.have.length(5);
  });
});
