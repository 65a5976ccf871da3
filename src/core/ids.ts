import { randomUUID } from 'node:crypto';
import { InvalidArgument } from './errors.js';

/** Task ids are UUIDs; ids from outside must at least be safe as store keys. */
const TASK_ID = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * user, channel and request ids come from other systems, so they may hold
 * most printable characters, but never key syntax (`:` `{` `}` `*`),
 * whitespace or control characters.
 */
const EXTERNAL_ID = /^[^\s:{}*\p{Cc}]{1,256}$/u;
const PLATFORM = /^[a-z][a-z0-9_-]{0,31}$/;

export function newTaskId(): string {
  return randomUUID();
}

export function checkTaskId(value: string, field = 'task_id'): string {
  if (!value) throw new InvalidArgument(field, 'is required');
  if (!TASK_ID.test(value)) {
    throw new InvalidArgument(field, 'must be 1-64 characters of A-Z a-z 0-9 _ - (as returned by Execute)');
  }
  return value;
}

/** Empty is allowed (meaning "not given"); anything else must be a safe id. */
export function checkExternalId(value: string, field: string): string {
  if (value && !EXTERNAL_ID.test(value)) {
    throw new InvalidArgument(
      field,
      'must be at most 256 characters with no whitespace, control characters, ":", "{", "}" or "*"',
    );
  }
  return value;
}

export function checkPlatform(value: string, field = 'platform'): string {
  if (value && !PLATFORM.test(value)) {
    throw new InvalidArgument(field, 'must be a lowercase name: a-z first, then a-z 0-9 _ -, at most 32 characters');
  }
  return value;
}
