import { setTimeout as sleep } from 'node:timers/promises';
import { type AnyToolSpec, defineTool } from './define.js';

/**
 * Tools that make a fresh server explorable from grpcurl and testable from
 * outside. TASKSERVICE_EXAMPLE_TOOLS=false leaves them out.
 */

export const echo = defineTool<{ text: string }>({
  name: 'echo',
  description: 'Returns the given text unchanged.',
  parameters: {
    type: 'object',
    properties: { text: { type: 'string', description: 'Text to return' } },
    required: ['text'],
    additionalProperties: false,
  },
  handler: ({ text }) => text,
});

export const sleepTool = defineTool<{ seconds: number }>({
  name: 'sleep',
  description: 'Waits the given number of seconds, reporting progress, then returns. Stops when cancelled.',
  parameters: {
    type: 'object',
    properties: { seconds: { type: 'number', minimum: 0, maximum: 86400, description: 'How long to wait' } },
    required: ['seconds'],
    additionalProperties: false,
  },
  async handler({ seconds }, ctx) {
    const steps = Math.max(1, Math.min(20, Math.ceil(seconds * 4)));
    for (let step = 1; step <= steps; step++) {
      // Rejects with the abort reason as soon as the task is cancelled.
      await sleep((seconds * 1000) / steps, undefined, { signal: ctx.signal });
      if (step < steps) ctx.progress(step / steps, `${((seconds * step) / steps).toFixed(2)} of ${seconds} s`);
    }
    return `slept ${seconds} s`;
  },
});

export const fail = defineTool<{ message: string }>({
  name: 'fail',
  description: 'Fails with the given message (to see how errors look).',
  parameters: {
    type: 'object',
    properties: { message: { type: 'string', description: 'The error message' } },
    required: ['message'],
    additionalProperties: false,
  },
  handler({ message }) {
    throw new Error(message);
  },
});

export const ask = defineTool<{ question: string }>({
  name: 'ask',
  description: 'Asks a person a question and returns their answer (the task waits in INPUT_REQUIRED until then).',
  parameters: {
    type: 'object',
    properties: { question: { type: 'string', minLength: 1, description: 'What to ask' } },
    required: ['question'],
    additionalProperties: false,
  },
  async handler({ question }, ctx) {
    const { answer } = await ctx.requestInput({
      message: question,
      schema: {
        type: 'object',
        properties: { answer: { type: 'string', description: 'The answer' } },
        required: ['answer'],
        additionalProperties: false,
      },
    });
    return `answer: ${String(answer)}`;
  },
});

export const ticker = defineTool<{ count: number; interval_seconds: number }>({
  name: 'ticker',
  description:
    'Writes "tick <i>" as output and reports progress i/count every interval, then returns "ticked <count>" ' +
    '(to see output stream). Stops when cancelled.',
  parameters: {
    type: 'object',
    properties: {
      count: { type: 'integer', minimum: 1, maximum: 100000, description: 'How many ticks' },
      interval_seconds: { type: 'number', minimum: 0, maximum: 3600, description: 'Time between ticks' },
    },
    required: ['count', 'interval_seconds'],
    additionalProperties: false,
  },
  async handler({ count, interval_seconds: interval }, ctx) {
    for (let i = 1; i <= count; i++) {
      await sleep(interval * 1000, undefined, { signal: ctx.signal });
      ctx.output(`tick ${i}\n`);
      ctx.progress(i / count, `tick ${i} of ${count}`);
    }
    return `ticked ${count}`;
  },
});

export const exampleTools: AnyToolSpec[] = [echo, sleepTool, fail, ask, ticker];
