import type { Setting } from './setting.js';

const MIB = 1024 * 1024;

/** The limits among SETTINGS (settings.ts), in the README's order: the last rows of its table. */
export const LIMIT_SETTINGS = [
  {
    name: 'TASKSERVICE_MAX_ARGUMENTS_BYTES',
    kind: 'integer',
    default: MIB,
    min: 1024,
    max: 64 * MIB,
    meaning: 'largest `arguments_json` accepted',
  },
  {
    name: 'TASKSERVICE_MAX_JSON_DEPTH',
    kind: 'integer',
    default: 64,
    min: 1,
    max: 10_000,
    meaning: 'deepest nesting of the arguments',
  },
  {
    name: 'TASKSERVICE_MAX_RESULT_BYTES',
    kind: 'integer',
    default: MIB,
    min: 1024,
    max: 64 * MIB,
    meaning: 'results longer than this are cut, with a note',
  },
  {
    name: 'TASKSERVICE_MAX_OUTPUT_BYTES',
    kind: 'integer',
    default: MIB,
    min: 1024,
    max: 64 * MIB,
    meaning: "a task's output (ctx.output) past this ends with a marker; later output is dropped",
  },
  {
    name: 'TASKSERVICE_MAX_RUNNING',
    kind: 'integer',
    default: 1e4,
    min: 1,
    max: 10_000_000,
    meaning: 'tools running at once on this replica',
  },
  {
    name: 'TASKSERVICE_MAX_RUNNING_PER_USER',
    kind: 'integer',
    default: 1_000,
    min: 1,
    max: 10_000_000,
    meaning: "one user_id's tools running at once: on every replica together when they share Redis",
  },
  {
    name: 'TASKSERVICE_MAX_RUNNING_TOTAL',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 1_000_000_000,
    meaning: 'tools running at once on every replica together (they share Redis); 0: no such limit',
  },
  {
    name: 'TASKSERVICE_MAX_STREAMS_PER_CONNECTION',
    kind: 'integer',
    default: 10_000,
    min: 1,
    max: 1_000_000,
    meaning: 'AwaitResult streams one client connection may hold',
  },
  {
    name: 'TASKSERVICE_PENDING_OUTCOMES_MAX',
    kind: 'integer',
    default: 10_000,
    min: 0,
    max: 10_000_000,
    meaning: 'outcomes kept in memory while Redis is unreachable',
  },
] as const satisfies readonly Setting[];
