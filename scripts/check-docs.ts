/**
 * Checks that README.md, CHANGELOG.md and docs/*.md match the repository: every file path
 * they mention (under src/, test/, docs/, bench/, codegen/ ...) exists (a Go
 * module's release tag such as clients/go/v0.2.0 is no path), and
 * every environment variable they name (TASKSERVICE_*, REDIS_URL) occurs
 * somewhere under src/ (so the check holds wherever the settings table lives).
 * Run: npx tsx scripts/check-docs.ts (a step of test/run-all.sh). Exits 1 and
 * lists each stale mention with its file and line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Mentions that are right although no such path exists; each with its reason. Keep it short. An
 * entry ending in "/" allows everything under it.
 */
const ALLOWED: Record<string, string> = {
  'dist/main.mjs': 'built by `npm run build` (npm start), not committed',
  'dist/bench-load': 'built by `npm run bench` (bench/lib/load.ts), not committed',
  'dist/old': 'an earlier build copied there by hand, for --compare and --server in bench/; not committed',
  'dist/release/': 'built by `npm run release:pack` (the npm package and the Python wheels), not committed',
  // Last: the more precise entries above are found first.
  'dist/': 'the build output (`npm run build`), not committed',
};

const TOP = [
  'src',
  'test',
  'docs',
  'bench',
  'codegen',
  'gen',
  'proto',
  'clients',
  'examples',
  'scripts',
  'bin',
  'dist',
];
const PATH = new RegExp(`(?<![\\w./-])(?:${TOP.join('|')})/[\\w.{},*/-]*`, 'g');
const ENV = /\b(?:TASKSERVICE_[A-Z0-9_]*[A-Z0-9]|REDIS_URL)\b/g;
/** `clients/go/v0.2.0`: the release tag of the Go module in clients/go, not a path. */
const GO_MODULE_TAG = /\/v(\d+\.\d+\.\d+|X\.Y\.Z)$/;

/** `gen/{ts,go}/` -> gen/ts/, gen/go/ */
function expand(path: string): string[] {
  const brace = /\{([^{}]*)\}/.exec(path);
  if (!brace) return [path];
  return brace[1]!.split(',').flatMap((part) => expand(path.replace(brace[0], part)));
}

/**
 * The files a fresh clone has once this change is committed: tracked ones and new ones git does not
 * ignore. Build output (dist/, bench/results/) exists on a working machine but not in CI, so the
 * file system would hide a stale mention that CI then fails on.
 */
const inClone = new Set(
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== '' && existsSync(join(ROOT, f))),
);
const foldersInClone = new Set(
  [...inClone].flatMap((f) =>
    f
      .split('/')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
  ),
);

function exists(path: string): boolean {
  const star = path.indexOf('*');
  // A glob names files in a folder: the folder must exist.
  const wanted = (star >= 0 ? path.slice(0, path.lastIndexOf('/', star) + 1) : path).replace(/\/$/, '');
  return inClone.has(wanted) || foldersInClone.has(wanted);
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

const srcText = filesUnder('src')
  .map((f) => readFileSync(join(ROOT, f), 'utf8'))
  .join('\n');
const docs = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const problems: string[] = [];
const allowedSeen = new Set<string>();

for (const doc of docs) {
  readFileSync(join(ROOT, doc), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const where = `${doc}:${i + 1}`;
      for (const [raw] of line.matchAll(PATH)) {
        const path = raw.replace(/[.,:;)]+$/, '');
        if (GO_MODULE_TAG.test(path)) continue;
        const allowed = Object.keys(ALLOWED).find((a) => path === a || (a.endsWith('/') && path.startsWith(a)));
        if (allowed) {
          allowedSeen.add(allowed);
          continue;
        }
        const missing = expand(path).filter((p) => !exists(p));
        if (missing.length > 0) problems.push(`${where}: no such path: ${missing.join(', ')}`);
      }
      for (const [name] of line.matchAll(ENV)) {
        if (!srcText.includes(name)) problems.push(`${where}: ${name} occurs nowhere under src/`);
      }
    });
}

for (const path of Object.keys(ALLOWED)) {
  if (!allowedSeen.has(path))
    problems.push(`scripts/check-docs.ts: ${path} is allowed but no longer mentioned: drop it from ALLOWED`);
}

if (problems.length > 0) {
  console.error(`${problems.length} stale mention(s) in the docs:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(
  `docs: every path and variable mentioned in ${docs.length} files is real (${relative(process.cwd(), ROOT) || '.'})`,
);
