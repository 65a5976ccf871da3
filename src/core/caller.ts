/**
 * Who is calling, as authentication established it. A caller may be limited
 * to a set of user ids: it then acts only for them and sees only their
 * tasks. The core enforces the limit; how a caller is identified (bearer
 * tokens) is the transport's business.
 */
export interface Caller {
  /** For logs: the token's name, never the token. */
  readonly name: string;
  /** The user ids this caller may act for; null: any user (and the empty user_id). */
  readonly users: ReadonlySet<string> | null;
}

/** No authentication configured: every caller may act for every user, as the seed did. */
export const ANYONE: Caller = Object.freeze({ name: 'anyone', users: null });

export function mayActFor(caller: Caller, userId: string): boolean {
  return caller.users === null || caller.users.has(userId);
}
