import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/layers', import.meta.url));
const rules = (createRequire(import.meta.url)(`${root}/.dependency-cruiser.cjs`) as { forbidden: { name: string }[] })
  .forbidden;

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Runs the project's layer rules over the fixture's miniature src/, in which every file breaks one. */
async function violationsInFixture(): Promise<Violation[]> {
  const cli = `${root}/node_modules/.bin/depcruise`;
  const args = ['src', '--config', `${root}/.dependency-cruiser.cjs`, '--output-type', 'json'];
  // depcruise exits with the number of violations: non-zero is the expected outcome here.
  const { stdout } = await run(cli, args, { cwd: fixture }).catch((err: { code?: number; stdout?: string }) => {
    if (!err.stdout) throw err;
    return { stdout: err.stdout };
  });
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('layer rules (.dependency-cruiser.cjs)', function () {
  this.timeout(60_000);
  let violations: Violation[];

  before(async () => {
    violations = await violationsInFixture();
  });

  const caught = (rule: string, from: string) => violations.some((v) => v.rule.name === rule && v.from === from);

  it('refuses the core importing the gRPC layer or a gRPC package', () => {
    expect(caught('core-imports-only-core', 'src/core/task.ts')).to.equal(true);
    expect(caught('core-imports-only-core', 'src/core/clock.ts')).to.equal(true);
    expect(caught('only-grpc-and-client-speak-grpc', 'src/core/clock.ts')).to.equal(true);
  });

  it('refuses the client importing the server, config importing a store, the Redis store importing workers', () => {
    expect(caught('client-imports-only-client-and-gen', 'src/client/errors.ts')).to.equal(true);
    expect(caught('config-imports-no-store', 'src/config.ts')).to.equal(true);
    expect(caught('redis-store-imports-no-workers', 'src/store/redis/keys.ts')).to.equal(true);
    expect(caught('stores-know-no-front-door-or-tools', 'src/store/memory.ts')).to.equal(true);
  });

  it('refuses gRPC reaching a store, Redis outside the store, the composition root imported, and cycles', () => {
    expect(caught('grpc-translates-only', 'src/grpc/status.ts')).to.equal(true);
    expect(caught('only-stores-speak-redis', 'src/tools/cache.ts')).to.equal(true);
    expect(caught('composition-root-is-imported-by-process-entry-only', 'src/tools/cache.ts')).to.equal(true);
    expect(caught('no-circular', 'src/workers/hub.ts')).to.equal(true);
    expect(caught('mcp-translates-only', 'src/mcp/server.ts')).to.equal(true);
    expect(caught('console-translates-only', 'src/console/api.ts')).to.equal(true);
    expect(caught('only-mcp-speaks-mcp', 'src/tools/mcp-tool.ts')).to.equal(true);
    expect(caught('mcp-tool-source-speaks-only-the-client-sdk', 'src/tools/mcp/connection.ts')).to.equal(true);
  });

  it('has no rule that the fixture leaves untested', () => {
    const fired = new Set(violations.map((v) => v.rule.name));
    expect(rules.map((r) => r.name).filter((name) => !fired.has(name))).to.deep.equal([]);
  });

  it('reports the fifteen deliberate breaks of the fixture and nothing else', () => {
    expect(violations).to.have.length(15);
  });
});
