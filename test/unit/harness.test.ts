import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
const fixture = (name: string) => `test/fixtures/leaks/${name}.ts`;

describe('the test harness (test/helpers/harness.ts)', function () {
  this.timeout(60_000);

  it(
    'fails each file that leaves a timer or an open store behind, naming it and what leaked, ' +
      'and passes a clean one',
    async () => {
      // A mocha of its own, with the repository's .mocharc.json (so the harness); --exit because the leaked
      // timer would hold it for a minute.
      const files = ['leaky-timer', 'clean', 'leaky-owner'].map(fixture);
      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = execFile(process.execPath, [mocha, '--exit', ...files], {
          env: { ...process.env, TEST_LEAK_SETTLE_MS: '200' },
        });
        let output = '';
        child.stdout!.on('data', (chunk) => (output += chunk));
        child.stderr!.on('data', (chunk) => (output += chunk));
        child.on('close', (exitCode) => resolve({ code: exitCode, output }));
      });
      expect(code, output).to.not.equal(0);
      expect(output).to.contain('3 passing').and.contain('2 failing');
      expect(output).to.contain(`${fixture('leaky-timer')} left behind: 1 Timeout`);
      expect(output).to.match(
        /test\/fixtures\/leaks\/leaky-owner\.ts left behind: 1 unref'd Timeout set at src\/store\/memory\.ts:\d+/,
      );
      expect(output).to.not.contain(`${fixture('clean')} left behind`);
    },
  );
});
