import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { REDACTED } from '../../src/logging.js';

/**
 * Runs `body` in a child process with `log` = createLogger(...) writing to the
 * child's real stdout (a pipe), which is what the sink must cope with.
 * `readAfterMs`: nobody reads the pipe for that long.
 */
async function logInChild(
  body: string,
  readAfterMs = 0,
  logToolArguments = false,
): Promise<{ code: number | null; out: string; stderr: string }> {
  const script = `import('./src/logging.ts').then(({ createLogger }) => {
    const log = createLogger({ logLevel: 'info', instanceId: 'test', logToolArguments: ${logToolArguments} });
    ${body}
  });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  child.stdout.pause();
  await new Promise((resolve) => setTimeout(resolve, readAfterMs));
  child.stdout.on('data', (c) => (out += c));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out, stderr };
}

describe('the log sink', function () {
  this.timeout(30_000);

  it(
    'survives a reader that stops reading (a full, non-blocking stdout pipe): it waits a little, ' +
      'then drops and counts',
    async () => {
      // A burst of 200,000 log lines into a pipe nobody reads for a while crashed the server with EAGAIN.
      const { code, out, stderr } = await logInChild(
        `for (let i = 0; i < 200000; i++) log.warn({ i }, 'burst'); log.info('done');`,
        1500,
      );
      expect(stderr).not.to.contain('EAGAIN');
      expect(code).to.equal(0);
      expect(out).to.contain('"msg":"done"');
    },
  );

  it('redacts credentials wherever they sit in a logged object', async () => {
    expect(REDACTED).to.include.members(['authorization', '*.authorization', '*.*.token']);
    const { out } = await logInChild(
      `log.info({ headers: { authorization: 'Bearer s3cret-1' }, token: 's3cret-2', ` +
        `platform: { hook: { secret: 's3cret-3' } } }, 'with secrets');`,
    );
    expect(out).to.contain('with secrets').and.contain('[redacted]');
    expect(out).not.to.match(/s3cret-\d/);
  });

  it('redacts tool arguments unless TASKSERVICE_LOG_TOOL_ARGUMENTS is on', async () => {
    const body =
      `log.info({ arguments: 'a-private-1', call: { argumentsJson: 'a-private-2' }, ` +
      `args: { x: 'a-private-3' } }, 'with arguments');`;
    const hidden = await logInChild(body);
    expect(hidden.out).to.contain('with arguments').and.contain('[redacted]');
    expect(hidden.out).not.to.match(/a-private-\d/);
    const shown = await logInChild(body, 0, true);
    expect(shown.out).to.contain('a-private-1').and.contain('a-private-2').and.contain('a-private-3');
  });

  it('writes the lines of a turn together, and still every one of them when the process exits at once', async () => {
    const { code, out } = await logInChild(
      `for (let i = 0; i < 5; i++) log.info({ i }, 'before exit'); process.exit(3);`,
    );
    expect(code).to.equal(3);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).i),
    ).to.deep.equal([0, 1, 2, 3, 4]);
  });
});
