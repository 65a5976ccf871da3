import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ClientOptions } from '../client/client.js';

/** A mistake on the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** Options every client command takes. */
export const COMMON = {
  addr: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  user: { type: 'string' },
  tls: { type: 'boolean', default: false },
  ca: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export interface Common {
  addr: string;
  json: boolean;
  client: ClientOptions;
}

/** Parses a command's arguments; unknown options are usage errors that name them. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * The connection settings: flags first, then TASKSERVICE_CLIENT_ADDR /
 * TASKSERVICE_TOKEN from the environment (a token on the command line shows
 * in `ps`; the environment does not).
 */
export function common(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Common {
  const token = (values.token as string | undefined) ?? env.TASKSERVICE_TOKEN;
  const ca = values.ca as string | undefined;
  const tls = ca ? { ca: readFileSync(ca) } : values.tls === true;
  const userId = values.user as string | undefined;
  return {
    addr: (values.addr as string | undefined) ?? env.TASKSERVICE_CLIENT_ADDR ?? '127.0.0.1:50051',
    json: values.json === true,
    client: { ...(token && { token }), ...(tls && { tls }), ...(userId !== undefined && { userId }) },
  };
}

export function seconds(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--${flag} must be a number of seconds, not "${String(value)}"`);
  return n;
}

export function positional(positionals: string[], index: number, name: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') throw new UsageError(`missing <${name}>`);
  return value;
}
