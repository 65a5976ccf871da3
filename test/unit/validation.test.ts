import { expect } from 'chai';
import { InvalidArgument } from '../../src/core/errors.js';
import { checkDepth, checkSize } from '../../src/core/validation.js';

const depth = (value: unknown, max: number) => () =>
  checkDepth(value, max, 'arguments_json', 'TASKSERVICE_MAX_JSON_DEPTH');
const size = (text: string, max: number) => () =>
  checkSize(text, max, 'arguments_json', 'TASKSERVICE_MAX_ARGUMENTS_BYTES');

describe('argument limits', () => {
  it('counts nesting through objects and arrays, wherever the deepest branch is', () => {
    const wideThenDeep = { a: 1, b: [1, 2], c: { d: 'x' }, e: { f: { g: [{ h: 1 }] } } }; // e.f.g[0]: 5 levels
    expect(depth(wideThenDeep, 5)).not.to.throw();
    expect(depth(wideThenDeep, 4)).to.throw(InvalidArgument, 'nests deeper than 4 levels (TASKSERVICE_MAX_JSON_DEPTH)');
    expect(depth([[[[]]]], 4)).not.to.throw();
    expect(depth([[[[[]]]]], 4)).to.throw(InvalidArgument);
    // A scalar or a flat object is one level at most.
    expect(depth('text', 0)).not.to.throw();
    expect(depth({ a: 1, b: 'two', c: null }, 1)).not.to.throw();
    expect(depth({ a: {} }, 1)).to.throw(InvalidArgument);
  });

  it('measures size in UTF-8 bytes, also when a text is too long to pass unmeasured', () => {
    // 700 "é" are 2,100 bytes at most by their length (3 per unit) but 1,400 in fact: allowed.
    expect(size('é'.repeat(700), 2048)).not.to.throw();
    expect(size('é'.repeat(1100), 2048)).to.throw(InvalidArgument, 'is 2200 bytes; the limit is 2048');
    expect(size('x'.repeat(2048), 2048)).not.to.throw();
    expect(size('x'.repeat(2049), 2048)).to.throw(InvalidArgument, 'is 2049 bytes');
    // Four bytes for a character outside the BMP: two UTF-16 units.
    expect(size('😀'.repeat(512), 2048)).not.to.throw();
    expect(size('😀'.repeat(513), 2048)).to.throw(InvalidArgument, 'is 2052 bytes');
  });
});
