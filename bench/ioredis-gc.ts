/**
 * What reading pages of task hashes through ioredis leaves to the young-generation GC, with no TaskService code
 * at all: 3,000 pages of 51 HGETALLs against a fresh redis-server, read one way at a time, each way in its own
 * process under `--trace-gc-nvp`. Prints per way the time per page, the scavenges, their mean pause and what
 * each copied or promoted (V8's `new_space_survived`).
 *
 *   npx tsx bench/ioredis-gc.ts
 *
 * It is the measurement behind readHashes sending a page's commands one by one (src/store/redis/bounded-commands.ts,
 * docs/PERFORMANCE.md scenario 5).
 */
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { BoundedCommands } from '../src/store/redis/bounded-commands.js';
import type { ScriptedClient } from '../src/store/redis/scripts.js';
import { RedisServer } from '../test/helpers/redis.js';

const WAYS = {
  /** An explicit pipeline per page. */
  pipeline: 'client.pipeline(): one write per page',
  /** Auto-pipelining gathers the page's commands into a pipeline of its own. */
  auto: 'auto-pipelined HGETALLs: one write per page',
  /** The store's readHashes: each command sent on its own, past auto-pipelining. */
  alone: 'readHashes: sendCommand one by one',
} as const;
type Way = keyof typeof WAYS;
const PAGES = 3000;
const PAGE = 51;

const child = process.argv.find((a) => a.startsWith('--way='))?.slice(6) as Way | undefined;

if (child) {
  const redis = await RedisServer.start();
  const client = new Redis(redis.url, { enableAutoPipelining: child === 'auto' });
  // The store's own read, not a copy of it: readHashes needs nothing of the client but sendCommand.
  const reads = new BoundedCommands(client as ScriptedClient, 5000);
  try {
    const keys = Array.from({ length: PAGE }, (_, i) => `sg:task:t${i}`);
    for (const key of keys) {
      await client.hset(key, {
        task_id: `${key.slice(8)}-0123456789abcdef0123`,
        tool_name: 'idle',
        status: 'running',
        created_at: '1796586886.095',
        updated_at: '1796586886.095',
        user_id: 'scale-redis-100000',
        owner: 'vm-22282-6e57a3',
        version: '1',
        list_key: '8203413113904:t1-0123456789abcdef0123',
      });
    }
    const page = async () => {
      if (child === 'pipeline') {
        const pipeline = client.pipeline();
        for (const key of keys) pipeline.hgetall(key);
        return pipeline.exec();
      }
      if (child === 'auto') return Promise.all(keys.map((key) => client.hgetall(key)));
      return reads.readHashes(keys);
    };
    const started = performance.now();
    for (let n = 0; n < PAGES; n++) await page();
    console.log(`RESULT ${((performance.now() - started) * 1000) / PAGES}`);
  } finally {
    client.disconnect();
    await redis.stop();
  }
} else {
  console.log(`${PAGES} pages of ${PAGE} HGETALLs, one at a time; scavenges of the reading process`);
  console.log('way                                            us/page  scavenges  mean pause ms  survived KB/scavenge');
  for (const way of Object.keys(WAYS) as Way[]) {
    const out = execFileSync(
      process.execPath,
      ['--trace-gc-nvp', '--import', 'tsx', process.argv[1]!, `--way=${way}`],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const scavenges = out.split('\n').filter((line) => line.includes('gc=s '));
    const field = (line: string, name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
    const mean = (name: string) => scavenges.reduce((sum, line) => sum + field(line, name), 0) / scavenges.length;
    const perPage = Number(/RESULT ([\d.]+)/.exec(out)?.[1]);
    console.log(
      `${WAYS[way].padEnd(46)} ${perPage.toFixed(0).padStart(7)}  ${String(scavenges.length).padStart(9)}  ` +
        `${mean('pause').toFixed(2).padStart(13)}  ${(mean('new_space_survived') / 1024).toFixed(0).padStart(20)}`,
    );
  }
}
