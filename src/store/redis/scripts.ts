import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';

/** A connection to one Redis (alone or behind Sentinel) or to a Cluster. */
export type RedisClient = Redis | Cluster;

/** Script replies: [code, payload]. The caller of each script maps its codes to outcomes in one place. */
export type Reply = [number, string[] | string | undefined];

/** Commands the scripts register on the client (see withScripts). */
export interface ScriptCommands {
  createTask(...args: (string | number)[]): Promise<Reply>;
  finishTask(...args: (string | number)[]): Promise<Reply>;
  setProgress(...args: (string | number)[]): Promise<number>;
  appendOutput(...args: (string | number)[]): Promise<number>;
  requestInput(...args: (string | number)[]): Promise<Reply>;
  provideInput(...args: (string | number)[]): Promise<Reply>;
  setRedirect(...args: (string | number)[]): Promise<Reply>;
  claimDelivery(...args: (string | number)[]): Promise<Reply>;
  updateDelivery(...args: (string | number)[]): Promise<Reply>;
  expireTask(...args: (string | number)[]): Promise<number>;
  discardTask(...args: (string | number)[]): Promise<number>;
  reclaimDelivery(...args: (string | number)[]): Promise<Reply>;
  dueExpired(...args: (string | number)[]): Promise<string[]>;
  renewLease(...args: (string | number)[]): Promise<number>;
  lapsedInstances(...args: (string | number)[]): Promise<string[]>;
  forgetInstance(...args: (string | number)[]): Promise<number>;
  takePlaces(...args: (string | number)[]): Promise<number[]>;
  freePlaces(...args: (string | number)[]): Promise<number>;
  takeTotalPlaces(...args: (string | number)[]): Promise<number[]>;
  freeTotalPlaces(...args: (string | number)[]): Promise<number>;
}

/** The command connection, with the scripts registered as commands. */
export type ScriptedClient = RedisClient & ScriptCommands;

/**
 * The Lua scripts of lua/, loaded once. A script file is named for what it
 * does and how many keys it takes (`finish-task-6.lua` takes six);
 * `--@include lib` splices in lua/lib.lua. ioredis runs them with EVALSHA,
 * falling back to EVAL when the server does not know the script yet.
 */
const NAMES = [
  'create-task-5',
  'finish-task-6',
  'set-progress-1',
  'append-output-2',
  'request-input-1',
  'provide-input-1',
  'set-redirect-1',
  'claim-delivery-2',
  'update-delivery-2',
  'expire-task-6',
  'discard-task-6',
  'reclaim-delivery-4',
  'due-expired-1',
  'renew-lease-1',
  'lapsed-instances-1',
  'forget-instance-5',
  'take-places-2',
  'free-places-2',
  'take-total-places-2',
  'free-total-places-2',
] as const;

export type ScriptName = (typeof NAMES)[number];

export interface ScriptSource {
  name: ScriptName;
  /** camelCase command name registered on the ioredis client. */
  command: string;
  numberOfKeys: number;
  lua: string;
}

function read(file: string): string {
  return readFileSync(fileURLToPath(new URL(`./lua/${file}`, import.meta.url)), 'utf8');
}

/**
 * The scripts' sources. `shardedEvents`: task events go out with SPUBLISH
 * (Redis 7 sharded pub/sub: a message stays on the node that owns its
 * channel's slot) instead of PUBLISH (which a Cluster copies to every node).
 */
export function loadScripts(shardedEvents = false): ScriptSource[] {
  const lib = read('lib.lua');
  return NAMES.map((name) => {
    const numberOfKeys = Number(/-(\d+)$/.exec(name)![1]);
    const command = name.replace(/-\d+$/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    let lua = read(`${name}.lua`).replace('--@include lib', lib);
    if (shardedEvents) lua = lua.replaceAll("redis.call('PUBLISH',", "redis.call('SPUBLISH',");
    return { name, command, numberOfKeys, lua };
  });
}

/** Registers the Lua scripts as commands on a client. */
export function withScripts(client: RedisClient, shardedEvents = false): ScriptedClient {
  for (const script of loadScripts(shardedEvents)) {
    client.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
  return client as ScriptedClient;
}
