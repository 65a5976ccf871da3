import { createHash, timingSafeEqual } from 'node:crypto';
import type { Caller } from '../core/caller.js';

/*
 * Bearer tokens, shared by every front door (gRPC, MCP): which caller a token is, and the users it may act for.
 */

export interface TokenEntry {
  name: string;
  token: string;
  users: string[] | '*';
}

/** Why a request was not let in; said to the caller as is. */
export type Rejection = { problem: string };

/**
 * The configured bearer tokens. Only their SHA-256 digests are kept, and a
 * presented token is hashed and compared with every digest in constant time
 * (no early exit), so neither the comparison nor the token's length tells an
 * attacker how close a guess was.
 */
export class TokenBook {
  private readonly entries: { digest: Buffer; caller: Caller }[];

  constructor(tokens: readonly TokenEntry[]) {
    this.entries = tokens.map((t) => ({
      digest: sha256(t.token),
      caller: Object.freeze({ name: t.name, users: t.users === '*' ? null : new Set(t.users) }),
    }));
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /**
   * The caller for an `authorization` value (gRPC metadata or HTTP header, named by `carrier` in
   * the messages), or why it is refused.
   */
  identify(authorization: string | undefined, carrier = 'metadata'): Caller | Rejection {
    if (!authorization) return { problem: `missing credentials: send "authorization: Bearer <token>" ${carrier}` };
    const match = /^Bearer ([^\s]+)$/i.exec(authorization.trim());
    if (!match) return { problem: `the authorization ${carrier} must be "Bearer <token>"` };
    const presented = sha256(match[1]!);
    let found: Caller | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented) && !found) found = entry.caller;
    }
    return found ?? { problem: 'the bearer token is not valid' };
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
