import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import type { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { httpTools } from '../../src/tools/http-tools.js';
import { loadToolModules } from '../../src/tools/modules.js';
import { eventually } from '../helpers/core.js';
import { credentials } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskServiceClient as Client } from '../../gen/ts/taskmanager/v1/task_service.js';
import { call, expectCode, spawnServer, startTestServer, type TestServer } from '../helpers/server.js';

/** Tool modules and HTTP tools, the way users configure them. */
describe('tool sources', () => {
  const exec = { userId: '', channelId: '', platform: '', requestId: '' };

  describe('TypeScript tool modules', () => {
    let server: TestServer;
    let client: TaskServiceClient;
    before(async () => {
      const [module] = await loadToolModules(['test/fixtures/tools/text-tools.ts']);
      server = await startTestServer({}, { tools: module.tools });
      client = server.client;
    });
    after(() => server.close());

    it('runs a module\'s tools through Execute, with their schema enforced, listed as source "module"', async () => {
      const res = await call(client.execute, client, {
        ...exec,
        toolName: 'word_count',
        argumentsJson: '{"text":"one two  three"}',
      });
      expect(res.text).to.equal('3');
      const err = await expectCode(
        call(client.execute, client, { ...exec, toolName: 'word_count', argumentsJson: '{"txt":"x"}' }),
        status.INVALID_ARGUMENT,
      );
      expect(err.details).to.contain('field "text" is required');
      const { tools } = await call(client.listTools, client, {});
      expect(tools.find((t) => t.name === 'word_count')?.source).to.equal('module');
    });

    it('runs a tool with concurrency 1 one call at a time', async () => {
      const started = Date.now();
      const [a, b] = await Promise.all([
        call(client.execute, client, {
          ...exec,
          toolName: 'exclusive',
          argumentsJson: '{"ms":300}',
          timeoutSeconds: 5,
        }),
        call(client.execute, client, {
          ...exec,
          toolName: 'exclusive',
          argumentsJson: '{"ms":300}',
          timeoutSeconds: 5,
        }),
      ]);
      expect([a.text, b.text]).to.deep.equal(['held', 'held']);
      expect(Date.now() - started).to.be.at.least(590);
    });

    for (const [module, message] of [
      [
        'test/fixtures/tools/broken.ts',
        'tool module test/fixtures/tools/broken.ts failed to load: this module is broken on purpose',
      ],
      ['test/fixtures/tools/nothing.ts', 'tool module test/fixtures/tools/nothing.ts exports no tool'],
      [
        'test/fixtures/tools/clashing.ts',
        'tool "echo" is registered twice (example and module in test/fixtures/tools/clashing.ts)',
      ],
      ['test/fixtures/tools/missing.ts', 'tool module test/fixtures/tools/missing.ts failed to load'],
    ]) {
      it(`refuses to start with ${module.split('/').pop()}, saying why`, async () => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
          env: { ...process.env, TASKSERVICE_ADDR: '127.0.0.1:0', TASKSERVICE_TOOL_MODULES: module },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (c) => (stderr += c));
        expect(await new Promise((resolve) => child.on('exit', resolve))).to.equal(1);
        expect(stderr).to.contain(message);
      });
    }
  });

  it(
    'loads TASKSERVICE_TOOL_MODULES and TASKSERVICE_HTTP_TOOLS_FILE at start ' + "and lists each tool's source",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'taskservice-tools-'));
      const file = join(dir, 'http-tools.json');
      writeFileSync(
        file,
        JSON.stringify([
          { name: 'status_page', description: 'd', parameters: { type: 'object' }, url: 'http://127.0.0.1:9/status' },
        ]),
      );
      const server = await spawnServer({
        TASKSERVICE_TOOL_MODULES: 'test/fixtures/tools/text-tools.ts',
        TASKSERVICE_HTTP_TOOLS_FILE: file,
      });
      const client = new Client(server.address, credentials.createInsecure());
      try {
        const { tools } = await call(client.listTools, client, {});
        const sources = Object.fromEntries(tools.map((t) => [t.name, t.source]));
        expect(sources).to.include({
          word_count: 'module',
          exclusive: 'module',
          status_page: 'http',
          echo: 'example',
          check_task: 'meta',
        });
      } finally {
        client.close();
        server.child.kill('SIGTERM');
        await server.exited;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  describe('HTTP tools', () => {
    let endpoint: Server;
    let base: string;
    let server: TestServer;
    let client: TaskServiceClient;
    const seen: { method: string; url: string; auth?: string; body: string; aborted: boolean }[] = [];

    before(async () => {
      endpoint = createServer((req: IncomingMessage, res) => {
        const entry = { method: req.method!, url: req.url!, auth: req.headers.authorization, body: '', aborted: false };
        seen.push(entry);
        req.on('data', (c) => (entry.body += c));
        res.on('close', () => (entry.aborted = !res.writableFinished));
        req.on('end', () => {
          if (req.url!.startsWith('/fail')) res.writeHead(500).end('upstream exploded: ' + 'x'.repeat(2000));
          else if (req.url!.startsWith('/hang'))
            return; // never answers
          else
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(JSON.stringify({ echoed: entry.body || req.url }));
        });
      });
      await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
      const schema = { type: 'object', properties: { q: { type: 'string' } } };
      const file = JSON.stringify([
        {
          name: 'lookup',
          description: 'POSTs the arguments',
          parameters: schema,
          url: `${base}/lookup`,
          headers: { authorization: 'Bearer ${TOOL_TOKEN}' },
        },
        { name: 'search', description: 'GETs with a query', parameters: schema, url: `${base}/search`, method: 'GET' },
        { name: 'broken', description: 'always 500', parameters: schema, url: `${base}/fail` },
        {
          name: 'stuck',
          description: 'never answers',
          parameters: schema,
          url: `${base}/hang`,
          hard_timeout_seconds: 0.4,
        },
        { name: 'slow', description: 'never answers, no limit', parameters: schema, url: `${base}/hang` },
      ]);
      server = await startTestServer({}, { httpTools: httpTools(file, { TOOL_TOKEN: 's3cret' }, 'tools.json') });
      client = server.client;
    });
    after(async () => {
      await server.close();
      endpoint.closeAllConnections();
      await new Promise((r) => endpoint.close(r));
    });

    it('sends the arguments as the JSON body with the configured secret header, and returns the body', async () => {
      const res = await call(client.execute, client, { ...exec, toolName: 'lookup', argumentsJson: '{"q":"weather"}' });
      expect(JSON.parse(res.text)).to.deep.equal({ echoed: '{"q":"weather"}' });
      expect(seen.at(-1)).to.include({ method: 'POST', auth: 'Bearer s3cret' });
    });

    it('sends GET arguments as query parameters', async () => {
      const res = await call(client.execute, client, { ...exec, toolName: 'search', argumentsJson: '{"q":"a b"}' });
      expect(JSON.parse(res.text)).to.deep.equal({ echoed: '/search?q=a+b' });
    });

    it('fails the task with the status and a bounded excerpt of the body on a non-2xx answer', async () => {
      const res = await call(client.execute, client, { ...exec, toolName: 'broken', argumentsJson: '{}' });
      expect(res.task).to.include({
        status: TaskStatus.TASK_STATUS_FAILED,
        failureReason: FailureReason.FAILURE_REASON_TOOL_ERROR,
      });
      expect(res.task!.error).to.match(/^HTTP 500 from broken: upstream exploded: x+$/);
      expect(res.task!.error.length).to.be.below(600);
    });

    it('aborts a request past its timeout and fails the task as hard_timeout', async () => {
      const res = await call(client.execute, client, {
        ...exec,
        toolName: 'stuck',
        argumentsJson: '{}',
        timeoutSeconds: 5,
      });
      expect(res.task!.failureReason).to.equal(FailureReason.FAILURE_REASON_HARD_TIMEOUT);
      await eventually(() => seen.at(-1)!.aborted);
    });

    it('aborts the request when the task is cancelled', async () => {
      const res = await call(client.execute, client, {
        ...exec,
        toolName: 'slow',
        argumentsJson: '{}',
        timeoutSeconds: 0.1,
      });
      expect(res.backgrounded).to.equal(true);
      const request = seen.at(-1)!;
      expect(request.aborted).to.equal(false);
      await call(client.cancelTask, client, { taskId: res.task!.taskId, userId: '' });
      await eventually(() => request.aborted);
    });

    it('refuses a file whose secret is not in the environment, naming the tool and the variable', () => {
      const file = JSON.stringify([{ name: 'x', description: 'd', parameters: {}, url: 'http://h/${NOPE}' }]);
      expect(() => httpTools(file, {}, 'tools.json')).to.throw(
        'tools.json: tool 0 (x): url needs ${NOPE}, which is not set in the environment',
      );
    });
  });
});
