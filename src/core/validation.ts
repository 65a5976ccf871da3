import { InvalidArgument } from './errors.js';
import { checkExternalId, checkPlatform } from './ids.js';
import { parseJsonObject } from './json.js';
import type { RedirectPort } from './redirect-port.js';
import type { Origin, RedirectTarget } from './task.js';

/** Checks of request fields that are not ids (ids: ids.ts). Each throws InvalidArgument naming the field. */

export function parseArguments(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  const parsed = parseJsonObject(text, 'a JSON object, like {"text": "hi"}');
  if (!parsed.ok) throw new InvalidArgument('arguments_json', parsed.problem);
  return parsed.value;
}

export function checkOrigin(origin: Origin): Origin {
  checkExternalId(origin.userId, 'user_id');
  checkExternalId(origin.channelId, 'channel_id');
  checkPlatform(origin.platform);
  return { userId: origin.userId, channelId: origin.channelId, platform: origin.platform };
}

/** An output redirect's target, as Execute and SetOutputRedirect take it; the platform must be configured. */
export function checkRedirect(target: RedirectTarget, redirects: RedirectPort): void {
  if (!target.channelId) throw new InvalidArgument('channel_id', 'is required for an output redirect');
  checkExternalId(target.channelId, 'channel_id');
  if (!target.platform) throw new InvalidArgument('platform', 'is required for an output redirect');
  checkPlatform(target.platform);
  if (!Number.isInteger(target.maxChars) || target.maxChars < 0) {
    throw new InvalidArgument('max_chars', 'must be 0 (the platform limit) or a positive integer');
  }
  redirects.validateTarget(target);
}

export function optionalSeconds(value: number | undefined, field: string): number {
  if (value === undefined) return 0;
  if (!Number.isFinite(value) || value < 0)
    throw new InvalidArgument(field, 'must be a finite number >= 0 (0 means the default)');
  return value;
}

/** Throws InvalidArgument naming the field and the limit when `text` is larger than `maxBytes`. */
export function checkSize(text: string, maxBytes: number, field: string, setting: string): void {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: most texts are far below the limit, and need no count.
  if (text.length * 3 <= maxBytes) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) throw new InvalidArgument(field, `is ${bytes} bytes; the limit is ${maxBytes} (${setting})`);
}

/** Throws InvalidArgument when a parsed JSON value nests deeper than `maxDepth` (walked without recursion). */
export function checkDepth(value: unknown, maxDepth: number, field: string, setting: string): void {
  if (typeof value !== 'object' || value === null) return;
  // The stack is made only when there is something nested to walk: most arguments are flat.
  let stack: [object, number][] | undefined;
  let node: object | undefined = value;
  let depth = 1;
  while (node) {
    if (depth > maxDepth) throw new InvalidArgument(field, `nests deeper than ${maxDepth} levels (${setting})`);
    for (const key in node) {
      const child = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) (stack ??= []).push([child, depth + 1]);
    }
    [node, depth] = stack?.pop() ?? [undefined, 0];
  }
}
