import type { TaskManager } from '../core/manager.js';
import { statusText } from '../core/text.js';
import { type AnyToolSpec, defineTool } from './define.js';

type TaskOps = Pick<TaskManager, 'get' | 'cancel' | 'setRedirect' | 'provideInput'>;

const taskIdParam = { type: 'string', description: 'The task_id from the envelope of a backgrounded call' };

/**
 * Tools for the model itself, so an inference service can route every tool
 * call through Execute. They act for the caller's user_id: a model sees only
 * its own user's tasks (all tasks when the call names no user, as the seed did).
 */
export function metaTools(tasks: TaskOps): AnyToolSpec[] {
  const checkTask = defineTool<{ task_id: string }>({
    name: 'check_task',
    description: 'Get the result of a background task, or its status if it is still running.',
    parameters: {
      type: 'object',
      properties: { task_id: taskIdParam },
      required: ['task_id'],
      additionalProperties: false,
    },
    noBackground: true,
    handler: async ({ task_id }, ctx) => statusText(await tasks.get(task_id, ctx.origin.userId)),
  });

  const cancelTask = defineTool<{ task_id: string }>({
    name: 'cancel_task',
    description: 'Cancel a running background task.',
    parameters: {
      type: 'object',
      properties: { task_id: taskIdParam },
      required: ['task_id'],
      additionalProperties: false,
    },
    noBackground: true,
    handler: async ({ task_id }, ctx) => {
      const task = await tasks.cancel(task_id, ctx.origin.userId);
      return {
        task_id: task.taskId,
        status: task.status,
        failure_reason: task.failureReason,
        message: 'Task cancelled.',
      };
    },
  });

  const redirectTask = defineTool<{ task_id: string; channel_id: string; platform: string; max_chars?: number }>({
    name: 'redirect_task',
    description: 'Deliver the result of a background task to a chat channel when it finishes.',
    parameters: {
      type: 'object',
      properties: {
        task_id: taskIdParam,
        channel_id: { type: 'string', description: 'The channel to post the result to' },
        platform: { type: 'string', description: 'A configured platform name' },
        max_chars: { type: 'integer', minimum: 0, description: 'Longest message; 0 = the platform limit' },
      },
      required: ['task_id', 'channel_id', 'platform'],
      additionalProperties: false,
    },
    noBackground: true,
    handler: async ({ task_id, channel_id, platform, max_chars = 0 }, ctx) => {
      const task = await tasks.setRedirect(task_id, ctx.origin.userId, {
        channelId: channel_id,
        platform,
        maxChars: max_chars,
      });
      return {
        task_id: task.taskId,
        status: task.status,
        redirect: { channel_id, platform, delivery_state: task.redirect?.state },
        message: `The result will be delivered to ${platform} channel ${channel_id} when the task finishes.`,
      };
    },
  });

  const provideInput = defineTool<{ task_id: string; input_request_id: string; answer: Record<string, unknown> }>({
    name: 'provide_input',
    description:
      'Answer the question of a background task that waits for input (status input_required); ' +
      'the answer is a JSON object matching the answer_schema the task showed.',
    parameters: {
      type: 'object',
      properties: {
        task_id: taskIdParam,
        input_request_id: { type: 'string', description: 'The input_request_id the task showed' },
        answer: { type: 'object', description: 'The answer, matching answer_schema' },
      },
      required: ['task_id', 'input_request_id', 'answer'],
      additionalProperties: false,
    },
    noBackground: true,
    handler: async ({ task_id, input_request_id, answer }, ctx) => {
      const task = await tasks.provideInput({
        taskId: task_id,
        userId: ctx.origin.userId,
        inputRequestId: input_request_id,
        responseJson: JSON.stringify(answer),
      });
      return {
        task_id: task.taskId,
        status: task.status,
        message: `Answer given; the task goes on. Call check_task with task_id "${task.taskId}" for its result.`,
      };
    },
  });

  return [checkTask, cancelTask, redirectTask, provideInput];
}
