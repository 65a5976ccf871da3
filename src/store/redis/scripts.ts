import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The Lua scripts of lua/, loaded once. A script file is named for what it
 * does and how many keys it takes (`finish-task-4.lua`); `--@include lib`
 * splices in lua/lib.lua. ioredis runs them with EVALSHA, falling back to
 * EVAL when the server does not know the script yet.
 */
const NAMES = [
  'create-task-5',
  'finish-task-5',
  'set-progress-1',
  'set-redirect-1',
  'claim-delivery-2',
  'update-delivery-2',
  'expire-task-5',
  'discard-task-5',
  'reclaim-delivery-4',
  'due-expired-1',
  'renew-lease-1',
  'lapsed-instances-1',
  'forget-instance-3',
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

export function loadScripts(): ScriptSource[] {
  const lib = read('lib.lua');
  return NAMES.map((name) => {
    const numberOfKeys = Number(/-(\d+)$/.exec(name)![1]);
    const command = name.replace(/-\d+$/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    const lua = read(`${name}.lua`).replace('--@include lib', lib);
    return { name, command, numberOfKeys, lua };
  });
}
