import type { NewTask } from '../../core/store.js';
import { DeliveryState, type FailureReason, type InputEpisode, type TaskRecord, TaskStatus } from '../../core/task.js';

/**
 * The task hash <-> TaskRecord. Field names are the seed's where it had
 * one (task_id, tool_name, status, created_at, result, error, user_id,
 * channel_id, platform, redirect_channel_id, redirect_platform,
 * redirect_max_chars); times are epoch seconds with milliseconds, as the
 * seed's time.time() wrote them. docs/REDIS.md lists every field.
 */
export type TaskHash = Record<string, string>;

export function hashFromFlat(flat: string[]): TaskHash {
  const hash: TaskHash = {};
  for (let i = 0; i < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
  return hash;
}

const ms = (seconds: string | undefined): number | undefined =>
  seconds === undefined || seconds === '' ? undefined : Math.round(Number(seconds) * 1000);

export function taskFromHash(h: TaskHash): TaskRecord {
  const task: TaskRecord = {
    taskId: h.task_id,
    toolName: h.tool_name ?? '',
    status: (h.status as TaskStatus) ?? TaskStatus.Running,
    createdAt: ms(h.created_at) ?? 0,
    updatedAt: ms(h.updated_at) ?? 0,
    userId: h.user_id ?? '',
    channelId: h.channel_id ?? '',
    platform: h.platform ?? '',
    owner: h.owner ?? '',
    version: Number(h.version ?? 1),
  };
  if (h.failure_reason) task.failureReason = h.failure_reason as FailureReason;
  if (h.finished_at) task.finishedAt = ms(h.finished_at);
  if (h.result !== undefined && task.status === TaskStatus.Completed) task.result = h.result;
  if (h.error !== undefined && task.status === TaskStatus.Failed) task.error = h.error;
  if (h.request_id) task.requestId = h.request_id;
  if (h.arguments !== undefined) task.argumentsJson = h.arguments;
  if (h.progress_updated_at) {
    task.progress = {
      fraction: Number(h.progress_fraction ?? 0),
      message: h.progress_message ?? '',
      updatedAt: ms(h.progress_updated_at)!,
    };
  }
  if (h.input_request_id && task.status === TaskStatus.InputRequired) {
    task.inputRequest = {
      id: h.input_request_id,
      message: h.input_request_message ?? '',
      schemaJson: h.input_request_schema ?? '{}',
      requestedAt: ms(h.input_requested_at) ?? 0,
    };
  }
  if (h.output_bytes) task.outputBytes = Number(h.output_bytes);
  if (h.output_truncated) task.outputTruncated = true;
  if (h.input_log) task.inputLog = inputLogFromJson(h.input_log);
  if (h.input_answer_id) task.inputAnswer = { requestId: h.input_answer_id, responseJson: h.input_answer_json ?? '' };
  if (h.redirect_platform) {
    task.redirect = {
      channelId: h.redirect_channel_id ?? '',
      platform: h.redirect_platform,
      maxChars: Number(h.redirect_max_chars ?? 0),
      state: (h.redirect_state as DeliveryState) || DeliveryState.Pending,
      attempts: Number(h.redirect_attempts ?? 0),
      lastError: h.redirect_last_error ?? '',
      ...(h.redirect_delivered_at && { deliveredAt: ms(h.redirect_delivered_at) }),
    };
  }
  return task;
}

/** The `input_log` field: the task's questions as request-input and provide-input record them. */
interface StoredEpisode {
  id: string;
  message: string;
  schema: string;
  at: number;
  asked: number;
  answered?: number;
}

function inputLogFromJson(json: string): InputEpisode[] {
  // cjson encodes an empty table as an object, not an array.
  const stored = JSON.parse(json) as StoredEpisode[] | Record<string, never>;
  if (!Array.isArray(stored)) return [];
  return stored.map((e) => ({
    request: { id: e.id, message: e.message, schemaJson: e.schema, requestedAt: e.at },
    askedVersion: e.asked,
    ...(e.answered !== undefined && { answeredVersion: e.answered }),
  }));
}

/** The fields create-task writes besides those it derives itself. */
export function initialFields(draft: NewTask): Record<string, string | number> {
  const fields: Record<string, string | number> = {
    tool_name: draft.toolName,
    user_id: draft.userId,
    channel_id: draft.channelId,
    platform: draft.platform,
    owner: draft.owner,
  };
  if (draft.argumentsJson !== undefined) fields.arguments = draft.argumentsJson;
  if (draft.progress) {
    fields.progress_fraction = draft.progress.fraction;
    fields.progress_message = draft.progress.message;
    fields.progress_updated_at = (draft.progress.updatedAt / 1000).toFixed(3);
  }
  if (draft.redirect) {
    fields.redirect_channel_id = draft.redirect.channelId;
    fields.redirect_platform = draft.redirect.platform;
    fields.redirect_max_chars = draft.redirect.maxChars;
    fields.redirect_state = DeliveryState.Pending;
    fields.redirect_attempts = 0;
    fields.redirect_last_error = '';
  }
  return fields;
}
