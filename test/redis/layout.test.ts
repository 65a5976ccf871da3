import { expect } from 'chai';
import { Redis } from 'ioredis';
import { eventually } from '../helpers/core.js';
import { RawWorker } from '../helpers/raw-worker.js';
import { RedisServer } from '../helpers/redis.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

/** What other programs (the seed's readers, operators with redis-cli) see in Redis. */
describe("Redis key layout (the seed's record)", () => {
  let redis: RedisServer;
  let raw: Redis;
  let server: TestServer;
  const exec = { userId: 'alice', channelId: 'C42', platform: 'slack', requestId: '' };

  before(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.url);
    server = await startTestServer({
      REDIS_URL: redis.url,
      TASKSERVICE_REDIS_PREFIX: 'sg:',
      TASKSERVICE_INSTANCE_ID: 'layout-replica',
      TASKSERVICE_RETENTION_SECONDS: '1',
      TASKSERVICE_EXPIRY_SWEEP_SECONDS: '0.2',
      TASKSERVICE_PLATFORMS: '{"chat": {"url": "http://127.0.0.1:9/x"}}',
      TASKSERVICE_REDIRECT_ATTEMPTS: '1',
    });
  });
  after(async () => {
    await server.close();
    raw.disconnect();
    await redis.stop();
  });

  it("keeps a backgrounded task as the hash sg:task:<task_id> with the seed's field names and values", async () => {
    const { task } = await call(server.client.execute, server.client, {
      ...exec,
      toolName: 'sleep',
      argumentsJson: '{"seconds":0.4}',
      timeoutSeconds: 0.05,
      redirect: { channelId: 'D7', platform: 'chat', maxChars: 300 },
    });
    const hash = await raw.hgetall(`sg:task:${task!.taskId}`);
    expect(hash).to.include({
      task_id: task!.taskId,
      tool_name: 'sleep',
      status: 'running',
      user_id: 'alice',
      channel_id: 'C42',
      platform: 'slack',
      redirect_channel_id: 'D7',
      redirect_platform: 'chat',
      redirect_max_chars: '300',
    });
    // time.time()-style seconds, as the seed stored them
    expect(Number(hash.created_at)).to.be.closeTo(Date.now() / 1000, 5);
    expect(hash.created_at).to.match(/^\d{10}\.\d{3}$/);
    expect(await raw.zcard('sg:idx:all')).to.equal(1);
    expect(await raw.zcard('sg:idx:user:alice')).to.equal(1);

    await eventually(async () => (await raw.hget(`sg:task:${task!.taskId}`, 'status')) === 'completed');
    const finished = await raw.hgetall(`sg:task:${task!.taskId}`);
    expect(finished.result).to.equal('slept 0.4 s');
    expect(Number(finished.finished_at)).to.be.at.least(Number(finished.created_at));
    expect(await raw.pttl(`sg:task:${task!.taskId}`)).to.be.greaterThan(0);
  });

  it('leaves nothing behind once the retention has passed: no task, index entry, claim or running entry', async () => {
    await call(server.client.execute, server.client, {
      ...exec,
      toolName: 'echo',
      argumentsJson: '{"text":"x"}',
      requestId: 'once',
    });
    await eventually(async () => (await raw.keys('sg:*')).sort().join(',') === 'sg:instances', 6000);
    expect(await raw.zcard('sg:expiring')).to.equal(0);
  });

  // Replicas of two versions read each other's tables during a rolling upgrade: the JSON must not change.
  it('publishes its worker table as the JSON replicas of other versions read, and reads theirs', async () => {
    const worker = new RawWorker(server.address);
    const table = 'sg:workers:layout-replica';
    try {
      worker.register({
        workerName: 'wire',
        tools: [
          {
            name: 'wire_tool',
            description: 'd',
            parametersJsonSchema: '{"type":"object"}',
            noBackground: false,
            concurrency: 2,
            defaultTimeoutSeconds: 5,
            hardTimeoutSeconds: 0,
          },
        ],
      });
      await worker.next('registered');
      await eventually(async () => (await raw.get(table)) !== null);
      expect(await raw.get(table)).to.equal(
        '{"tools":[{"spec":{"name":"wire_tool","description":"d","parametersJson":"{\\"type\\":\\"object\\"}",' +
          '"noBackground":false,"concurrency":2,"timeoutSeconds":5},"workers":1}]}',
      );
    } finally {
      worker.close();
    }
    await eventually(async () => (await raw.exists(table)) === 0);

    const other = 'sg:workers:other-replica';
    await raw.zadd('sg:instances', Date.now() + 60_000, 'other-replica');
    await raw.set(
      other,
      '{"tools":[{"spec":{"name":"far_wire_tool","description":"f","parametersJson":"{\\"type\\":\\"object\\"}",' +
        '"noBackground":true,"concurrency":0,"timeoutSeconds":7,"hardTimeoutSeconds":9},"workers":3}]}',
    );
    await raw.publish('sg:workers', 'changed other-replica');
    try {
      await eventually(async () => {
        const { tools } = await call(server.client.listTools, server.client, {});
        return tools.some((t) => t.name === 'far_wire_tool');
      });
      const { tools } = await call(server.client.listTools, server.client, {});
      expect(tools.find((t) => t.name === 'far_wire_tool')).to.include({
        description: 'f',
        noBackground: true,
        defaultTimeoutSeconds: 7,
        hardTimeoutSeconds: 9,
        source: 'worker',
        workers: 3,
      });
    } finally {
      await raw.del(other);
      await raw.zrem('sg:instances', 'other-replica');
    }
  });
});
