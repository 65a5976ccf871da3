import { relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/**
 * What a test file leaves behind, for the harness (test/helpers/harness.ts).
 *
 * Counted:
 * - every resource that keeps the process alive, by its type in
 *   process.getActiveResourcesInfo(): ref'd timers ('Timeout'), sockets and
 *   servers ('TCPSocketWrap', 'TCPServerWrap'), child processes and their
 *   pipes ('ProcessWrap', 'PipeWrap'), pending requests. A file passes when,
 *   after its last hook, no type is above its count before the file's first hook;
 * - unref'd timers that our own code (src/ or test/) set and has not cleared:
 *   an unref'd timer does not keep the process alive, so the counts above never
 *   see it, but it belongs to an owner (a store's sweep, a session's keepalive,
 *   a grace period) that should have closed it, and a store left open in one
 *   file keeps running through all the files after it.
 *
 * Not counted:
 * - unref'd timers set by libraries (grpc-js idle and backoff timers, undici's
 *   clock): they are the library's to manage and end with the objects that own
 *   them, which the counts above see while they hold a socket;
 * - unref'd sockets and servers: Node reports no unref'd handles at all. A gRPC
 *   client left open with an idle connection is such a socket; it is found only
 *   while it is ref'd (a call in flight, or its timers, set from our code);
 * - Immediates (they run on the next turn of the loop, they cannot outlive it).
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(import.meta.url);

/** Closing a socket or ending a child takes a few turns of the loop: how long a file gets to finish its closes. */
export const SETTLE_MS = Number(process.env.TEST_LEAK_SETTLE_MS ?? 3000);

interface UnrefSite {
  /** Where our code set it (path:line under the repository). */
  site: string;
  /** The test file running when it was unref'd; undefined between files. */
  file: string | undefined;
}

const unrefed = new Map<NodeJS.Timeout, UnrefSite>();
let currentFile: string | undefined;

let formatting = false;

/**
 * Where our code called the timer method that calls this: the first frame
 * outside this file and Node itself, as path:line under the repository;
 * undefined when that frame is not our code (node_modules), or when asked
 * again while a stack is being formatted (tsx's source-map support runs then).
 */
function callerSite(): string | undefined {
  if (formatting) return undefined;
  formatting = true;
  try {
    for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
      const match = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?$/.exec(line.trim());
      if (!match) continue;
      const path = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
      if (path === HERE) continue;
      if (!path.startsWith(REPO) || path.includes(`${sep}node_modules${sep}`)) return undefined;
      return `${relative(REPO, path)}:${match[2]}`;
    }
    return undefined;
  } finally {
    formatting = false;
  }
}

/** With TEST_LEAK_SITES=1: where every timer of the run was set (costs a stack trace per timer, hence opt-in). */
const created = process.env.TEST_LEAK_SITES ? new Map<NodeJS.Timeout, UnrefSite>() : undefined;

function recordCreation<F extends (...args: never[]) => NodeJS.Timeout>(original: F): F {
  return function (this: unknown, ...args: Parameters<F>) {
    const timer = original.apply(this, args);
    created!.set(timer, { site: callerSite() ?? 'outside the repository', file: currentFile });
    return timer;
  } as F;
}

/**
 * Wraps Timeout#unref and #ref so that the unref'd timers our code sets can be
 * found later; with TEST_LEAK_SITES=1, also setTimeout and setInterval.
 */
export function trackTimers(): void {
  if (created) {
    globalThis.setTimeout = recordCreation(globalThis.setTimeout) as typeof setTimeout;
    globalThis.setInterval = recordCreation(globalThis.setInterval) as typeof setInterval;
  }
  const probe = setTimeout(() => undefined, 0);
  clearTimeout(probe);
  const proto = Object.getPrototypeOf(probe) as { unref(): NodeJS.Timeout; ref(): NodeJS.Timeout };
  const { unref, ref } = proto;
  proto.unref = function (this: NodeJS.Timeout) {
    unref.call(this);
    const site = callerSite();
    if (site) unrefed.set(this, { site, file: currentFile });
    return this;
  };
  proto.ref = function (this: NodeJS.Timeout) {
    unrefed.delete(this);
    return ref.call(this);
  };
}

/** Node marks a timer destroyed once it has fired (and does not repeat) or was cleared. */
const pending = (timer: NodeJS.Timeout) => !(timer as unknown as { _destroyed: boolean })._destroyed;

export type Counts = Map<string, number>;

export function activeResources(): Counts {
  const counts: Counts = new Map();
  for (const type of process.getActiveResourcesInfo()) {
    if (type !== 'Immediate') counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

interface Excess {
  /** Types above the baseline, by how many. */
  counts: Counts;
  /** Our unref'd timers still pending. */
  timers: NodeJS.Timeout[];
}

/** What is alive now beyond `baseline`, and the unref'd timers of ours still pending (of `file`, or of any file). */
function excess(baseline: Counts, file: string | undefined | null): Excess {
  const counts: Counts = new Map();
  for (const [type, n] of activeResources()) {
    const before = baseline.get(type) ?? 0;
    if (n > before) counts.set(type, n - before);
  }
  const timers: NodeJS.Timeout[] = [];
  for (const [timer, { file: owner }] of unrefed) {
    if (!pending(timer)) unrefed.delete(timer);
    else if (file === null || owner === file) timers.push(timer);
  }
  return { counts, timers };
}

function describe({ counts, timers }: Excess, file: string | null): string[] {
  const found = [...counts].map(([type, n]) => `${n} ${type}`);
  const sites = new Map<string, number>();
  const add = (label: string) => sites.set(label, (sites.get(label) ?? 0) + 1);
  for (const timer of timers) add(`unref'd Timeout set at ${unrefed.get(timer)!.site}`);
  if (counts.has('Timeout') && created) {
    for (const [timer, { site, file: owner }] of created) {
      if (!pending(timer)) created.delete(timer);
      else if (timer.hasRef() && (file === null || owner === file)) add(`(a pending Timeout set at ${site})`);
    }
  } else if (counts.has('Timeout')) {
    found.push('(TEST_LEAK_SITES=1 names where each timer was set)');
  }
  return [...found, ...[...sites].map(([label, n]) => `${n} ${label}`)];
}

/** Leaks already reported by a file's check, so that the final check does not report them again. */
const reported: Counts = new Map();

/**
 * Mocha starts an async hook's timeout timer once the hook has returned its
 * promise: both the baseline and the check count after that, so that the
 * timer of the hook doing the counting is on both sides.
 */
const settledHook = () => Promise.resolve();

/** The start of a test file: what is alive now is its baseline; unref'd timers from now on are its own. */
export async function fileStarted(file: string): Promise<Counts> {
  currentFile = file;
  await settledHook();
  return activeResources();
}

/**
 * Waits (up to SETTLE_MS) for everything beyond `baseline` to go; describes
 * what is still there. `file` null is the final check: every pending unref'd
 * timer of ours counts, and what the files' checks reported is not repeated.
 */
export async function leftBehind(baseline: Counts, file: string | null): Promise<string[]> {
  if (file === null) baseline = new Map([...baseline].map(([type, n]) => [type, n + (reported.get(type) ?? 0)]));
  await settledHook();
  const end = Date.now() + SETTLE_MS;
  let found = excess(baseline, file);
  while ((found.counts.size > 0 || found.timers.length > 0) && Date.now() < end) {
    await sleep(20);
    found = excess(baseline, file);
  }
  if (file !== null) currentFile = undefined;
  const described = describe(found, file);
  for (const [type, n] of found.counts) reported.set(type, (reported.get(type) ?? 0) + n);
  for (const timer of found.timers) unrefed.delete(timer);
  return described;
}

export function repoPath(file: string): string {
  return relative(REPO, file);
}
