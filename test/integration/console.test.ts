import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { eventually } from '../helpers/eventually.js';
import { RawWorker } from '../helpers/raw-worker.js';
import { consoleApi } from '../helpers/console-api.js';
import { call, startBackground, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The console's HTTP side (src/console/): the page and its security headers, the JSON API the pages use, and the
 * live feed, over real HTTP against a real server on the store under test. The pages themselves run in Chromium
 * in test/console/.
 */

const ALICE_TOKEN = 'console-alice-token';
const OPS_TOKEN = 'console-ops-token';
const TOKENS = JSON.stringify({
  'alice-console': { token: ALICE_TOKEN, users: ['alice'] },
  ops: { token: OPS_TOKEN, users: '*' },
});

describe('Operator console over HTTP (/console/)', function () {
  this.timeout(30_000);
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TASKSERVICE_HTTP_ADDR: '127.0.0.1:0' });
  });
  after(async () => {
    await server.close();
  });

  it('serves the page and its files from the service, with a strict Content-Security-Policy', async () => {
    const { base } = consoleApi(server);
    const page = await fetch(base);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).to.contain("default-src 'none'").and.contain("script-src 'self'").and.contain("frame-ancestors 'none'");
    expect(csp).to.not.contain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
    const html = await page.text();
    expect(html)
      .to.contain('src="console.js"')
      .and.not.match(/https?:\/\//);
    for (const file of ['console.js', 'console.css']) {
      const res = await fetch(`${base}${file}`);
      expect(res.status, file).to.equal(200);
      // Nothing fetched from elsewhere (the SVG namespace is a name, not a fetch).
      const text = (await res.text()).replaceAll('http://www.w3.org/2000/svg', '');
      expect(text, file).to.not.match(/https?:\/\//);
    }
    expect((await fetch(`${base}nothing.js`)).status).to.equal(404);
    const bare = await fetch(base.replace(/\/$/, ''), { redirect: 'manual' });
    expect(bare.status).to.equal(308);
  });

  it('lists tasks newest first with the same cursor as ListTasks, filtered by user, status and tool', async () => {
    const api = consoleApi(server);
    const user = `list-${Date.now()}`;
    const ids: string[] = [];
    // Backgrounded, so stored (an inline call without a request id is not).
    for (let i = 0; i < 3; i++) ids.push(await startBackground(server, 'sleep', { seconds: 0.05 }, user));
    const running = await startBackground(server, 'sleep', { seconds: 5 }, user);
    const firstResponse = await api.get(`tasks?user=${user}&page_size=2`);
    // The server's own time for the answer, which the bench reads.
    expect(firstResponse.headers.get('server-timing')).to.match(/^app;dur=\d+\.\d\d$/);
    const first = await firstResponse.json();
    expect(first.tasks.map((t: { taskId: string }) => t.taskId)).to.deep.equal([running, ids[2]]);
    const rest = await (await api.get(`tasks?user=${user}&page_size=2&page_token=${first.nextPageToken}`)).json();
    expect(rest.tasks.map((t: { taskId: string }) => t.taskId)).to.deep.equal([ids[1], ids[0]]);
    expect(rest.nextPageToken).to.equal('');
    const grpc = await call(server.client.listTasks, server.client, {
      userId: user,
      status: 0,
      toolName: '',
      pageSize: 2,
      pageToken: '',
    });
    expect(grpc.tasks.map((t) => t.taskId)).to.deep.equal([running, ids[2]]);
    await eventually(async () => {
      const onlyRunning = await (await api.get(`tasks?user=${user}&status=running`)).json();
      return onlyRunning.tasks.map((t: { taskId: string }) => t.taskId).join() === running;
    });
    const onlyEcho = await (await api.get(`tasks?user=${user}&tool=echo`)).json();
    expect(onlyEcho.tasks).to.deep.equal([]);
    const bad = await api.get(`tasks?status=sleeping`);
    expect(bad.status).to.equal(400);
    expect((await bad.json()).error).to.contain('status: must be one of running');
    await api.post(`tasks/${running}/cancel`, { user });
  });

  it('shows a task, cancels it with a JSON POST (FAILED / cancelled), and answers 404 for an unknown one', async () => {
    const api = consoleApi(server);
    const taskId = await startBackground(server, 'sleep', { seconds: 30 }, 'carol');
    const shown = await (await api.get(`tasks/${taskId}`)).json();
    expect(shown.task).to.include({ taskId, status: 'running', toolName: 'sleep', userId: 'carol' });
    expect(shown.task).to.not.have.property('inputAnswer');
    // A form post or a cross-origin "simple" request cannot act.
    const plain = await api.post(`tasks/${taskId}/cancel`, { user: 'carol' }, 'text/plain');
    expect(plain.status).to.equal(400);
    expect((await plain.json()).error).to.contain('application/json');
    const cancelled = await api.post(`tasks/${taskId}/cancel`, { user: 'carol' });
    expect(cancelled.status).to.equal(200);
    expect((await cancelled.json()).task).to.include({ status: 'failed', failureReason: 'cancelled' });
    const missing = await api.get('tasks/no-such-task');
    expect(missing.status).to.equal(404);
    expect((await missing.json()).error).to.equal('task no-such-task not found');
    expect((await api.get('nothing')).status).to.equal(404);
    const malformed = await api.get('tasks/%E0%A4%A');
    expect(malformed.status).to.equal(400);
    expect((await malformed.json()).error).to.contain('not valid percent-encoding');
  });

  it('refuses an action body that is too large, not JSON, or not an object, saying which', async () => {
    const api = consoleApi(server);
    const taskId = await startBackground(server, 'sleep', { seconds: 30 }, 'carol');
    const send = async (body: string) => {
      const res = await fetch(`${api.base}api/tasks/${taskId}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, error: ((await res.json()) as { error: string }).error };
    };
    const huge = await send(JSON.stringify({ user: 'carol', pad: 'x'.repeat(2 * 1024 * 1024) }));
    expect(huge).to.deep.include({ status: 400 });
    expect(huge.error).to.match(/^body: must not exceed \d+ bytes/);
    expect(await send('{"user":')).to.deep.include({ status: 400 });
    expect((await send('{"user":')).error).to.match(/^body: /);
    expect((await send('["carol"]')).error).to.match(/^body: must be a JSON object/);
    const { task } = await (await api.get(`tasks/${taskId}?user=carol`)).json();
    expect(task.status, 'no refused body acted').to.equal('running');
    expect((await api.post(`tasks/${taskId}/cancel`, { user: 'carol' })).status).to.equal(200);
  });

  it("reads a task's output from an offset, in bytes", async () => {
    const api = consoleApi(server);
    const taskId = await startBackground(server, 'ticker', { count: 3, interval_seconds: 0.05 }, 'ivan');
    await eventually(async () => (await (await api.get(`tasks/${taskId}`)).json()).task.status === 'completed');
    const all = await (await api.get(`tasks/${taskId}/output?user=ivan`)).json();
    expect(all).to.include({ offset: 0, text: 'tick 1\ntick 2\ntick 3\n', next: 21 });
    const rest = await (await api.get(`tasks/${taskId}/output?user=ivan&offset=7`)).json();
    expect(rest).to.include({ offset: 7, text: 'tick 2\ntick 3\n', next: 21 });
    expect((await api.get(`tasks/${taskId}/output?user=ivan&offset=-1`)).status).to.equal(400);
    expect((await api.get(`tasks/${taskId}/output?user=someone-else`)).status).to.equal(404);
  });

  it('answers a task that waits for input', async () => {
    const api = consoleApi(server);
    const taskId = await startBackground(server, 'ask', { question: 'Deploy?' }, 'dave');
    let task: { status: string; inputRequest?: { id: string; message: string } } = { status: '' };
    await eventually(async () => {
      task = (await (await api.get(`tasks/${taskId}`)).json()).task;
      return task.status === 'input_required';
    });
    expect(task.inputRequest!.message).to.equal('Deploy?');
    const wrong = await api.post(`tasks/${taskId}/input`, {
      user: 'dave',
      inputRequestId: task.inputRequest!.id,
      response: { answer: 42 },
    });
    expect(wrong.status).to.equal(400);
    const answered = await api.post(`tasks/${taskId}/input`, {
      user: 'dave',
      inputRequestId: task.inputRequest!.id,
      response: { answer: 'yes' },
    });
    expect(answered.status).to.equal(200);
    await eventually(async () => (await (await api.get(`tasks/${taskId}`)).json()).task.result === 'answer: yes');
  });

  it('lists the tools with source, budget and availability, and the replicas with what runs on each', async () => {
    const api = consoleApi(server);
    const { tools } = await (await api.get('tools')).json();
    const sleep = tools.find((t: { name: string }) => t.name === 'sleep');
    expect(sleep).to.include({ source: 'example', available: true, budgetSeconds: 10, noBackground: false });
    expect(sleep).to.not.have.property('concurrency');
    // A worker tool: its workers and how many calls each takes at once.
    const worker = new RawWorker(server.address);
    try {
      const tool = { name: 'console_worker_tool', description: 'd', parametersJsonSchema: '{}', noBackground: false };
      worker.register({ workerName: 'w', tools: [{ ...tool, concurrency: 3 }] });
      await worker.next('registered');
      const listed = (await (await api.get('tools')).json()).tools.find(
        (t: { name: string }) => t.name === 'console_worker_tool',
      );
      expect(listed).to.include({ source: 'worker', workers: 1, concurrency: 3, available: true });
    } finally {
      worker.close();
    }
    const taskId = await startBackground(server, 'sleep', { seconds: 30 }, 'erin');
    const { self, replicas } = await (await api.get('replicas')).json();
    expect(self).to.equal(server.app.config.instanceId);
    const me = replicas.find((r: { instanceId: string }) => r.instanceId === self);
    expect(me.running).to.be.at.least(1);
    await api.post(`tasks/${taskId}/cancel`, { user: 'erin' });
  });

  it("reads this replica's counters for the charts: tasks started, runs finished, Execute latency", async () => {
    const api = consoleApi(server);
    const before = await (await api.get('stats')).json();
    await call(server.client.execute, server.client, {
      toolName: 'echo',
      argumentsJson: '{"text":"x"}',
      userId: 'gina',
      channelId: '',
      platform: '',
      requestId: '',
    });
    const after = await (await api.get('stats')).json();
    expect(after.instanceId).to.equal(server.app.config.instanceId);
    expect(after.at).to.be.at.least(before.at);
    expect(after.tasksStarted).to.equal(before.tasksStarted + 1);
    expect(after.runsFinished).to.be.at.least(before.runsFinished + 1);
    expect(after.executeSeconds.count).to.equal(before.executeSeconds.count + 1);
    expect(after.executeSeconds.counts.reduce((a: number, b: number) => a + b, 0)).to.equal(after.executeSeconds.count);
    expect(after.executeSeconds.counts).to.have.length(after.executeSeconds.bounds.length + 1);
  });

  it('feeds live changes: a new task, its progress and its end; the feed releases its subscription', async () => {
    const api = consoleApi(server);
    const listenersBefore = server.app.store.listenerCount;
    const feed = await api.feed();
    try {
      expect(server.app.manager.followers).to.equal(1);
      const taskId = await startBackground(server, 'ticker', { count: 3, interval_seconds: 0.3 }, 'frank');
      await eventually(() => feed.tasks.some((t) => t.taskId === taskId && t.status === 'completed'), 10_000);
      const mine = feed.tasks.filter((t) => t.taskId === taskId);
      expect(mine.some((t) => t.progress && t.progress.fraction > 0 && t.status === 'running')).to.equal(true);
    } finally {
      await feed.close();
    }
    await eventually(() => server.app.manager.followers === 0 && server.app.console!.openFeeds === 0);
    // At most: tasks of the earlier tests may still be letting their own listeners go meanwhile.
    await eventually(() => server.app.store.listenerCount <= listenersBefore);
  });

  it('answers only local host names on loopback without tokens (a rebound DNS name is refused)', async () => {
    // fetch() will not send another Host: a raw request does, as a browser on a rebound name would.
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: server.app.httpPort,
          path: '/console/api/tasks',
          headers: { host: 'attacker.example' },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).to.equal(403);
    expect(JSON.parse(body).error).to.contain('local host names');
  });
});

describe('Operator console with tokens', function () {
  this.timeout(30_000);
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TASKSERVICE_HTTP_ADDR: '127.0.0.1:0', TASKSERVICE_AUTH_TOKENS: TOKENS });
  });
  after(async () => {
    await server.close();
  });

  it('needs a bearer token for every API call and shows only its users: another user is NOT FOUND', async () => {
    const ops = consoleApi(server, OPS_TOKEN);
    const alice = consoleApi(server, ALICE_TOKEN);
    const nobody = consoleApi(server);
    // The page itself holds no data: it loads without a token, and asks for one.
    expect((await fetch(nobody.base)).status).to.equal(200);
    const refused = await nobody.get('tasks');
    expect(refused.status).to.equal(401);
    expect(refused.headers.get('www-authenticate')).to.contain('Bearer');
    expect((await consoleApi(server, 'wrong').get('tools')).status).to.equal(401);
    // An action needs the token too.
    const cancelWithout = await nobody.post(`tasks/some-task/cancel`, { user: 'bob' });
    expect(cancelWithout.status).to.equal(401);
    expect(await (await alice.get('me')).json()).to.deep.equal({ name: 'alice-console', users: ['alice'] });
    expect(await (await ops.get('me')).json()).to.deep.equal({ name: 'ops', users: null });

    const bobs = await startBackground(server, 'sleep', { seconds: 30 }, 'bob', OPS_TOKEN);
    const alices = await startBackground(server, 'sleep', { seconds: 30 }, 'alice', OPS_TOKEN);
    const feed = await alice.feed();
    try {
      expect((await alice.get(`tasks/${bobs}`)).status).to.equal(404);
      expect((await alice.post(`tasks/${bobs}/cancel`, { user: 'bob' })).status).to.equal(404);
      const aliceList = await (await alice.get('tasks')).json();
      expect(aliceList.tasks.map((t: { taskId: string }) => t.taskId))
        .to.include(alices)
        .and.not.include(bobs);
      expect((await (await alice.get('tasks?user=bob')).json()).tasks).to.deep.equal([]);
      expect((await ops.get(`tasks/${bobs}`)).status).to.equal(200);
      // Both end; alice's feed hears only her task.
      await ops.post(`tasks/${bobs}/cancel`, { user: 'bob' });
      await ops.post(`tasks/${alices}/cancel`, { user: 'alice' });
      await eventually(() => feed.tasks.some((t) => t.taskId === alices && t.status === 'failed'));
      expect(feed.tasks.filter((t) => t.userId !== 'alice')).to.deep.equal([]);
    } finally {
      await feed.close();
    }
  });
});

describe('Operator console and tool arguments', function () {
  this.timeout(30_000);

  it("shows a task's arguments only when the server may log them (TASKSERVICE_LOG_TOOL_ARGUMENTS)", async () => {
    const args = { count: 1000, interval_seconds: 30 };
    for (const shown of [true, false]) {
      const server = await startTestServer({
        TASKSERVICE_HTTP_ADDR: '127.0.0.1:0',
        TASKSERVICE_LOG_TOOL_ARGUMENTS: String(shown),
      });
      try {
        const api = consoleApi(server);
        const feed = await api.feed();
        try {
          const taskId = await startBackground(server, 'ticker', args, 'hana');
          const { task } = await (await api.get(`tasks/${taskId}`)).json();
          const listed = (await (await api.get('tasks?user=hana')).json()).tasks[0];
          await api.post(`tasks/${taskId}/cancel`, { user: 'hana' });
          await eventually(() => feed.tasks.some((t) => t.taskId === taskId && t.status === 'failed'));
          const heard = feed.tasks.find((t) => t.taskId === taskId) as Record<string, unknown>;
          for (const view of [task, listed, heard]) {
            if (shown) expect(JSON.parse(view.argumentsJson)).to.deep.equal(args);
            else expect(view).to.not.have.property('argumentsJson');
          }
        } finally {
          await feed.close();
        }
      } finally {
        await server.close();
      }
    }
  });
});

describe('Operator console at shutdown', () => {
  it('ends the open feeds and lets go of their subscription before the store closes', async () => {
    const server = await startTestServer({ TASKSERVICE_HTTP_ADDR: '127.0.0.1:0' });
    let closed = false;
    try {
      const feed = await consoleApi(server).feed();
      expect(server.app.manager.followers).to.equal(1);
      await server.close();
      closed = true;
      expect(server.app.manager.followers).to.equal(0);
      expect(server.app.console!.openFeeds).to.equal(0);
      await feed.close();
    } finally {
      if (!closed) await server.close();
    }
  });
});

describe('Operator console switched off', () => {
  it('is not served with TASKSERVICE_CONSOLE=off; the probes still are', async () => {
    const server = await startTestServer({ TASKSERVICE_HTTP_ADDR: '127.0.0.1:0', TASKSERVICE_CONSOLE: 'off' });
    try {
      const base = `http://127.0.0.1:${server.app.httpPort}`;
      expect((await fetch(`${base}/console/`)).status).to.equal(404);
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
    } finally {
      await server.close();
    }
  });
});
