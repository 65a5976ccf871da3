#!/usr/bin/env node
/**
 * Prints the code block of README.md that follows `<!-- release-check: <name> -->`, as a user would
 * copy it, with `<checkout>` replaced by this checkout's path and the default address 127.0.0.1:50051
 * by $TASKSERVICE_ADDR (the server the release check started). The release check runs these blocks,
 * so the README's install lines and first calls are the ones proven to work.
 *
 *   node scripts/release-check/readme-block.mjs typescript-install
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const name = process.argv[2];
const readme = readFileSync(`${root}/README.md`, 'utf8');
const marker = `<!-- release-check: ${name} -->`;
const at = readme.indexOf(marker);
if (!name || at < 0) {
  console.error(`readme-block: README.md has no "${marker}"`);
  process.exit(2);
}
const block = /```[a-z]*\n([\s\S]*?)```/.exec(readme.slice(at + marker.length));
if (!block) {
  console.error(`readme-block: no code block follows "${marker}" in README.md`);
  process.exit(2);
}
const addr = process.env.TASKSERVICE_ADDR ?? '127.0.0.1:50051';
process.stdout.write(block[1].replaceAll('<checkout>', root).replaceAll('127.0.0.1:50051', addr));
