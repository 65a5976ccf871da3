import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);

/** grpcurl from PATH or from `go install` (GOPATH/bin); the suite fails if neither has it. */
async function grpcurlPath(): Promise<string> {
  const gopath = (await run('go', ['env', 'GOPATH']).catch(() => ({ stdout: '' }))).stdout.trim();
  const candidates = [...(process.env.PATH ?? '').split(':'), gopath && join(gopath, 'bin')].filter(Boolean);
  const found = candidates.map((dir) => join(dir, 'grpcurl')).find((p) => existsSync(p));
  if (!found)
    throw new Error('grpcurl is not installed: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4');
  return found;
}

/** The operator's view: the real grpcurl, through server reflection only (no .proto files). */
describe('grpcurl against the server (reflection)', () => {
  let server: TestServer;
  let grpcurl: string;
  const cli = async (...args: string[]) => (await run(grpcurl, ['-plaintext', ...args], { timeout: 20_000 })).stdout;

  before(async () => {
    grpcurl = await grpcurlPath();
    server = await startTestServer();
  });
  after(() => server.close());

  it('lists TaskService and Health', async () => {
    const services = (await cli(server.address, 'list')).trim().split('\n');
    expect(services).to.include.members(['taskmanager.v1.TaskService', 'grpc.health.v1.Health']);
  });

  it('describes the service, its messages and the health service', async () => {
    const service = await cli(server.address, 'describe', 'taskmanager.v1.TaskService');
    for (const rpc of [
      'Execute',
      'GetResult',
      'AwaitResult',
      'ListTasks',
      'SetOutputRedirect',
      'CancelTask',
      'ListTools',
      'GetServerInfo',
    ]) {
      expect(service).to.contain(`rpc ${rpc}`);
    }
    expect(service).to.contain('returns ( stream .taskmanager.v1.AwaitResultResponse )');
    expect(await cli(server.address, 'describe', 'taskmanager.v1.Task')).to.contain(
      '.taskmanager.v1.TaskStatus status = 3;',
    );
    expect(await cli(server.address, 'describe', 'grpc.health.v1.Health')).to.contain('rpc Check');
    expect(JSON.parse(await cli(server.address, 'grpc.health.v1.Health/Check'))).to.deep.equal({ status: 'SERVING' });
  });

  it(
    'runs the README walkthrough: a 3 s tool with a 1 s budget comes back backgrounded, ' +
      'then AwaitResult streams it to COMPLETED',
    async () => {
      const started = Date.now();
      const executed = JSON.parse(
        await cli(
          '-d',
          '{"tool_name":"sleep","arguments_json":"{\\"seconds\\":3}","timeout_seconds":1}',
          server.address,
          'taskmanager.v1.TaskService/Execute',
        ),
      );
      // Not before the 1 s budget; backgrounded, so the server did not wait for the 3 s tool. The time
      // also holds grpcurl's start and its reflection calls, which a loaded machine stretches: no upper bound.
      expect(Date.now() - started).to.be.at.least(900);
      expect(executed.backgrounded).to.equal(true);
      const taskId = executed.task.taskId as string;
      expect(JSON.parse(executed.text)).to.include({ task_id: taskId, status: 'running' });

      const stream = await cli(
        '-d',
        JSON.stringify({ task_id: taskId }),
        server.address,
        'taskmanager.v1.TaskService/AwaitResult',
      );
      // grpcurl prints one JSON object per message, separated by blank lines.
      const messages = stream
        .trim()
        .split(/\n(?=\{)/)
        .map((m) => JSON.parse(m));
      expect(messages[0].kind).to.equal('UPDATE_KIND_SNAPSHOT');
      expect(messages.at(-1)).to.deep.include({ kind: 'UPDATE_KIND_TERMINAL', text: 'slept 3 s' });
      expect(messages.at(-1).task.status).to.equal('TASK_STATUS_COMPLETED');
    },
  );

  it('runs the README streams example: ExecuteStream prints ticks inline and backgrounded, then the end', async () => {
    const printed = await cli(
      '-d',
      '{"tool_name":"ticker","arguments_json":"{\\"count\\":4,\\"interval_seconds\\":0.2}","timeout_seconds":0.5}',
      server.address,
      'taskmanager.v1.TaskService/ExecuteStream',
    );
    const messages = printed
      .trim()
      .split(/\n(?=\{)/)
      .map((m) => JSON.parse(m));
    const text = messages.map((m) => m.output?.text ?? m.update?.output?.text ?? '').join('');
    expect(text).to.equal('tick 1\ntick 2\ntick 3\ntick 4\n');
    expect(messages.some((m) => m.answer?.backgrounded === true)).to.equal(true);
    expect(messages.at(-1).update).to.deep.include({ kind: 'UPDATE_KIND_TERMINAL', text: 'ticked 4' });
    const taskId = messages.find((m) => m.answer).answer.task.taskId as string;
    const read = JSON.parse(
      await cli(
        '-d',
        JSON.stringify({ task_id: taskId, output_offset: '7' }),
        server.address,
        'taskmanager.v1.TaskService/GetResult',
      ),
    );
    expect(read.output).to.deep.equal({ offset: '7', text: 'tick 2\ntick 3\ntick 4\n' });
  });

  it('shows a precise status for a bad call', async () => {
    const err = await cli('-d', '{"tool_name":"nope"}', server.address, 'taskmanager.v1.TaskService/Execute').catch(
      (e) => e,
    );
    expect(err.stderr).to.contain('Code: NotFound');
    expect(err.stderr).to.contain('unknown tool "nope"');
  });
});
