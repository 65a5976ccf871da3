import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/index.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.addr).to.deep.equal({ host: '127.0.0.1', port: 50051 });
    expect(config.defaultTimeoutSeconds).to.equal(10);
    expect(config.exampleTools).to.equal(true);
    expect(config.platforms).to.deep.equal([]);
    expect(Object.isFrozen(config)).to.equal(true);
    expect(config.tokens).to.deep.equal([]);
  });

  it('reads bearer tokens inline or from the environment, with the users each may act for', () => {
    const config = loadConfig({
      TASKSERVICE_AUTH_TOKENS: '{"a": {"token_env": "TOKEN_A", "users": ["alice"]}, "ops": {"token": "0123456789abcdef", "users": "*"}}',
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

  it('refuses a default budget above the maximum', () => {
    expect(() => loadConfig({ TASKSERVICE_DEFAULT_TIMEOUT_SECONDS: '20', TASKSERVICE_MAX_TIMEOUT_SECONDS: '5' })).to.throw(
      /must not exceed TASKSERVICE_MAX_TIMEOUT_SECONDS/,
    );
  });

  it('reads webhook platforms with their limits and headers', () => {
    const config = loadConfig({
      TASKSERVICE_PLATFORMS: '{"chat": {"kind": "webhook", "url": "http://127.0.0.1:9/{channel_id}", "max_chars": 100, "headers": {"x-k": "v"}}}',
    });
    expect(config.platforms).to.deep.equal([
      { name: 'chat', kind: 'webhook', url: 'http://127.0.0.1:9/{channel_id}', maxChars: 100, headers: { 'x-k': 'v' } },
    ]);
  });
});
