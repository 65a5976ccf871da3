import { expect } from 'chai';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { loadConfig } from '../../src/config/index.js';
import { RetryableDeliveryError } from '../../src/redirect/platform-adapter.js';
import { type DeliveryPolicy, retryDelay } from '../../src/redirect/dispatcher.js';
import { splitText } from '../../src/redirect/format.js';
import { retryAfterMs } from '../../src/redirect/http.js';
import { signatureFor } from '../../src/redirect/webhook.js';

const policy: DeliveryPolicy = {
  attempts: 10,
  attemptTimeoutMs: 1000,
  backoffMs: 100,
  deadlineMs: 60_000,
  closeGraceMs: 0,
};

describe('redirect delivery policy', () => {
  it('backs off exponentially with jitter between half and all of the step', () => {
    for (const [attempt, step] of [
      [1, 100],
      [2, 200],
      [5, 1600],
    ]) {
      expect(retryDelay(policy, attempt, new Error('x'), () => 0)).to.equal(step / 2);
      expect(retryDelay(policy, attempt, new Error('x'), () => 0.999999)).to.be.closeTo(step, 0.01);
    }
    expect(retryDelay(policy, 30, new Error('x'), () => 1)).to.equal(60_000);
  });

  it('waits what a 429 asked for instead', () => {
    expect(retryDelay(policy, 1, new RetryableDeliveryError('429', 2500))).to.equal(2500);
    expect(retryAfterMs('3')).to.equal(3000);
    expect(retryAfterMs(new Date(Date.now() + 5000).toUTCString())).to.be.within(3000, 5000);
    expect(retryAfterMs('soon')).to.equal(undefined);
  });

  it('signs webhook bodies so that a receiver can verify them', () => {
    const body = '{"text":"hé"}';
    const signature = signatureFor('s3cret', '1700000000', body);
    const expected = `v1=${createHmac('sha256', 's3cret').update(`1700000000.${body}`).digest('hex')}`;
    expect(timingSafeEqual(Buffer.from(signature), Buffer.from(expected))).to.equal(true);
    expect(signatureFor('other', '1700000000', body)).to.not.equal(signature);
  });

  it('splits long text into pieces of at most the limit, whole graphemes, preferring line breaks', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i} ${'x'.repeat(50)}`).join('\n');
    const pieces = splitText(lines, 200);
    expect(pieces.join('')).to.equal(lines);
    for (const p of pieces) expect([...p].length).to.be.at.most(200);
    expect(pieces.slice(0, -1).every((p) => p.endsWith('\n'))).to.equal(true);
    const emoji = '👨‍👩‍👧'.repeat(100); // 5 code points each
    const parts = splitText(emoji, 12);
    expect(parts.join('')).to.equal(emoji);
    expect(parts.every((p) => p === '👨‍👩‍👧👨‍👩‍👧')).to.equal(true);
  });

  it('reads each platform kind, with secrets from the environment', () => {
    const config = loadConfig({
      HOOK_SECRET: 'abc',
      SLACK_URL: 'https://hooks.example/services/T/B/X',
      TASKSERVICE_PLATFORMS: JSON.stringify({
        hook: { kind: 'webhook', url: 'http://127.0.0.1:9/{channel_id}', secret_env: 'HOOK_SECRET' },
        slack: { kind: 'slack', url_env: 'SLACK_URL' },
        discord: { kind: 'discord', url: 'https://discord.example/api/webhooks/1/x', long_messages: 'truncate' },
        stream: { kind: 'redis-stream', url: 'redis://127.0.0.1:6379', max_len: 100 },
      }),
    });
    expect(config.platforms).to.deep.equal([
      {
        name: 'hook',
        kind: 'webhook',
        url: 'http://127.0.0.1:9/{channel_id}',
        maxChars: 4000,
        headers: {},
        secret: 'abc',
      },
      { name: 'slack', kind: 'slack', url: 'https://hooks.example/services/T/B/X', maxChars: 4000 },
      {
        name: 'discord',
        kind: 'discord',
        url: 'https://discord.example/api/webhooks/1/x',
        maxChars: 2000,
        longMessages: 'truncate',
      },
      {
        name: 'stream',
        kind: 'redis-stream',
        url: 'redis://127.0.0.1:6379',
        streamPrefix: 'taskservice:deliveries:',
        maxLen: 100,
        maxChars: 4000,
      },
    ]);
    expect(() =>
      loadConfig({ TASKSERVICE_PLATFORMS: '{"hook": {"url": "http://x", "secret_env": "MISSING"}}' }),
    ).to.throw(/secret_env names MISSING, which is not set/);
    expect(() =>
      loadConfig({ TASKSERVICE_PLATFORMS: '{"d": {"kind": "discord", "url": "http://x", "long_messages": "fold"}}' }),
    ).to.throw(/long_messages must be "split" or "truncate"/);
  });
});
