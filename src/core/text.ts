import { type TaskRecord, TaskStatus } from './task.js';

/**
 * The strings a model reads. Their shapes are documented in README.md
 * ("The envelope") and are part of the API: change them only additively.
 */

export function envelopeText(task: TaskRecord): string {
  return JSON.stringify({
    task_id: task.taskId,
    status: TaskStatus.Running,
    tool_name: task.toolName,
    message:
      `Tool "${task.toolName}" is still running in the background. ` +
      `Call check_task with task_id "${task.taskId}" to get its result.`,
  });
}

/** Inline error text, as the seed returned it to the model. */
export function errorText(error: string): string {
  return `Error: ${error}`;
}

/** GetResult's text: the result itself when completed, a JSON status otherwise. */
export function statusText(task: TaskRecord, now = Date.now()): string {
  if (task.status === TaskStatus.Completed) return task.result ?? '';
  if (task.status === TaskStatus.Running) {
    return JSON.stringify({
      task_id: task.taskId,
      status: task.status,
      tool_name: task.toolName,
      elapsed_seconds: Math.round((now - task.createdAt) / 100) / 10,
      ...(task.progress && {
        progress: Math.round(task.progress.fraction * 1000) / 1000,
        progress_message: task.progress.message,
      }),
      message: `Still running. Call check_task with task_id "${task.taskId}" again later.`,
    });
  }
  return JSON.stringify({
    task_id: task.taskId,
    status: task.status,
    tool_name: task.toolName,
    failure_reason: task.failureReason,
    error: task.error ?? '',
  });
}

/** ListTasks' text: one summary object per task, newest first. */
export function listText(tasks: readonly TaskRecord[]): string {
  return JSON.stringify(
    tasks.map((t) => ({
      task_id: t.taskId,
      tool_name: t.toolName,
      status: t.status,
      created_at: new Date(t.createdAt).toISOString(),
      ...(t.failureReason && { failure_reason: t.failureReason }),
    })),
  );
}
