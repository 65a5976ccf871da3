import { expect } from 'chai';
import { keySlot, RedisKeys, shardTag } from '../../src/store/redis/keys.js';
import { redisStore } from '../helpers/stores.js';

describe('RedisKeys: the sharded layout', () => {
  it("keeps one shard's keys exactly where they were before sharding (the seed's names)", () => {
    const keys = new RedisKeys('sg:');
    const shard = keys.of('abc');
    expect([
      shard.task('abc'),
      shard.allIndex,
      shard.userIndex('u'),
      shard.request('u', 'r'),
      shard.events,
    ]).to.deep.equal(['sg:task:abc', 'sg:idx:all', 'sg:idx:user:u', 'sg:req:u:r', 'sg:events']);
    expect(shard.instances).to.equal(keys.instances);
  });

  it('puts every key of a task in its shard, under a hash tag of that shard alone', () => {
    const keys = new RedisKeys('{sg}:', 8);
    const tags = new Set<string>();
    for (const shard of keys.shards) {
      const tag = /\{([^}]*)\}/.exec(shard.prefix)![1]!;
      tags.add(tag);
      expect(shard.prefix.startsWith('sg:{'), 'the prefix loses its own tag').to.equal(true);
      for (const key of [shard.task('t'), shard.output('t'), shard.allIndex, shard.expiring, shard.running('i')]) {
        expect(/\{([^}]*)\}/.exec(key)![1]).to.equal(tag);
      }
    }
    expect(tags.size).to.equal(8);
    // What belongs to no task stays on the prefix, the control slot.
    expect(keys.instances).to.equal('{sg}:instances');
  });

  it('spreads the shards evenly over the 16384 slots, one per equal range', () => {
    for (const n of [2, 3, 16, 100]) {
      for (let s = 0; s < n; s++) {
        const slot = keySlot(shardTag(s, n));
        expect(slot).to.be.at.least(Math.floor((s * 16384) / n));
        expect(slot).to.be.below(Math.floor(((s + 1) * 16384) / n));
      }
    }
  });

  it('places a task by its id alone, and spreads ids evenly over the shards', () => {
    const keys = new RedisKeys('sg:', 4);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 8000; i++) counts[keys.shardOf(`id-${i}-${i * 7919}`)]!++;
    for (const n of counts) expect(n).to.be.within(1700, 2300);
    expect(keys.shardOf('same id')).to.equal(keys.shardOf('same id'));
  });

  it("gives a task with a request id an id in its claim's shard, so a retry finds the claim", () => {
    const store = redisStore('redis://127.0.0.1:1', { shards: 16 });
    try {
      const keys = new RedisKeys('x:', 16);
      for (let i = 0; i < 50; i++) {
        const id = store.taskIdFor('alice', `req-${i}`);
        expect(id).to.match(/^[0-9a-f-]{36}$/);
        expect(keys.shardOf(id)).to.equal(keys.shardOfClaim('alice', `req-${i}`));
      }
    } finally {
      void store.close();
    }
  });
});
