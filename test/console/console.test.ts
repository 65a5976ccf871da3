import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { defineTool } from '../../src/tools/define.js';
import { launchBrowser } from '../helpers/browser.js';
import { call, startBackground, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The console's pages in a real headless Chromium against a real server: rows that appear and move without a
 * reload, cancelling and answering from the task page, a hostile result shown as text, and a token that sees
 * only its user's tasks.
 */

const HOSTILE = '<img src=x onerror="window.pwned = true"><script>window.pwned = true</script>';
const hostile = defineTool({
  name: 'hostile',
  description: 'returns markup',
  parameters: { type: 'object', properties: {} },
  handler: async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return HOSTILE;
  },
});

/** Runs until cancelled and changes nothing meanwhile: only a read of the list shows it. */
const quiet = defineTool({
  name: 'quiet',
  description: 'waits silently until cancelled',
  parameters: { type: 'object', properties: {} },
  handler: (_args, ctx) =>
    new Promise<string>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')))),
});

const ALICE_TOKEN = 'browser-alice-token-0001';
const OPS_TOKEN = 'browser-ops-token-000001';
const PAIR_TOKEN = 'browser-pair-token-00001';

describe('Operator console in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: TestServer;
  let page: Page;
  let base: string;

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer({ TASKSERVICE_HTTP_ADDR: '127.0.0.1:0' }, { tools: [hostile, quiet] });
    base = `http://127.0.0.1:${server.app.httpPort}/console/`;
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage();
  });
  afterEach(async () => {
    await page.close();
  });

  it('shows a new task on the tasks page and moves its progress bar, without a reload', async () => {
    await page.goto(`${base}#/tasks`);
    await page.waitForSelector('#tasks');
    await page.waitForSelector('.live.on');
    // Anything kept on the page's window survives only if the page is never reloaded.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const taskId = await startBackground(server, 'ticker', { count: 8, interval_seconds: 0.4 }, 'alice');
    const row = `tr[data-task="${taskId}"]`;
    await page.waitForSelector(row, { timeout: 10_000 });
    const progress = async () => Number(await page.getAttribute(`${row} progress`, 'value').catch(() => null));
    await page.waitForFunction((sel) => document.querySelector(`${sel} progress`) !== null, row);
    const first = await progress();
    await page.waitForFunction(
      ([sel, was]) => Number(document.querySelector(`${sel} progress`)?.getAttribute('value')) > Number(was),
      [row, first] as const,
      { timeout: 10_000 },
    );
    expect(await progress()).to.be.above(first);
    await page.waitForSelector(`${row} .status-completed`, { timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).to.equal(42);
  });

  it('reads the list again after its feed reconnects: a task made while it was away appears', async () => {
    await page.goto(`${base}#/tasks`);
    await page.waitForSelector('#tasks');
    await page.waitForSelector('.live.on');
    // Ends every open feed, as a restarting replica or a proxy would; the page reconnects a second later.
    server.app.console!.close();
    const taskId = await startBackground(server, 'quiet', {}, 'alice');
    await page.waitForSelector(`tr[data-task="${taskId}"]`, { timeout: 10_000 });
    await page.waitForSelector('.live.on');
    await call(server.client.cancelTask, server.client, { taskId, userId: 'alice' });
  });

  it('keeps one reading loop on the replicas page however often it is shown, and none once left', async () => {
    // Counts the page's live intervals (the replicas page's readings are its only ones).
    await page.addInitScript(() => {
      const live = new Set<unknown>();
      const w = window as unknown as { liveIntervals: Set<unknown> };
      w.liveIntervals = live;
      const set = window.setInterval.bind(window);
      const clear = window.clearInterval.bind(window);
      window.setInterval = ((...args: Parameters<typeof set>) => {
        const id = set(...args);
        live.add(id);
        return id;
      }) as typeof window.setInterval;
      window.clearInterval = ((id?: number) => {
        live.delete(id);
        clear(id);
      }) as typeof window.clearInterval;
    });
    const live = () => page.evaluate(() => (window as unknown as { liveIntervals: Set<unknown> }).liveIntervals.size);
    await page.goto(`${base}#/replicas`);
    await page.waitForSelector('#charts svg');
    // Away and straight back (within one reading), then shown again in place (as after a feed reconnect).
    await page.evaluate(() => {
      location.hash = '#/tasks';
    });
    await page.waitForSelector('#tasks');
    await page.evaluate(() => {
      location.hash = '#/replicas';
    });
    await page.waitForSelector('#replicas');
    server.app.console!.close();
    await page.waitForSelector('.live:not(.on)');
    await page.waitForSelector('.live.on');
    await page.waitForSelector('#charts svg');
    expect(await live()).to.equal(1);
    await page.evaluate(() => {
      location.hash = '#/tools';
    });
    await page.waitForSelector('#tools');
    expect(await live()).to.equal(0);
  });

  it("shows a task's output as the tool writes it", async () => {
    const taskId = await startBackground(server, 'ticker', { count: 6, interval_seconds: 0.3 }, 'alice');
    await page.goto(`${base}#/task/${taskId}?user=alice`);
    await page.waitForFunction(
      () => document.querySelector('#output')?.textContent?.startsWith('tick 1\n'),
      undefined,
      {
        timeout: 10_000,
      },
    );
    // Read while the tool still runs: what follows arrives on the same page.
    const early = await page.textContent('#output');
    expect(await page.$('#task .status-running')).to.not.equal(null);
    await page.waitForSelector('#task .status-completed', { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('#output')?.textContent?.endsWith('tick 6\n'));
    expect(await page.textContent('#output')).to.equal('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\n');
    expect(early!.length).to.be.below('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\n'.length);
  });

  it('cancels a running task from its page: FAILED, reason cancelled', async () => {
    const taskId = await startBackground(server, 'sleep', { seconds: 30 }, 'bob');
    await page.goto(`${base}#/task/${taskId}?user=bob`);
    await page.waitForSelector('#cancel');
    await page.click('#cancel');
    await page.waitForSelector('#task .status-failed');
    const text = await page.textContent('#task');
    expect(text).to.contain('cancelled');
    expect(await page.isVisible('#cancel')).to.equal(false);
  });

  it("answers a tool's question with the form built from its schema", async () => {
    const taskId = await startBackground(server, 'ask', { question: 'Ship it?' }, 'carol');
    await page.goto(`${base}#/task/${taskId}?user=carol`);
    await page.waitForSelector('form.answer', { timeout: 10_000 });
    expect(await page.textContent('form.answer .question')).to.equal('Ship it?');
    await page.fill('form.answer input[name="answer"]', 'yes, ship');
    await page.click('form.answer button[type="submit"]');
    await page.waitForSelector('#task .status-completed', { timeout: 10_000 });
    expect(await page.textContent('#task .result')).to.equal('answer: yes, ship');
  });

  it('renders a hostile result as text: no element made, no script run', async () => {
    const taskId = await startBackground(server, 'hostile', {}, 'dave');
    await page.goto(`${base}#/task/${taskId}?user=dave`);
    await page.waitForSelector('#task .result', { timeout: 10_000 });
    expect(await page.textContent('#task .result')).to.equal(HOSTILE);
    expect(await page.$$('#task img, #task script')).to.have.length(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).to.equal(undefined);
  });

  it('lists the tools and the replicas', async () => {
    await page.goto(`${base}#/tools`);
    await page.waitForSelector('#tools');
    expect(await page.textContent('#tools'))
      .to.contain('ticker')
      .and.contain('example');
    await page.goto(`${base}#/replicas`);
    await page.waitForSelector('#replicas');
    expect(await page.textContent('#replicas'))
      .to.contain(server.app.config.instanceId)
      .and.contain('(this one)');
    // The charts come from the replica's own counters: a second reading gives the first point.
    await page.waitForFunction(() => document.querySelectorAll('#charts svg polyline').length === 4);
    await startBackground(server, 'echo', { text: 'x' }, 'erin');
    await page.waitForFunction(
      () => (document.querySelector('#charts polyline')?.getAttribute('points') ?? '').split(' ').length >= 2,
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.textContent('#charts'))
      .to.contain('Tasks started')
      .and.contain('Execute p99');
  });
});

describe('Operator console in Chromium, with tokens', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: TestServer;

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer({
      TASKSERVICE_HTTP_ADDR: '127.0.0.1:0',
      TASKSERVICE_AUTH_TOKENS: JSON.stringify({
        'alice-console': { token: ALICE_TOKEN, users: ['alice'] },
        ops: { token: OPS_TOKEN, users: '*' },
        'alice-and-bob': { token: PAIR_TOKEN, users: ['alice', 'bob'] },
      }),
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Opens the tasks page, which asks for a token, and gives it. */
  const signIn = async (page: Page, token: string) => {
    await page.goto(`http://127.0.0.1:${server.app.httpPort}/console/#/tasks`);
    await page.waitForSelector('#token-form:not([hidden])');
    await page.fill('#token', token);
    await page.click('#token-form button[type="submit"]');
  };

  it("asks for a token and then shows only that token's user's tasks; another user's task is not found", async () => {
    const alices = await startBackground(server, 'sleep', { seconds: 30 }, 'alice', OPS_TOKEN);
    const bobs = await startBackground(server, 'sleep', { seconds: 30 }, 'bob', OPS_TOKEN);
    const page = await browser.newPage();
    const authorizations: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/console/api/')) authorizations.push(r.headers().authorization);
    });
    try {
      await signIn(page, ALICE_TOKEN);
      await page.waitForSelector(`tr[data-task="${alices}"]`);
      expect(await page.$(`tr[data-task="${bobs}"]`)).to.equal(null);
      // A new task of bob's never reaches alice's page through the live feed either.
      await page.waitForSelector('.live.on');
      const bobsLater = await startBackground(server, 'sleep', { seconds: 30 }, 'bob', OPS_TOKEN);
      const alicesLater = await startBackground(server, 'sleep', { seconds: 30 }, 'alice', OPS_TOKEN);
      await page.waitForSelector(`tr[data-task="${alicesLater}"]`, { timeout: 10_000 });
      expect(await page.$(`tr[data-task="${bobsLater}"]`)).to.equal(null);
      await page.goto(`http://127.0.0.1:${server.app.httpPort}/console/#/task/${bobs}?user=bob`);
      await page.waitForSelector('#error:not([hidden])');
      expect(await page.textContent('#error')).to.contain('not found');
      // The token went as a header on the API calls once given (never a cookie).
      expect(authorizations.filter(Boolean).every((a) => a === `Bearer ${ALICE_TOKEN}`)).to.equal(true);
      expect((await page.context().cookies()).length).to.equal(0);
    } finally {
      await page.close();
    }
  });

  it('gives a token for several users a choice of them, starting with the first', async () => {
    const alices = await startBackground(server, 'sleep', { seconds: 30 }, 'alice', OPS_TOKEN);
    const bobs = await startBackground(server, 'sleep', { seconds: 30 }, 'bob', OPS_TOKEN);
    const page = await browser.newPage();
    try {
      await signIn(page, PAIR_TOKEN);
      await page.waitForSelector(`tr[data-task="${alices}"]`);
      expect(await page.textContent('#who')).to.equal('as alice-and-bob');
      expect(await page.$$eval('select[name="user"] option', (os) => os.map((o) => o.textContent))).to.deep.equal([
        'alice',
        'bob',
      ]);
      expect(await page.$(`tr[data-task="${bobs}"]`)).to.equal(null);
      await page.selectOption('select[name="user"]', 'bob');
      await page.click('form.filters button[type="submit"]');
      await page.waitForSelector(`tr[data-task="${bobs}"]`);
      expect(await page.$(`tr[data-task="${alices}"]`)).to.equal(null);
    } finally {
      await page.close();
    }
  });
});
