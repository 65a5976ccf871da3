import { credentials } from '@grpc/grpc-js';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { TaskServiceClient, UpdateKind, type AwaitResultResponse } from '../../gen/ts/taskmanager/v1/task_service.js';
import { untilToolsRunning } from '../helpers/metrics.js';
import { freePort } from '../helpers/redis.js';
import { call, spawnServer } from '../helpers/server.js';

/** The server as its operators run it: its own process, signals, exit codes. */
describe('the server process', () => {
  it(
    'on SIGTERM finishes inline calls, ends background tasks as SHUTDOWN for their watchers, ' + 'and exits 0',
    async () => {
      const metricsPort = await freePort();
      const server = await spawnServer({
        TASKSERVICE_SHUTDOWN_GRACE_SECONDS: '5',
        TASKSERVICE_HTTP_ADDR: `127.0.0.1:${metricsPort}`,
      });
      const client = new TaskServiceClient(server.address, credentials.createInsecure());
      try {
        const exec = { userId: '', channelId: '', platform: '', requestId: '' };
        const bg = await call(client.execute, client, {
          ...exec,
          toolName: 'sleep',
          argumentsJson: '{"seconds":60}',
          timeoutSeconds: 0.05,
        });
        const updates: AwaitResultResponse[] = [];
        const watching = (async () => {
          for await (const m of client.awaitResult({ taskId: bg.task!.taskId, userId: '' })) updates.push(m);
        })();
        const inline = call(client.execute, client, {
          ...exec,
          toolName: 'sleep',
          argumentsJson: '{"seconds":0.6}',
          timeoutSeconds: 5,
        });
        await untilToolsRunning(metricsPort, 2); // the inline call is under way, not still on its way in
        server.child.kill('SIGTERM');

        expect((await inline).text).to.equal('slept 0.6 s');
        await watching;
        const last = updates.at(-1)!;
        expect(last.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
        expect(last.task?.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
        expect(last.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_SHUTDOWN);
        expect(await server.exited).to.equal(0);
        expect(server.lines.map((l) => l.msg)).to.include.members(['listening', 'shutting down', 'stopped']);
      } finally {
        client.close();
        server.child.kill('SIGKILL');
      }
    },
  );

  it('still exits on SIGTERM after whoever read its stdout has gone (EPIPE)', async () => {
    // A grace period far longer than the bound below: exiting inside the bound is not waiting it out.
    const server = await spawnServer({ TASKSERVICE_SHUTDOWN_GRACE_SECONDS: '60' });
    const closed = once(server.child.stdout!, 'close');
    server.child.stdout!.destroy();
    await closed;
    const started = Date.now();
    server.child.kill('SIGTERM');
    const hung = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
    const code = await server.exited;
    clearTimeout(hung);
    expect(code, 'exit code (null: killed after hanging for 15 s)').to.equal(0);
    expect(Date.now() - started).to.be.below(10_000);
  });

  it('exits promptly on SIGTERM right after clients disconnect, well inside the grace period', async () => {
    for (let round = 0; round < 3; round++) {
      const server = await spawnServer({ TASKSERVICE_SHUTDOWN_GRACE_SECONDS: '20' });
      const client = new TaskServiceClient(server.address, credentials.createInsecure());
      await call(client.listTools, client, {});
      client.close();
      const started = Date.now();
      server.child.kill('SIGTERM');
      expect(await server.exited).to.equal(0);
      // well inside 20 s, with room for a loaded machine
      expect(Date.now() - started, `round ${round}`).to.be.below(8000);
    }
  });

  it('refuses to start on a bad setting, naming the variable, with exit code 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, TASKSERVICE_ADDR: '127.0.0.1:0', TASKSERVICE_DEFAULT_TIMEOUT_SECONDS: 'soon' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).to.equal(2);
    expect(stderr).to.contain('TASKSERVICE_DEFAULT_TIMEOUT_SECONDS="soon" must be a number of seconds');
  });

  it('still reads a deprecated name, logging one warning for each that names what to use instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskservice-deprecated-'));
    const file = join(dir, 'http-tools.json');
    const tool = {
      name: 'status_page',
      description: 'd',
      parameters: {},
      url: 'http://127.0.0.1:9/',
      timeout_seconds: 5,
    };
    writeFileSync(file, JSON.stringify([tool]));
    const server = await spawnServer({ TASKSERVICE_DEFAULT_TIMEOUT_SECONDS: '7', TASKSERVICE_HTTP_TOOLS_FILE: file });
    try {
      const [variable, use] = ['TASKSERVICE_DEFAULT_TIMEOUT_SECONDS', 'TASKSERVICE_DEFAULT_BUDGET_SECONDS'];
      const warnings = server.lines.filter((l) => l.level === 40 && String(l.msg).includes('deprecated'));
      expect(warnings.map((w) => w.msg)).to.deep.equal([
        `${variable} is deprecated and still read: set ${use} instead`,
        `${file}: tool 0 (status_page): timeout_seconds is deprecated; call it hard_timeout_seconds`,
      ]);
      expect(warnings[0]).to.include({ variable, use });
      const client = new TaskServiceClient(server.address, credentials.createInsecure());
      const { tools } = await call(client.listTools, client, {});
      client.close();
      expect(tools.find((t) => t.name === 'echo')!.defaultTimeoutSeconds).to.equal(7);
      expect(tools.find((t) => t.name === 'status_page')!.hardTimeoutSeconds).to.equal(5);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).to.equal(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs JSON lines with the bound address when asked for port 0', async () => {
    const server = await spawnServer();
    try {
      expect(server.address).to.match(/^127\.0\.0\.1:\d+$/);
      expect(server.address).to.not.equal('127.0.0.1:0');
      const listening = server.lines.find((l) => l.msg === 'listening')!;
      expect(listening).to.include({ service: 'taskservice', level: 30 });
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).to.equal(0);
    }
  });
});
