import { setTimeout as sleep } from 'node:timers/promises';
import { defineTool } from '../src/tools/define.js';

/**
 * The bench's tools, loaded with TASKSERVICE_TOOL_MODULES=bench/tools.ts:
 * trivial on purpose, so that what is measured is the service around them.
 */
export const tools = [
  defineTool<{ text?: string }>({
    name: 'noop',
    description: 'Returns its text at once.',
    parameters: { type: 'object', properties: { text: { type: 'string' } } },
    handler: ({ text }) => text ?? '',
  }),
  defineTool({
    name: 'idle',
    description:
      'Runs until it is stopped (cancel, hard limit, shutdown), holding nothing: its own state is one promise.',
    parameters: { type: 'object' },
    handler: () => new Promise<string>(() => {}),
  }),
  defineTool<{ ms: number }>({
    name: 'wait_ms',
    description: 'Waits ms milliseconds, then returns "done".',
    parameters: { type: 'object', properties: { ms: { type: 'number', minimum: 0 } }, required: ['ms'] },
    handler: async ({ ms }, ctx) => {
      await sleep(ms, undefined, { signal: ctx.signal });
      return 'done';
    },
  }),
  defineTool<{ ms: number }>({
    name: 'settle_stamp',
    description: 'Waits ms milliseconds, then returns the epoch time (ms, fractional) at which it settled.',
    parameters: { type: 'object', properties: { ms: { type: 'number', minimum: 0 } }, required: ['ms'] },
    handler: async ({ ms }, ctx) => {
      await sleep(ms, undefined, { signal: ctx.signal });
      return String(performance.timeOrigin + performance.now());
    },
  }),
  defineTool<{ count: number; interval_ms: number }>({
    name: 'progress_ticks',
    description: 'Reports progress count times, every interval_ms, then returns "ticked": one task change a tick.',
    parameters: {
      type: 'object',
      properties: { count: { type: 'integer', minimum: 1 }, interval_ms: { type: 'number', minimum: 0 } },
      required: ['count', 'interval_ms'],
    },
    handler: async ({ count, interval_ms: interval }, ctx) => {
      for (let i = 1; i <= count; i++) {
        await sleep(interval, undefined, { signal: ctx.signal });
        ctx.progress(i / count, `tick ${i}`);
      }
      return 'ticked';
    },
  }),
];

export default tools;
