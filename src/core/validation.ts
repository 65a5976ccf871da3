import { InvalidArgument } from './errors.js';
import { checkExternalId, checkPlatform } from './ids.js';
import { parseJsonObject } from './json.js';
import type { Origin } from './task.js';

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

export function optionalSeconds(value: number | undefined, field: string): number {
  if (value === undefined) return 0;
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgument(field, 'must be a finite number >= 0 (0 means the default)');
  return value;
}

