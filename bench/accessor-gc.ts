/**
 * Why an ioredis pipeline outlives its page in V8's young generation (docs/PERFORMANCE.md, scenario 5): its
 * constructor gives each instance its own `length` getter (`Object.defineProperty(this, "length", { get })`,
 * ioredis/built/Pipeline.js). An accessor defined on an instance gets the instance a new hidden class, made in
 * old space, which holds the getter; the getter's closure holds the instance and all it refers to. A
 * scavenge takes every pointer from old space into the young generation as a root, so each such object's
 * graph is copied, then promoted, until a mark-compact finds the hidden class dead.
 *
 *   node --trace-gc-nvp --import tsx bench/accessor-gc.ts [--accessor]
 *
 * 200,000 objects, each holding 30 small ones, made and dropped; with `--accessor`, each defines its own getter.
 */
import { flag } from './lib/args.js';

const ACCESSOR = flag('accessor');

class Holder {
  readonly items = Array.from({ length: 30 }, (_, i) => ({ i, text: `v${i}` }));

  constructor() {
    if (ACCESSOR) {
      // What ioredis's Pipeline constructor does.
      const self = this;
      Object.defineProperty(this, 'length', {
        get() {
          return self.items.length;
        },
      });
    }
  }
}

let total = 0;
for (let n = 0; n < 200_000; n++) {
  total += new Holder().items.length;
  if (n % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
}
console.log(`made ${total / 30} holders${ACCESSOR ? ', each with its own getter' : ''}`);
