import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { COPIES, problems, readVersion } from '../../scripts/version.mjs';
import { VERSION as clientVersion } from '../../src/client/version.js';
import { VERSION as serverVersion } from '../../src/version.js';

describe('one version for every package (VERSION, scripts/version.mjs)', () => {
  it('finds VERSION in every copy: npm packages, Python projects, the Go client, server and client', () => {
    expect(problems()).to.deep.equal([]);
    expect(serverVersion).to.equal(readVersion());
    expect(clientVersion).to.equal(readVersion());
  });

  it('covers every package manifest of the repository', () => {
    const files = COPIES.map((c) => c.file);
    for (const manifest of ['package.json', 'clients/typescript/package.json', 'clients/python/pyproject.toml']) {
      expect(files).to.include(manifest);
    }
    expect(readFileSync(new URL('../../CHANGELOG.md', import.meta.url), 'utf8')).to.contain(`## ${readVersion()}`);
  });
});
