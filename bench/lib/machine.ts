import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';

/** What the figures were measured on; printed and stored with every result. */
export function machine() {
  let redis = 'unknown';
  try {
    redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // not installed: the Redis scenarios will say so
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    redis,
  };
}
