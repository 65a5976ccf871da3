#!/usr/bin/env node
/**
 * One version for every package: VERSION holds it, and this script writes it
 * into each place that carries a copy (npm packages, Python projects, the Go
 * client, the server, the proto package template).
 *
 *   node scripts/version.mjs            lists each copy and whether it matches
 *   node scripts/version.mjs check      exits 1 if any copy differs from VERSION
 *   node scripts/version.mjs set 0.3.0  writes 0.3.0 into VERSION and every copy
 *
 * After `set`, run `npm run generate` (gen/python takes its version from the
 * template) and `npm install` (package-lock.json).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** Every copy of the version: the file, the one pattern whose first group is the version (and what it is, where a
 * file holds two). */
export const COPIES = [
  { file: 'package.json', pattern: /^ {2}"version": "([^"]+)"/m },
  { file: 'clients/typescript/package.json', pattern: /^ {2}"version": "([^"]+)"/m },
  { file: 'src/version.ts', pattern: /^export const VERSION = '([^']+)';/m },
  { file: 'src/client/version.ts', pattern: /^export const VERSION = '([^']+)';/m },
  { file: 'codegen/templates/python/pyproject.toml', pattern: /^version = "([^"]+)"/m },
  { file: 'gen/python/pyproject.toml', pattern: /^version = "([^"]+)"/m },
  { file: 'clients/python/pyproject.toml', pattern: /^version = "([^"]+)"/m },
  { file: 'clients/python/taskservice_client/_version.py', pattern: /^__version__ = "([^"]+)"/m },
  { file: 'clients/python/taskservice_worker/_version.py', pattern: /^__version__ = "([^"]+)"/m },
  { file: 'clients/python/pyproject.toml', what: 'its taskservice-proto pin', pattern: /"taskservice-proto==([^"]+)"/ },
  { file: 'clients/go/taskservice/version.go', pattern: /^const Version = "([^"]+)"/m },
];

export function readVersion() {
  return readFileSync(`${root}VERSION`, 'utf8').trim();
}

/** Each copy with the version it holds (undefined when the pattern is not found). */
export function copies() {
  return COPIES.map(({ file, what, pattern }) => ({
    file: what ? `${file} (${what})` : file,
    version: pattern.exec(readFileSync(`${root}${file}`, 'utf8'))?.[1],
  }));
}

/** The copies that differ from VERSION, as sentences. */
export function problems() {
  const version = readVersion();
  const found = [];
  if (!SEMVER.test(version)) found.push(`VERSION holds "${version}", not a semantic version like 1.2.3`);
  for (const copy of copies()) {
    if (copy.version === undefined) found.push(`${copy.file}: no version found where scripts/version.mjs looks`);
    else if (copy.version !== version) found.push(`${copy.file}: ${copy.version}, but VERSION is ${version}`);
  }
  return found;
}

function set(version) {
  if (!SEMVER.test(version)) throw new Error(`"${version}" is not a semantic version like 1.2.3`);
  writeFileSync(`${root}VERSION`, `${version}\n`);
  for (const { file, pattern } of COPIES) {
    const text = readFileSync(`${root}${file}`, 'utf8');
    const match = pattern.exec(text);
    if (!match) throw new Error(`${file}: no version found to replace`);
    const line = match[0].replace(match[1], version);
    writeFileSync(`${root}${file}`, text.slice(0, match.index) + line + text.slice(match.index + match[0].length));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, value] = process.argv.slice(2);
  if (command === 'set') {
    set(value ?? '');
    console.log(`version ${value} written; now run npm run generate and npm install`);
  } else {
    const found = problems();
    if (command !== 'check') for (const copy of copies()) console.log(`${copy.version ?? '?'}  ${copy.file}`);
    if (found.length) {
      console.error(
        `version: copies differ from VERSION (node scripts/version.mjs set <version> fixes them):\n  ${found.join('\n  ')}`,
      );
      process.exit(1);
    }
    if (command === 'check') console.log(`version: every copy says ${readVersion()}`);
  }
}
