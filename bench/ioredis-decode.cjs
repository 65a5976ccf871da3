/**
 * Client CPU of two ioredis installs side by side: a page of 51 HGETALLs of
 * 20-field hashes in one pipeline (what a ListTasks page reads), and HGETs
 * 64 at a time (a lifecycle's small commands). docs/PERFORMANCE.md cites it
 * for the choice of ioredis 5 over 6, whose RESP decoder is slower.
 *
 *   npm install --prefix /tmp/io5 ioredis@5.11.1
 *   npm install --prefix /tmp/io6 ioredis@6.0.0
 *   node bench/ioredis-decode.cjs /tmp/io5 /tmp/io6
 *
 * It starts its own redis-server on a free loopback port and stops it.
 */
const { spawn } = require('node:child_process');
const { createServer } = require('node:net');

const installs = process.argv.slice(2);
if (installs.length === 0) {
  console.error('usage: node bench/ioredis-decode.cjs <install dir> [<install dir> ...]');
  process.exit(2);
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const cpuUs = (since) => {
  const { user, system } = process.cpuUsage(since);
  return user + system;
};

async function measure(dir, port) {
  const { Redis } = require(`${dir}/node_modules/ioredis`);
  const redis = new Redis({ host: '127.0.0.1', port, enableAutoPipelining: true });
  const fields = {};
  for (let i = 0; i < 20; i++) fields[`field_${i}`] = `value-${i}-`.repeat(3);
  for (let i = 0; i < 51; i++) await redis.hset(`h:${i}`, fields);
  const page = async () => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 51; i++) pipeline.hgetall(`h:${i}`);
    await pipeline.exec();
  };
  const small = () => Promise.all(Array.from({ length: 64 }, (_, i) => redis.hget(`h:${i % 51}`, 'field_1')));
  for (let i = 0; i < 300; i++) await page();
  let since = process.cpuUsage();
  for (let i = 0; i < 2000; i++) await page();
  const perPage = cpuUs(since) / 2000;
  for (let i = 0; i < 300; i++) await small();
  since = process.cpuUsage();
  for (let i = 0; i < 3000; i++) await small();
  const perCommand = cpuUs(since) / 3000 / 64;
  const { version } = require(`${dir}/node_modules/ioredis/package.json`);
  console.log(
    `ioredis ${version}: ${perPage.toFixed(0)} µs client CPU per page of 51 HGETALL, ` +
      `${perCommand.toFixed(2)} µs per HGET at 64 concurrent`,
  );
  redis.disconnect();
}

(async () => {
  const port = await freePort();
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Two rounds, alternating, so that the machine's drift touches both alike.
    for (let round = 0; round < 2; round++) for (const dir of installs) await measure(dir, port);
  } finally {
    server.kill('SIGTERM');
  }
})();
