#!/usr/bin/env node
// `npx taskservice ...`: the CLI (src/cli/main.ts), run from TypeScript source through tsx like `npm start`.
import { register } from 'tsx/esm/api';

register();
const { cli } = await import('../src/cli/main.ts');
const code = await cli(process.argv.slice(2), {
  out: process.stdout,
  err: process.stderr,
  env: process.env,
  ...(process.stdin.isTTY && { in: process.stdin }),
});
process.exitCode = code;
