import { type TaskRecord, TaskStatus } from './task.js';

/**
 * The strings a model reads. Their shapes are documented in README.md
 * ("The envelope") and are part of the API: change them only additively.
 */

export function envelopeText(task: TaskRecord): string {
  if (task.inputRequest) return JSON.stringify(questionFields(task));
  return JSON.stringify({
    task_id: task.taskId,
    status: TaskStatus.Running,
    tool_name: task.toolName,
    message:
      `Tool "${task.toolName}" is still running in the background. ` +
      `Call check_task with task_id "${task.taskId}" to get its result.`,
  });
}

/**
 * A task waiting for input, as the model reads it: the question, the schema of
 * the answer, and how to give it (the provide_input meta-tool, or ProvideInput).
 */
function questionFields(task: TaskRecord): Record<string, unknown> {
  const question = task.inputRequest!;
  let schema: unknown = question.schemaJson;
  try {
    schema = JSON.parse(question.schemaJson);
  } catch {
    // Stored by the tool as valid JSON; shown as text should it ever not be.
  }
  return {
    task_id: task.taskId,
    status: TaskStatus.InputRequired,
    tool_name: task.toolName,
    input_request_id: question.id,
    question: question.message,
    answer_schema: schema,
    message:
      `Tool "${task.toolName}" is waiting for an answer to: ${question.message} ` +
      `Ask the user, then call provide_input with task_id "${task.taskId}", ` +
      `input_request_id "${question.id}" and the answer as a JSON object matching answer_schema.`,
  };
}

/** Inline error text, as the seed returned it to the model. */
export function errorText(error: string): string {
  return `Error: ${error}`;
}

/** GetResult's text: the result itself when completed, a JSON status otherwise. */
export function statusText(task: TaskRecord, now = Date.now()): string {
  if (task.status === TaskStatus.Completed) return task.result ?? '';
  if (task.status === TaskStatus.InputRequired && task.inputRequest) return JSON.stringify(questionFields(task));
  if (task.status === TaskStatus.Running || task.status === TaskStatus.InputRequired) {
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
