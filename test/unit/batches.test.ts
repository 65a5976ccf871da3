import { expect } from 'chai';
import { Batches, earliestDeadline } from '../../src/store/redis/batches.js';

describe('Batches', () => {
  it('sends the items of one turn together, one send per key, and answers each with its own result', async () => {
    const sent: [string, number[]][] = [];
    const batches = new Batches<number, number>(async (key, items) => {
      sent.push([key, items]);
      return items.map((i) => i * 10);
    });
    const answers = await Promise.all([batches.add('a', 1), batches.add('b', 2), batches.add('a', 3)]);
    expect(answers).to.deep.equal([10, 20, 30]);
    expect(sent).to.deep.equal([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
    // A later turn is a batch of its own.
    expect(await batches.add('a', 4)).to.equal(40);
    expect(sent).to.have.length(3);
  });

  it("fails only the failing key's items, and every item of a batch answered with the wrong count", async () => {
    const batches = new Batches<string, string>(async (key, items) => {
      if (key === 'down') throw new Error('redis down');
      if (key === 'short') return items.slice(1);
      return items;
    });
    const settled = await Promise.allSettled([
      batches.add('down', 'x'),
      batches.add('up', 'y'),
      batches.add('short', 'p'),
      batches.add('short', 'q'),
      batches.add('thrown', 'z'),
    ]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).to.deep.equal([
      'redis down',
      'y',
      'a batch of 2 got 1 results',
      'a batch of 2 got 1 results',
      'z',
    ]);
  });

  it('turns a send that throws before returning a promise into a rejection of its items', async () => {
    const batches = new Batches<number, number>((key) => {
      if (key === 'bad') throw new Error('bug');
      return Promise.resolve([1]);
    });
    const settled = await Promise.allSettled([batches.add('bad', 1), batches.add('good', 2)]);
    expect(settled[0]).to.deep.include({ status: 'rejected' });
    expect(settled[1]).to.deep.equal({ status: 'fulfilled', value: 1 });
  });

  it('bounds a batch by the earliest deadline of its items, or none when one item has none', () => {
    expect(earliestDeadline([{ deadline: 30 }, { deadline: 10 }, { deadline: 20 }])).to.equal(10);
    expect(earliestDeadline([{ deadline: 30 }, {}])).to.equal(undefined);
  });
});
