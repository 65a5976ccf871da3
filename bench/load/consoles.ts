/**
 * Load generator, scenario 8: `consoles` operator consoles following the live feed (GET /console/api/events, as
 * the page reads it) on one replica. Once every feed is open it says ready; on the go line it starts counting the
 * task events each feed receives, and on the next one prints the counts (the fewest and the most per feed) and
 * the seconds between the two.
 */
import { createInterface } from 'node:readline';

const { url, consoles } = JSON.parse(process.argv[2]!) as { url: string; consoles: number };
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const counts = new Array<number>(consoles).fill(0);
let counting = false;
const stop = new AbortController();

async function follow(i: number, opened: () => void): Promise<void> {
  const res = await fetch(url, { signal: stop.signal });
  if (res.status !== 200 || !res.body) throw new Error(`feed ${i}: HTTP ${res.status}`);
  opened();
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (!counting) continue;
      const text = decoder.decode(chunk, { stream: true });
      for (let at = text.indexOf('event: task'); at >= 0; at = text.indexOf('event: task', at + 1)) counts[i]!++;
    }
  } catch {
    // aborted at the end
  }
}

let open = 0;
const allOpen = new Promise<void>((resolve) => {
  const feeds = Array.from({ length: consoles }, (_, i) =>
    follow(i, () => {
      if (++open === consoles) resolve();
    }),
  );
  void Promise.all(feeds).catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
});
await allOpen;
process.stdout.write('ready\n');
await lines.next();
counting = true;
const started = performance.now();
await lines.next();
counting = false;
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ seconds, fewest: Math.min(...counts), most: Math.max(...counts) })}\n`);
stop.abort();
process.exit(0);
