import { expect } from 'chai';
import { defineTool } from '../../src/tools/define.js';
import { echo } from '../../src/tools/examples.js';
import { ToolRegistry } from '../../src/tools/registry.js';

describe('ToolRegistry', () => {
  const tool = (name: string, extra = {}) =>
    defineTool({ name, description: 'd', parameters: { type: 'object' }, handler: () => 'x', ...extra });

  it('refuses a duplicate name, naming both sources', () => {
    const registry = new ToolRegistry();
    registry.register(echo, 'example');
    expect(() => registry.register(echo, 'module')).to.throw('tool "echo" is registered twice (example and module)');
  });

  it('refuses names a model could not call and limits that make no sense', () => {
    const registry = new ToolRegistry();
    expect(() => registry.register(tool('Bad-Name'), 't')).to.throw(/must match/);
    expect(() => registry.register(tool('ok', { timeout: -1 }), 't')).to.throw(/timeout must be a positive number/);
    expect(() => registry.register(tool('ok2', { parameters: { type: 'nonsense' } }), 't')).to.throw(
      /not a valid JSON Schema/,
    );
  });

  it('lists tools sorted by name with their source', () => {
    const registry = new ToolRegistry();
    registry.register(tool('zeta'), 'module');
    registry.register(tool('alpha'), 'example');
    expect(registry.list().map((t) => [t.name, t.source])).to.deep.equal([
      ['alpha', 'example'],
      ['zeta', 'module'],
    ]);
  });
});
