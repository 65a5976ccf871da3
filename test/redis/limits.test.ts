import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { BoundedCommands } from '../../src/store/redis/bounded-commands.js';
import { RedisKeys } from '../../src/store/redis/keys.js';
import { RedisRunPlaces } from '../../src/store/redis/run-places.js';
import { withScripts } from '../../src/store/redis/scripts.js';
import { eventually } from '../helpers/core.js';
import { captureLogger } from '../helpers/logger.js';
import { RedisServer } from '../helpers/redis.js';
import { type Replica, type SharedRedisDeployment, startOnOneRedis, startSleep } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

const PER_USER = 5;
const TOTAL = 12;
const LEASE_S = 1;
const SWEEP_S = 0.3;

/**
 * The running limits across replicas: three replicas on one Redis, so a user
 * cannot pass TASKSERVICE_MAX_RUNNING_PER_USER (nor the deployment
 * TASKSERVICE_MAX_RUNNING_TOTAL) by spreading calls over them, however many
 * arrive at once; places free when tools end, and a dead replica's places
 * free with the lease sweep. Once with the single-shard layout, once with 4
 * shards (a user's places then live in the user's shard).
 */
for (const shards of [1, 4]) {
  describe(`running limits across three replicas (${shards} shard${shards > 1 ? 's' : ''})`, function () {
    this.timeout(60_000);
    let raw: Redis;
    let replicas: Replica[];
    let keys: RedisKeys;
    let deployment: SharedRedisDeployment | undefined;

    beforeEach(async () => {
      deployment = await startOnOneRedis(3, shards, {
        TASKSERVICE_MAX_RUNNING_PER_USER: String(PER_USER),
        TASKSERVICE_MAX_RUNNING_TOTAL: String(TOTAL),
        TASKSERVICE_LEASE_TTL_SECONDS: String(LEASE_S),
        TASKSERVICE_SWEEP_INTERVAL_SECONDS: String(SWEEP_S),
      });
      ({ raw, replicas, keys } = deployment);
    });
    afterEach(() => deployment?.stop());

    /** Starts `sleep` as a background task; resolves to its id, or to the gRPC error. */
    const start = (replica: Replica, user: string) =>
      startSleep(replica, user, 60).then(
        (r) => ({ taskId: r.task!.taskId }),
        (err: { code: number; details: string }) => ({ code: err.code, details: err.details }),
      );
    const cancel = (replica: Replica, taskId: string, userId: string) =>
      call(replica.client.cancelTask, replica.client, { taskId, userId });
    /** The places counted for a user in Redis. */
    const placesOf = async (user: string) => Number((await raw.hget(keys.ofUser(user).userPlaces, user)) ?? 0);

    it('lets one user run exactly the limit however the calls spread over replicas at once', async () => {
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => start(replicas[i % 3]!, 'alice')));
      const started = answers.filter((a) => 'taskId' in a);
      const refused = answers.filter((a) => 'code' in a) as { code: number; details: string }[];
      expect(started).to.have.length(PER_USER);
      expect(refused).to.have.length(60 - PER_USER);
      for (const r of refused) expect(r.code).to.equal(status.RESOURCE_EXHAUSTED);
      expect(refused.map((r) => r.details).join('\n')).to.contain(
        `user_id "alice" has ${PER_USER} tools running across the deployment, ` +
          'the limit (TASKSERVICE_MAX_RUNNING_PER_USER)',
      );
      expect(await placesOf('alice')).to.equal(PER_USER);
      // Nothing was stored for the refused calls.
      const { tasks } = await call(replicas[0]!.client.listTasks, replicas[0]!.client, {
        userId: 'alice',
        status: 0,
        toolName: '',
        pageSize: 100,
        pageToken: '',
      });
      expect(tasks).to.have.length(PER_USER);

      // Another user is not held back by alice's limit.
      expect(await start(replicas[1]!, 'bob')).to.have.property('taskId');

      // A place frees when its tool ends, on whichever replica it ran.
      const first = started[0] as { taskId: string };
      await cancel(replicas[2]!, first.taskId, 'alice');
      await eventually(async () => (await placesOf('alice')) === PER_USER - 1);
      expect(await start(replicas[0]!, 'alice')).to.have.property('taskId');
      expect(await start(replicas[1]!, 'alice')).to.have.property('code', status.RESOURCE_EXHAUSTED);
    });

    it('holds the deployment-wide total across users and replicas', async () => {
      // 30 users, 2 calls each, all at once: the total (12) binds before any user's limit (5).
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) => start(replicas[i % 3]!, `user-${i % 30}`)),
      );
      const started = answers.filter((a) => 'taskId' in a);
      const refused = answers.filter((a) => 'code' in a) as { code: number; details: string }[];
      expect(started).to.have.length(TOTAL);
      for (const r of refused) {
        expect(r.code).to.equal(status.RESOURCE_EXHAUSTED);
        expect(r.details).to.match(/the deployment runs \d+ tools, its limit \(TASKSERVICE_MAX_RUNNING_TOTAL\)/);
      }
      const perInstance = await raw.hvals(keys.totalPlaces);
      expect(perInstance.reduce((sum, n) => sum + Number(n), 0)).to.equal(TOTAL);
    });

    it('counts short inline calls too, and frees their places when they answer', async () => {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          call(replicas[i % 3]!.client.execute, replicas[i % 3]!.client, {
            toolName: 'echo',
            argumentsJson: JSON.stringify({ text: `hi ${i}` }),
            userId: 'carol',
            channelId: '',
            platform: '',
            requestId: '',
            timeoutSeconds: 5,
          }).then(
            (r) => r.text,
            (err: { code: number }) => err.code,
          ),
        ),
      );
      // Whatever overlapped, none was refused past the limit wrongly and every place is back.
      expect(answers.filter((a) => typeof a === 'string').length).to.be.at.least(PER_USER);
      for (const a of answers) if (typeof a !== 'string') expect(a).to.equal(status.RESOURCE_EXHAUSTED);
      await eventually(async () => (await placesOf('carol')) === 0);
      for (const k of keys.shards) expect(await raw.hlen(k.userPlaces)).to.equal(0);
    });

    it('frees a place Redis lists for a live replica that no longer holds it (a free undone)', async () => {
      const shard = keys.ofUser('erin');
      expect(await start(replicas[1]!, 'erin')).to.have.property('taskId');
      // What a failover that lost a free leaves: a place of replica-1 that replica-1 no longer holds.
      await raw.hset(shard.placesOf('replica-1'), 'phantom', 'erin');
      await raw.hincrby(shard.userPlaces, 'erin', 1);
      await raw.hset(keys.totalPlacesOf('replica-1'), 'phantom', '1');
      await raw.hincrby(keys.totalPlaces, 'replica-1', 1);
      expect(await placesOf('erin')).to.equal(2);
      await eventually(async () => (await placesOf('erin')) === 1, {
        timeoutMs: 3 * LEASE_S * 1000 + 4000,
        what: 'the phantom place freed by the reconcile',
      });
      expect(await raw.hexists(shard.placesOf('replica-1'), 'phantom')).to.equal(0);
      expect(await raw.hget(keys.totalPlaces, 'replica-1')).to.equal('1', 'the real place is kept');
    });

    it("frees a dead replica's places with the lease sweep, and only its own", async () => {
      const [a, b, c] = replicas as [Replica, Replica, Replica];
      for (let i = 0; i < 3; i++) expect(await start(a, 'dora')).to.have.property('taskId');
      for (let i = 0; i < 2; i++) expect(await start(b, 'dora')).to.have.property('taskId');
      expect(await start(c, 'dora')).to.have.property('code', status.RESOURCE_EXHAUSTED);
      a.child.kill('SIGKILL');
      await eventually(async () => (await placesOf('dora')) === 2, {
        timeoutMs: (LEASE_S + SWEEP_S + 4) * 1000,
        what: "the dead replica's 3 places freed, the live one's 2 kept",
      });
      const shard = keys.ofUser('dora');
      // The total's half goes once every shard has forgotten the replica, just after the user's count drops.
      await eventually(async () => (await raw.exists(keys.totalPlacesOf('replica-0'))) === 0);
      expect(await raw.exists(shard.placesOf('replica-0'), keys.totalPlacesOf('replica-0'))).to.equal(0);
      expect(await raw.hget(keys.totalPlaces, 'replica-0')).to.equal(null);
      for (let i = 0; i < 3; i++) expect(await start(c, 'dora')).to.have.property('taskId');
      expect(await start(b, 'dora')).to.have.property('code', status.RESOURCE_EXHAUSTED);
    });
  });
}

describe('the running-place scripts', function () {
  this.timeout(20_000);
  let redis: RedisServer;
  let raw: Redis;

  before(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.url);
  });
  after(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  it('count a place taken or freed twice (a retry after a lost reply) once', async () => {
    const c = withScripts(raw);
    const k = new RedisKeys('p:', 1);
    const user = k.ofUser('u');
    const take = async (id: string) => (await c.takePlaces(user.userPlaces, user.placesOf('i1'), id, 'u', 2))[0];
    expect(await take('a')).to.equal(-1);
    expect(await take('a')).to.equal(-1);
    expect(await raw.hget(user.userPlaces, 'u')).to.equal('1');
    expect(await take('b')).to.equal(-1);
    expect(await take('c')).to.equal(2, 'refused: the user holds 2');
    const free = (id: string) => c.freePlaces(user.userPlaces, user.placesOf('i1'), id);
    expect(await free('a')).to.equal(1);
    expect(await free('a')).to.equal(0);
    expect(await free('never-taken')).to.equal(0);
    expect(await raw.hget(user.userPlaces, 'u')).to.equal('1');
    expect(await free('b')).to.equal(1);
    expect(await raw.exists(user.userPlaces, user.placesOf('i1'))).to.equal(0, 'nothing left at zero');

    const total = async (id: string, instance: string) =>
      (await c.takeTotalPlaces(k.totalPlaces, k.totalPlacesOf(instance), instance, 3, id))[0];
    expect(await total('a', 'i1')).to.equal(-1);
    expect(await total('a', 'i1')).to.equal(-1);
    expect(await total('b', 'i2')).to.equal(-1);
    expect(await total('c', 'i2')).to.equal(-1);
    expect(await total('d', 'i1')).to.equal(3);
    expect(await c.freeTotalPlaces(k.totalPlaces, k.totalPlacesOf('i2'), 'i2', 'b')).to.equal(1);
    expect(await c.freeTotalPlaces(k.totalPlaces, k.totalPlacesOf('i2'), 'i2', 'b')).to.equal(0);
    expect(await raw.hgetall(k.totalPlaces)).to.deep.equal({ i1: '1', i2: '1' });
  });

  it('take and free several places in one run, each answered on its own, exact within the batch', async () => {
    const c = withScripts(raw);
    const k = new RedisKeys('q:', 1);
    const user = k.ofUser('u');
    // u may hold 2: a and b are taken, c refused (u holds 2), and v's first place is taken.
    const taken = await c.takePlaces(
      user.userPlaces,
      user.placesOf('i1'),
      'a',
      'u',
      2,
      'b',
      'u',
      2,
      'c',
      'u',
      2,
      'x',
      'v',
      2,
    );
    expect(taken).to.deep.equal([-1, -1, 2, -1]);
    expect(await raw.hgetall(user.userPlaces)).to.deep.equal({ u: '2', v: '1' });
    expect(await c.freePlaces(user.userPlaces, user.placesOf('i1'), 'a', 'c', 'x', 'a')).to.equal(2);
    expect(await raw.hgetall(user.userPlaces)).to.deep.equal({ u: '1' });
    // The total: 3 places in all; this instance takes 4 in one run, the last refused with 3 held.
    const totals = await c.takeTotalPlaces(k.totalPlaces, k.totalPlacesOf('i1'), 'i1', 3, 'p', 'q', 'p', 'r', 's');
    expect(totals).to.deep.equal([-1, -1, -1, -1, 3]);
    expect(await raw.hgetall(k.totalPlaces)).to.deep.equal({ i1: '3' });
    expect(await c.freeTotalPlaces(k.totalPlaces, k.totalPlacesOf('i1'), 'i1', 'p', 'q', 's', 'r')).to.equal(3);
    expect(await raw.exists(k.totalPlaces)).to.equal(0, 'nothing left at zero');
  });

  it('reconciles a page of places at a time, freeing only the ones this replica does not hold', async () => {
    const k = new RedisKeys('r:', 4);
    const lines: Record<string, unknown>[] = [];
    const places = new RedisRunPlaces(
      new BoundedCommands(withScripts(raw), 2000),
      k,
      'i1',
      captureLogger(lines),
      3_600_000,
    );
    try {
      const limits = { perUser: 10_000, total: 10_000 };
      // 1,200 places held over 3 users (so over shards), more than two pages of the scan.
      const held = Array.from({ length: 1200 }, (_, i) => ({ placeId: `held-${i}`, userId: `user-${i % 3}` }));
      const refusals = await Promise.all(held.map((p) => places.take(p.placeId, p.userId, limits)));
      expect(refusals.filter((r) => r !== undefined)).to.have.length(0);
      // Frees a failover undid: the user's half and the total's half, and a place only the total lists.
      for (const [placeId, userId] of [
        ['lost-a', 'user-0'],
        ['lost-b', 'user-2'],
      ]) {
        await raw.hset(k.ofUser(userId!).placesOf('i1'), placeId!, userId!);
        await raw.hincrby(k.ofUser(userId!).userPlaces, userId!, 1);
        await raw.hset(k.totalPlacesOf('i1'), placeId!, '1');
        await raw.hincrby(k.totalPlaces, 'i1', 1);
      }
      await raw.hset(k.totalPlacesOf('i1'), 'lost-c', '1');
      await raw.hincrby(k.totalPlaces, 'i1', 1);
      await raw.config('RESETSTAT');

      expect(await places.reconcile()).to.equal(3);
      expect(lines.filter((l) => l.level === 'warn').map((l) => l.userId)).to.have.members(['user-0', 'user-2', '']);

      const stats = await raw.info('commandstats');
      expect(stats).not.to.match(/cmdstat_hgetall:/, 'never the whole hash in one command');
      expect(Number(/cmdstat_hscan:calls=(\d+)/.exec(stats)?.[1])).to.be.at.least(4, 'a page at a time');
      expect(await raw.hget(k.totalPlaces, 'i1')).to.equal('1200');
      for (const user of ['user-0', 'user-1', 'user-2']) {
        expect(await raw.hget(k.ofUser(user).userPlaces, user)).to.equal('400', user);
      }
      expect(await places.reconcile()).to.equal(0, 'nothing left to free');
    } finally {
      places.close();
    }
  });
});
