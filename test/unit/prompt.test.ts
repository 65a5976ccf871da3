import { expect } from 'chai';
import { answerFromLine } from '../../src/cli/prompt.js';

describe('answerFromLine (the CLI prompt of a waiting task)', () => {
  const oneString = '{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}';
  const oneBoolean = '{"type":"object","properties":{"ok":{"type":"boolean"}}}';
  const two = '{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}';

  it('takes a JSON object as it is, and plain text for a schema of one string', () => {
    expect(answerFromLine(' {"a":"x","b":2} ', two)).to.deep.equal({ a: 'x', b: 2 });
    expect(answerFromLine('  eu-west-1 ', oneString)).to.deep.equal({ answer: 'eu-west-1' });
  });

  it('reads yes and no for a schema of one boolean', () => {
    expect(answerFromLine('Yes', oneBoolean)).to.deep.equal({ ok: true });
    expect(answerFromLine('n', oneBoolean)).to.deep.equal({ ok: false });
  });

  it('asks for JSON otherwise, saying why', () => {
    expect(() => answerFromLine('{nope', two)).to.throw('that is not valid JSON');
    expect(() => answerFromLine('maybe', oneBoolean)).to.throw('answer with a JSON object matching the schema');
    expect(() => answerFromLine('x', two)).to.throw(two);
  });
});
