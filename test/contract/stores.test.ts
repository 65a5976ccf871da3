import { RedisServer } from '../helpers/redis.js';
import { memoryFactory, redisFactory } from '../helpers/stores.js';
import { storeContract } from './store.contract.js';

storeContract('memory', memoryFactory);

describe('with a real redis-server', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.stop());
  storeContract(
    'redis',
    redisFactory(() => redis.url),
  );
  storeContract(
    'redis, 4 shards',
    redisFactory(() => redis.url, 4),
  );
});
