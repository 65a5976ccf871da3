import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.js';

/** The ```json blocks of README.md that contain `marker`. */
function readmeJson(marker: string): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  return [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((block) => block.includes(marker));
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.addr).to.deep.equal({ host: '127.0.0.1', port: 50051 });
    expect(config.defaultBudgetSeconds).to.equal(10);
    expect(config.maxBudgetSeconds).to.equal(300);
    expect(config.deprecatedVariables).to.deep.equal([]);
    expect(config.exampleTools).to.equal(true);
    expect(config.platforms).to.deep.equal([]);
    expect(Object.isFrozen(config)).to.equal(true);
    expect(config.tokens).to.deep.equal([]);
  });

  it('reads bearer tokens inline or from the environment, with the users each may act for', () => {
    const config = loadConfig({
      TASKSERVICE_AUTH_TOKENS:
        '{"a": {"token_env": "TOKEN_A", "users": ["alice"]}, "ops": {"token": "0123456789abcdef", "users": "*"}}',
      TOKEN_A: 'secret-token-for-a-service',
    });
    expect(config.tokens).to.deep.equal([
      { name: 'a', token: 'secret-token-for-a-service', users: ['alice'] },
      { name: 'ops', token: '0123456789abcdef', users: '*' },
    ]);
  });

  for (const [name, value, expected] of [
    ['TASKSERVICE_ADDR', 'localhost', 'must be host:port'],
    ['TASKSERVICE_ADDR', '127.0.0.1:70000', 'must be host:port'],
    ['TASKSERVICE_DEFAULT_TIMEOUT_SECONDS', 'ten', 'must be a number of seconds'],
    ['TASKSERVICE_DEFAULT_TIMEOUT_SECONDS', '-1', 'must be a number of seconds'],
    ['TASKSERVICE_DEFAULT_BUDGET_SECONDS', '0', 'must be a number of seconds from 0.001 to 86400'],
    ['TASKSERVICE_LOG_LEVEL', 'loud', 'must be one of'],
    ['TASKSERVICE_EXAMPLE_TOOLS', 'maybe', 'must be true or false'],
    ['TASKSERVICE_REDIRECT_ATTEMPTS', '1.5', 'must be a whole number'],
    ['TASKSERVICE_PLATFORMS', '{not json', 'is not valid JSON'],
    ['TASKSERVICE_PLATFORMS', '{"Bad Name": {"url": "http://x"}}', 'the name must be lowercase'],
    ['TASKSERVICE_PLATFORMS', '{"hook": {"url": "ftp://x"}}', 'url must be an http(s) URL'],
    ['TASKSERVICE_PLATFORMS', '{"hook": {"kind": "carrier-pigeon", "url": "http://x"}}', 'is not supported'],
    ['TASKSERVICE_AUTH_TOKENS', '{"svc": {"token": "short", "users": "*"}}', 'at least 16 characters'],
    ['TASKSERVICE_AUTH_TOKENS', '{"svc": {"token_env": "NOT_SET_ANYWHERE", "users": "*"}}', 'which is not set'],
    ['TASKSERVICE_AUTH_TOKENS', '{"svc": {"token": "0123456789abcdef0", "users": []}}', 'users must be "*"'],
    ['TASKSERVICE_AUTH_TOKENS', '{"svc": {"users": "*"}}', 'exactly one of token and token_env'],
    ['TASKSERVICE_AUTH_TOKENS', '{}', 'names no token'],
    ['TASKSERVICE_WORKER_TIMEOUT_SECONDS', '1', 'must exceed TASKSERVICE_WORKER_PING_SECONDS'],
  ]) {
    it(`stops on ${name}=${value} with a message naming the variable`, () => {
      expect(() => loadConfig({ [name]: value }))
        .to.throw(ConfigError)
        .with.property('message')
        .that.contains(name.replace('TASKSERVICE_PLATFORMS', 'TASKSERVICE_PLATFORMS'))
        .and.contains(expected);
    });
  }

  const stops = (env: Record<string, string>, message: string) =>
    expect(() => loadConfig(env))
      .to.throw(ConfigError)
      .with.property('message', message);

  it('refuses a Redis Cluster key prefix without a hash tag', () => {
    const nodes = { TASKSERVICE_REDIS_CLUSTER_NODES: '10.0.0.1:7000' };
    stops(
      nodes,
      'TASKSERVICE_REDIS_PREFIX="sg:" needs a hash tag in Redis Cluster, e.g. "{sg}:", ' +
        'so that the keys one script touches share a slot',
    );
    const tagged = loadConfig({ ...nodes, TASKSERVICE_REDIS_PREFIX: '{sg}:' });
    expect(tagged.redis).to.include({ mode: 'cluster', prefix: '{sg}:' });
  });

  it('reads the budget settings under their old names too, and says which were used', () => {
    const config = loadConfig({ TASKSERVICE_DEFAULT_TIMEOUT_SECONDS: '2', TASKSERVICE_MAX_TIMEOUT_SECONDS: '20' });
    expect(config).to.include({ defaultBudgetSeconds: 2, maxBudgetSeconds: 20 });
    expect(config.deprecatedVariables).to.deep.equal([
      { name: 'TASKSERVICE_DEFAULT_TIMEOUT_SECONDS', use: 'TASKSERVICE_DEFAULT_BUDGET_SECONDS' },
      { name: 'TASKSERVICE_MAX_TIMEOUT_SECONDS', use: 'TASKSERVICE_MAX_BUDGET_SECONDS' },
    ]);
    const current = loadConfig({ TASKSERVICE_DEFAULT_BUDGET_SECONDS: '3', TASKSERVICE_MAX_BUDGET_SECONDS: '30' });
    expect(current).to.include({ defaultBudgetSeconds: 3, maxBudgetSeconds: 30 });
    expect(current.deprecatedVariables).to.deep.equal([]);
  });

  it('refuses a budget setting under both its name and its old name, naming both', () => {
    for (const [name, old] of [
      ['TASKSERVICE_DEFAULT_BUDGET_SECONDS', 'TASKSERVICE_DEFAULT_TIMEOUT_SECONDS'],
      ['TASKSERVICE_MAX_BUDGET_SECONDS', 'TASKSERVICE_MAX_TIMEOUT_SECONDS'],
    ]) {
      stops({ [name]: '3', [old]: '3' }, `set ${name} or its deprecated name ${old}, not both`);
    }
  });

  it('names the variables as set when the default budget exceeds the maximum', () => {
    stops(
      { TASKSERVICE_DEFAULT_BUDGET_SECONDS: '400' },
      'TASKSERVICE_DEFAULT_BUDGET_SECONDS (400) must not exceed TASKSERVICE_MAX_BUDGET_SECONDS (300)',
    );
    stops(
      { TASKSERVICE_DEFAULT_BUDGET_SECONDS: '20', TASKSERVICE_MAX_TIMEOUT_SECONDS: '5' },
      'TASKSERVICE_DEFAULT_BUDGET_SECONDS (20) must not exceed TASKSERVICE_MAX_TIMEOUT_SECONDS (5)',
    );
  });

  it('refuses a default budget above the maximum', () => {
    expect(() =>
      loadConfig({ TASKSERVICE_DEFAULT_TIMEOUT_SECONDS: '20', TASKSERVICE_MAX_TIMEOUT_SECONDS: '5' }),
    ).to.throw(/must not exceed TASKSERVICE_MAX_TIMEOUT_SECONDS/);
  });

  it('reads webhook platforms with their limits and headers', () => {
    const config = loadConfig({
      TASKSERVICE_PLATFORMS:
        '{"chat": {"kind": "webhook", "url": "http://127.0.0.1:9/{channel_id}", ' +
        '"max_chars": 100, "headers": {"x-k": "v"}}}',
    });
    expect(config.platforms).to.deep.equal([
      { name: 'chat', kind: 'webhook', url: 'http://127.0.0.1:9/{channel_id}', maxChars: 100, headers: { 'x-k': 'v' } },
    ]);
  });

  describe('JSON settings (checked by JSON Schemas)', () => {
    it('names the variable, the platform and the field, and says what to write there', () => {
      const platform = (entry: object, env: Record<string, string> = {}) => ({
        TASKSERVICE_PLATFORMS: JSON.stringify({ hook: entry }),
        ...env,
      });
      const where = 'TASKSERVICE_PLATFORMS: platform "hook":';
      stops(platform({ url: 'http://x', max_chars: 5 }), `${where} max_chars must be a whole number >= 20`);
      stops(platform({ url: 'http://x', headers: { 'x-k': 5 } }), `${where} headers.x-k must be a string`);
      stops(platform({ url: 'http://x', url_env: 'HOOK_URL' }), `${where} set exactly one of url and url_env`);
      const fromEnv = platform({ url_env: 'HOOK_URL' }, { HOOK_URL: 'ftp://x' });
      stops(fromEnv, `${where} url (from HOOK_URL) must be an http(s) URL`);
      const stream = { kind: 'redis-stream', url: 'redis://h', max_len: 0 };
      stops(platform(stream), `${where} max_len must be a positive whole number`);
      stops({ TASKSERVICE_PLATFORMS: '{"hook": "http://x"}' }, `${where} must be an object`);
    });

    it('names the variable, the token and the field', () => {
      const token = (entry: object, env: Record<string, string> = {}) => ({
        TASKSERVICE_AUTH_TOKENS: JSON.stringify({ svc: entry }),
        ...env,
      });
      const where = 'TASKSERVICE_AUTH_TOKENS: token "svc":';
      stops(token({ token: '0123456789abcdef0' }), `${where} users is required`);
      stops(
        token({ token: '0123456789abcdef0', users: ['alice', ''] }),
        `${where} users must be "*" (any user) or a non-empty array of user ids`,
      );
      stops(
        token({ token_env: 'SVC_TOKEN', users: '*' }, { SVC_TOKEN: 'short' }),
        `${where} token (from SVC_TOKEN) must be at least 16 characters without whitespace`,
      );
    });

    it('refuses a key it does not know, naming it and the keys it knows', () => {
      stops(
        { TASKSERVICE_PLATFORMS: '{"hook": {"url": "http://x", "max_char": 100}}' },
        'TASKSERVICE_PLATFORMS: platform "hook": max_char is not a known key (known: kind, max_chars, url, ' +
          'secret, headers, url_env, secret_env)',
      );
      // A key of another kind is unknown too: slack signs nothing.
      stops(
        { TASKSERVICE_PLATFORMS: '{"chat": {"kind": "slack", "url": "http://x", "secret": "s"}}' },
        'TASKSERVICE_PLATFORMS: platform "chat": secret is not a known key (known: kind, max_chars, url, url_env)',
      );
      stops(
        { TASKSERVICE_AUTH_TOKENS: '{"svc": {"token": "0123456789abcdef0", "users": "*", "user": "alice"}}' },
        'TASKSERVICE_AUTH_TOKENS: token "svc": user is not a known key (known: token, token_env, users)',
      );
    });

    it('names the file a setting came from', () => {
      const dir = mkdtempSync(join(tmpdir(), 'taskservice-config-'));
      try {
        const file = join(dir, 'platforms.json');
        writeFileSync(file, '{"hook": {"url": "http://x", "header": {}}}');
        expect(() => loadConfig({ TASKSERVICE_PLATFORMS_FILE: file })).to.throw(
          ConfigError,
          `TASKSERVICE_PLATFORMS_FILE (${file}): platform "hook": header is not a known key`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('accepts the platform and token examples of README.md', () => {
      const [platforms] = readmeJson('"kind"');
      const secrets = { HOOK_SECRET: 'h', SLACK_WEBHOOK_URL: 'https://s.example', DISCORD_WEBHOOK_URL: 'https://d' };
      expect(loadConfig({ TASKSERVICE_PLATFORMS: platforms!, ...secrets }).platforms.map((p) => p.kind)).to.deep.equal([
        'webhook',
        'slack',
        'discord',
        'redis-stream',
      ]);
      const [tokens] = readmeJson('"token_env"');
      const secret = 'x'.repeat(48);
      const config = loadConfig({ TASKSERVICE_AUTH_TOKENS: tokens!, INFERENCE_A_TOKEN: secret, OPS_TOKEN: secret });
      expect(config.tokens.map((t) => t.name)).to.deep.equal(['inference-a', 'operators']);
    });
  });
});
