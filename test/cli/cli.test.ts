import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Runs the real CLI (bin/taskservice.mjs) as a process. With `tty`, inside a
 * pseudo-terminal made by Python's pty module, as a person's shell would run it.
 */
function runCli(args: string[], options: { tty?: boolean; env?: Record<string, string> } = {}): Promise<Ran> {
  const command = [process.execPath, 'bin/taskservice.mjs', ...args];
  const [file, ...argv] = options.tty
    ? ['python3', '-c', 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)', ...command]
    : command;
  const child = spawn(file!, argv, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('CLI (npx taskservice)', function () {
  this.timeout(60_000);
  let server: TestServer;
  let addr: string[];
  const userId = `cli-${process.pid}`;

  before(async () => {
    server = await startTestServer();
    addr = ['--addr', server.address, '--user', userId];
  });
  after(() => server.close());

  async function backgroundSleep(seconds: number): Promise<string> {
    const { code, out } = await runCli(['exec', 'sleep', JSON.stringify({ seconds }), '--timeout', '0.05', ...addr]);
    expect(code).to.equal(0);
    return JSON.parse(out).task_id as string;
  }

  it('exec prints the result of an inline call, and --json the whole answer', async () => {
    const plain = await runCli(['exec', 'echo', '{"text":"hello cli"}', ...addr]);
    expect(plain).to.deep.include({ code: 0, out: 'hello cli\n', err: '' });
    const json = await runCli(['exec', 'echo', '{"text":"x"}', '--json', ...addr]);
    const answer = JSON.parse(json.out);
    expect(answer).to.deep.include({ backgrounded: false, text: 'x' });
    expect(answer.task).to.include({ toolName: 'echo', status: 'TASK_STATUS_COMPLETED', userId });
  });

  it('exec exits 1 when the tool failed, and prints the envelope of a backgrounded call', async () => {
    const failed = await runCli(['exec', 'fail', '{"message":"boom"}', ...addr]);
    expect(failed.code).to.equal(1);
    expect(failed.out).to.include('boom');
    const taskId = await backgroundSleep(0.2);
    expect(taskId).to.be.a('string').and.not.empty;
  });

  it('exec --wait follows a backgrounded call to its result', async () => {
    const { code, out } = await runCli(['exec', 'sleep', '{"seconds":0.5}', '--budget', '0.05', '--wait', ...addr]);
    expect(code).to.equal(0);
    expect(out.trim().split('\n').at(-1)).to.equal('slept 0.5 s');
  });

  it('exec --wait prints the output as it is written, inline and after backgrounding, then the result', async () => {
    const { code, out } = await runCli([
      'exec',
      'ticker',
      '{"count":6,"interval_seconds":0.1}',
      '--budget',
      '0.25',
      '--wait',
      ...addr,
    ]);
    expect(code).to.equal(0);
    const lines = out.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('tick '))).to.deep.equal([1, 2, 3, 4, 5, 6].map((i) => `tick ${i}`));
    // Progress lines come between the ticks after the call went to the background.
    expect(lines.indexOf('tick 6')).to.be.greaterThan(lines.findIndex((l) => /^progress \d+%/.test(l)));
    expect(lines.at(-1)).to.equal('ticked 6');
  });

  it('await prints the output written so far and then as it comes; in a terminal above the bar', async () => {
    const { out: envelope } = await runCli([
      'exec',
      'ticker',
      '{"count":8,"interval_seconds":0.1}',
      '--budget',
      '0.05',
      ...addr,
    ]);
    const taskId = JSON.parse(envelope).task_id as string;
    await new Promise((r) => setTimeout(r, 300));
    const piped = await runCli(['await', taskId, ...addr]);
    expect(piped.out.split('\n').filter((l) => l.startsWith('tick '))).to.have.length(8);
    const tty = await runCli(['await', taskId, ...addr], { tty: true });
    expect(tty.out.replace(/\r?\n/g, '\n')).to.contain('tick 1\ntick 2\n');
    expect(tty.out).to.contain('ticked 8');
  });

  it('await prints plain progress lines when piped, then the result', async () => {
    const taskId = await backgroundSleep(1);
    const { code, out } = await runCli(['await', taskId, ...addr]);
    expect(code).to.equal(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).to.match(/^snapshot \d+% \d+\.\ds/);
    expect(lines.filter((l) => /^progress \d+% /.test(l)).length).to.be.greaterThan(0);
    expect(lines.at(-1)).to.equal('slept 1 s');
    expect(out).not.to.include('\r').and.not.include('\x1b');
  });

  it('await draws a live progress bar with the elapsed time in a terminal', async () => {
    const taskId = await backgroundSleep(1.5);
    const { code, out } = await runCli(['await', taskId, ...addr], { tty: true });
    expect(code).to.equal(0);
    // Redrawn in place: carriage return, clear line, then the bar.
    const frames = out.split('\r\x1b[2K').filter((f) => f.startsWith('['));
    expect(frames.length, out).to.be.greaterThan(2);
    for (const frame of frames) expect(frame).to.match(/^\[[#-]{24}\] +\d+% +\d+\.\ds  /);
    const percents = frames.map((f) => Number(/(\d+)%/.exec(f)![1]));
    expect(Math.max(...percents)).to.be.greaterThan(Math.min(...percents));
    expect(out).to.include('slept 1.5 s');
  });

  it('await shows a question and how to answer it; answer gives the answer and the tool goes on', async () => {
    const asked = await runCli(['exec', 'ask', '{"question":"Deploy now?"}', ...addr]);
    const envelope = JSON.parse(asked.out.trim().split('\n').at(-1)!);
    expect(envelope).to.include({ status: 'input_required', question: 'Deploy now?' });
    const taskId = envelope.task_id as string;
    // A short wait: the question is shown, and the wait ends with the task still waiting.
    const shown = await runCli(['await', taskId, '--timeout', '0.5', ...addr]);
    expect(shown.out).to.contain(
      `waiting for input: Deploy now?\n  answer with: taskservice answer ${taskId} '<json>'`,
    );
    const bad = await runCli(['answer', taskId, '{"answer":42}', ...addr]);
    expect(bad.code).to.equal(3);
    expect(bad.err).to.contain('field "answer" must be string');
    const answered = await runCli(['answer', taskId, '{"answer":"yes"}', ...addr]);
    expect(answered.code).to.equal(0);
    expect(answered.out).to.equal(`${taskId} running\n`);
    const { code, out } = await runCli(['await', taskId, ...addr]);
    expect(code).to.equal(0);
    expect(out.trim().split('\n').at(-1)).to.equal('answer: yes');
  });

  it("await in a terminal asks a waiting task's question at a prompt and sends the typed answer", async () => {
    const asked = await runCli(['exec', 'ask', '{"question":"Your name?"}', ...addr]);
    const { task_id: taskId } = JSON.parse(asked.out.trim().split('\n').at(-1)!) as { task_id: string };
    const driver = [
      'test/fixtures/cli/pty-answer.py',
      'answer> ',
      'Ada',
      process.execPath,
      'bin/taskservice.mjs',
      'await',
      taskId,
      ...addr,
    ];
    const child = spawn('python3', driver, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(out).to.contain('waiting for input: Your name?');
    expect(code, out).to.equal(0);
    // Plain text filled the one string property of the schema.
    expect(out).to.contain('answer: Ada');
  });

  it('await exits 1 for a task that failed (cancelled) and get shows it', async () => {
    const taskId = await backgroundSleep(30);
    const cancelled = await runCli(['cancel', taskId, ...addr]);
    expect(cancelled.code).to.equal(0);
    expect(cancelled.out).to.equal(`${taskId} failed (cancelled): cancelled by request\n`);
    const awaited = await runCli(['await', taskId, ...addr]);
    expect(awaited.code).to.equal(1);
    const got = await runCli(['get', taskId, '--json', ...addr]);
    expect(JSON.parse(got.out).task).to.include({
      taskId,
      status: 'TASK_STATUS_FAILED',
      failureReason: 'FAILURE_REASON_CANCELLED',
    });
  });

  it("ls prints the user's tasks as a table, filtered by status", async () => {
    const user = ['--addr', server.address, '--user', `ls-${process.pid}`];
    await runCli(['exec', 'sleep', '{"seconds":30}', '--timeout', '0.01', ...user]);
    await runCli(['exec', 'sleep', '{"seconds":0.01}', '--request-id', `done-${process.pid}`, ...user]);
    const all = await runCli(['ls', ...user]);
    const [header, ...rows] = all.out.trim().split('\n');
    expect(header).to.match(/^TASK ID +TOOL +STATUS +PROGRESS +AGE +OUTPUT$/);
    expect(rows).to.have.length(2);
    const running = await runCli(['ls', '--status', 'running', '--json', ...user]);
    const tasks = JSON.parse(running.out) as { status: string; taskId: string }[];
    expect(tasks.map((t) => t.status)).to.deep.equal(['TASK_STATUS_RUNNING']);
    await runCli(['cancel', tasks[0]!.taskId, ...user]);
  });

  it('tools lists every tool with its source', async () => {
    const { code, out } = await runCli(['tools', '--addr', server.address]);
    expect(code).to.equal(0);
    expect(out.split('\n')[0]).to.match(/^NAME +SOURCE +WORKERS +BACKGROUND +BUDGET +AVAILABLE +DESCRIPTION$/);
    expect(out).to.match(/^echo +example +yes +10s +yes +Returns/m);
    expect(out).to.match(/^check_task +meta +no /m);
  });

  it("--version prints the release; version adds the server's", async () => {
    const release = readFileSync(new URL('../../VERSION', import.meta.url), 'utf8').trim();
    expect(await runCli(['--version'])).to.include({ code: 0, out: `taskservice ${release}\n` });
    const both = await runCli(['version', '--addr', server.address]);
    expect(both).to.include({ code: 0, out: `client ${release}\nserver ${release} (taskmanager.v1)\n` });
    const json = await runCli(['version', '--json', '--addr', server.address]);
    expect(JSON.parse(json.out)).to.deep.equal({
      client: release,
      server: { version: release, apiPackages: ['taskmanager.v1'] },
    });
  });

  it('says what went wrong: exit 3 with the status for a refused call, exit 2 for a usage mistake', async () => {
    const missing = await runCli(['get', 'task_00000000000000000000', ...addr]);
    expect(missing.code).to.equal(3);
    expect(missing.err).to.match(/^taskservice get: NOT_FOUND: /);
    const usage = await runCli(['ls', '--status', 'sideways', ...addr]);
    expect(usage.code).to.equal(2);
    expect(usage.err).to.include('--status must be one of running, input_required, completed, failed');
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).to.equal(2);
    expect(unknown.err).to.include('unknown command "frobnicate"');
  });

  it('sends the token from --token or TASKSERVICE_TOKEN', async () => {
    const token = '0123456789abcdef0123';
    const secured = await startTestServer({ TASKSERVICE_AUTH_TOKENS: JSON.stringify({ t: { token, users: '*' } }) });
    try {
      const refused = await runCli(['tools', '--addr', secured.address]);
      expect(refused.code).to.equal(3);
      expect(refused.err).to.include('UNAUTHENTICATED');
      expect((await runCli(['tools', '--addr', secured.address, '--token', token])).code).to.equal(0);
      expect((await runCli(['tools', '--addr', secured.address], { env: { TASKSERVICE_TOKEN: token } })).code).to.equal(
        0,
      );
    } finally {
      await secured.close();
    }
  });

  it('serve --help lists the settings with their defaults and exits 0 without starting a server', async () => {
    const { code, out, err } = await runCli(['serve', '--help'], { env: { TASKSERVICE_ADDR: 'not an address' } });
    expect({ code, err }).to.deep.equal({ code: 0, err: '' });
    expect(out).to.match(/^Usage: taskservice serve\n/);
    expect(out).to.match(/^ {2}TASKSERVICE_ADDR=127\.0\.0\.1:50051 +host:port \(port 0 = a free port\)$/m);
    expect(out).to.match(/^ {2}TASKSERVICE_REDIS_PREFIX=sg: +1–64 chars, no spaces or \*$/m);
  });

  it('serve runs the server until SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/taskservice.mjs', 'serve'], {
      env: { ...process.env, TASKSERVICE_ADDR: '127.0.0.1:0', REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const listening = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        out += c;
        const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
        if (line) resolve(JSON.parse(line).address as string);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
    });
    const address = await listening;
    const tools = await runCli(['tools', '--addr', address]);
    expect(tools.code).to.equal(0);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
  });

  it(
    'npm start runs the bundle (npm run build: dist/main.mjs), ' + 'which still loads TypeScript tool modules',
    async () => {
      const build = spawn('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let buildErr = '';
      build.stderr.on('data', (c) => (buildErr += c));
      expect(await new Promise((resolve) => build.on('exit', resolve)), buildErr).to.equal(0);
      const child = spawn(process.execPath, ['dist/main.mjs'], {
        env: {
          ...process.env,
          TASKSERVICE_ADDR: '127.0.0.1:0',
          REDIS_URL: '',
          TASKSERVICE_TOOL_MODULES: 'test/fixtures/tools/text-tools.ts',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const address = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c) => {
          out += c;
          const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
          if (line) resolve(JSON.parse(line).address as string);
        });
        child.on('exit', (code) => reject(new Error(`dist/main.mjs exited with ${code}: ${out}`)));
      });
      try {
        const tools = await runCli(['tools', '--json', '--addr', address]);
        const sources = Object.fromEntries(
          (JSON.parse(tools.out) as { name: string; source: string }[]).map((t) => [t.name, t.source]),
        );
        expect(Object.values(sources)).to.include('module');
        expect(sources.echo).to.equal('example');
      } finally {
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGTERM');
        expect(await exited).to.equal(0);
      }
    },
  );
});
