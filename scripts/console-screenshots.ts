/**
 * Takes the README's pictures of the operators' console: a server on the memory store with a few tasks in
 * every state, each page opened in headless Chromium (Debian's, as the tests use it), saved to docs/console/.
 *
 *   npx tsx scripts/console-screenshots.ts
 */
import { mkdirSync } from 'node:fs';
import { launchBrowser } from '../test/helpers/browser.js';
import { startBackground, startTestServer } from '../test/helpers/server.js';

const OUT = 'docs/console';
mkdirSync(OUT, { recursive: true });
const server = await startTestServer({ TASKSERVICE_HTTP_ADDR: '127.0.0.1:0', TASKSERVICE_LOG_TOOL_ARGUMENTS: 'true' });
const browser = await launchBrowser();
try {
  const base = `http://127.0.0.1:${server.app.httpPort}/console/`;
  await startBackground(server, 'sleep', { seconds: 0.05 }, 'alice');
  await startBackground(server, 'fail', { message: 'the upstream API answered 503' }, 'bob').catch(() => undefined);
  const asking = await startBackground(server, 'ask', { question: 'Deploy build 1432 to production?' }, 'carol');
  await startBackground(server, 'ticker', { count: 40, interval_seconds: 0.5 }, 'alice');
  await startBackground(server, 'ticker', { count: 100, interval_seconds: 0.3 }, 'dave');
  await new Promise((resolve) => setTimeout(resolve, 2500));

  const page = await browser.newPage({ viewport: { width: 1200, height: 520 } });
  const shoot = async (hash: string, ready: string, file: string) => {
    await page.goto(`${base}${hash}`);
    await page.waitForSelector(ready);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await page.screenshot({ path: `${OUT}/${file}` });
  };
  await shoot('#/tasks', '.live.on', 'tasks.png');
  await shoot(`#/task/${asking}?user=carol`, 'form.answer', 'task.png');
  await shoot('#/tools', '#tools', 'tools.png');
  await page.goto(`${base}#/replicas`);
  // A few readings with calls coming in, so that the charts have lines.
  for (let i = 0; i < 28; i++) {
    await startBackground(server, 'sleep', { seconds: 0.2 * (i % 3) }, 'erin');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await page.screenshot({ path: `${OUT}/replicas.png` });
  console.log(`written: ${OUT}/tasks.png, task.png, tools.png, replicas.png`);
} finally {
  await browser.close();
  await server.close();
}
