import { expect } from 'chai';
import { consoleApi } from '../helpers/console-api.js';
import { eventually } from '../helpers/eventually.js';
import { RedisServer } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A console's feed across a Redis restart: changes published while the service could not reach Redis are not
 * replayed, so once it is back every open feed says `resync` and the pages read again what they show.
 */
describe('console feed across a Redis restart', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let server: TestServer;
  before(async () => {
    redis = await RedisServer.start();
    server = await startTestServer({ REDIS_URL: redis.url, TASKSERVICE_HTTP_ADDR: '127.0.0.1:0' });
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('tells every open feed to read again once Redis is back, once', async () => {
    const api = consoleApi(server);
    const feeds = [await api.feed(), await api.feed()];
    let available = true;
    const unwatch = server.app.store.watchAvailability((now) => (available = now));
    await redis.kill();
    await eventually(() => !available, { what: 'the service to notice Redis is gone' });
    expect(
      feeds.map((f) => f.resyncs),
      'not while Redis is away',
    ).to.deep.equal([0, 0]);
    await redis.launch();
    await eventually(() => feeds.every((f) => f.resyncs > 0), { what: 'a resync event on every feed' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(feeds.map((f) => f.resyncs)).to.deep.equal([1, 1]);
    unwatch();
    for (const feed of feeds) await feed.close();
  });
});
