import { InvalidArgument } from '../core/errors.js';

/**
 * Page tokens are opaque to callers: a tagged position, base64url-encoded.
 * The tag lets a store reject a token minted by a different store kind.
 */
export function encodeCursor(tag: string, position: string): string {
  return Buffer.from(`${tag}:${position}`, 'utf8').toString('base64url');
}

export function decodeCursor(tag: string, token: string, valid: RegExp): string {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  const prefix = `${tag}:`;
  const position = text.startsWith(prefix) ? text.slice(prefix.length) : '';
  if (!valid.test(position)) {
    throw new InvalidArgument(
      'page_token',
      'is not a token from a previous ListTasks response; omit it to start at the first page',
    );
  }
  return position;
}
