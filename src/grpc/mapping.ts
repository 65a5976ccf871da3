import type { OutputChunk, TaskUpdate } from '../core/await.js';
import type { StreamEvent } from '../core/execute-stream.js';
import type { ExecuteResult } from '../core/outcome.js';
import { InvalidArgument } from '../core/errors.js';
import {
  DeliveryState,
  FailureReason,
  type Progress,
  type RedirectState,
  type TaskRecord,
  TaskStatus,
} from '../core/task.js';
import { statusText } from '../core/text.js';
import type { Tool } from '../core/tool.js';
import {
  DeliveryState as PbDeliveryState,
  FailureReason as PbFailureReason,
  type OutputChunk as PbOutputChunk,
  type OutputRedirect,
  type Progress as PbProgress,
  type Task,
  TaskStatus as PbTaskStatus,
} from '../../gen/ts/taskmanager/v1/task.js';
import {
  type AwaitResultResponse,
  type ExecuteResponse,
  type ExecuteStreamResponse,
  type ToolInfo,
  UpdateKind,
} from '../../gen/ts/taskmanager/v1/task_service.js';

/** Core values <-> proto enums. The core's strings are the stored ones. */
const STATUS_TO_PB: Record<TaskStatus, PbTaskStatus> = {
  [TaskStatus.Running]: PbTaskStatus.TASK_STATUS_RUNNING,
  [TaskStatus.Completed]: PbTaskStatus.TASK_STATUS_COMPLETED,
  [TaskStatus.Failed]: PbTaskStatus.TASK_STATUS_FAILED,
  [TaskStatus.InputRequired]: PbTaskStatus.TASK_STATUS_INPUT_REQUIRED,
};

export const REASON_TO_PB: Record<FailureReason, PbFailureReason> = {
  [FailureReason.ToolError]: PbFailureReason.FAILURE_REASON_TOOL_ERROR,
  [FailureReason.Cancelled]: PbFailureReason.FAILURE_REASON_CANCELLED,
  [FailureReason.HardTimeout]: PbFailureReason.FAILURE_REASON_HARD_TIMEOUT,
  [FailureReason.WorkerLost]: PbFailureReason.FAILURE_REASON_WORKER_LOST,
  [FailureReason.Shutdown]: PbFailureReason.FAILURE_REASON_SHUTDOWN,
  [FailureReason.InputTimeout]: PbFailureReason.FAILURE_REASON_INPUT_TIMEOUT,
};

const DELIVERY_TO_PB: Record<DeliveryState, PbDeliveryState> = {
  [DeliveryState.Pending]: PbDeliveryState.DELIVERY_STATE_PENDING,
  [DeliveryState.Delivering]: PbDeliveryState.DELIVERY_STATE_DELIVERING,
  [DeliveryState.Delivered]: PbDeliveryState.DELIVERY_STATE_DELIVERED,
  [DeliveryState.Failed]: PbDeliveryState.DELIVERY_STATE_FAILED,
};

const UPDATE_KIND_TO_PB: Record<TaskUpdate['kind'], UpdateKind> = {
  snapshot: UpdateKind.UPDATE_KIND_SNAPSHOT,
  progress: UpdateKind.UPDATE_KIND_PROGRESS,
  heartbeat: UpdateKind.UPDATE_KIND_HEARTBEAT,
  terminal: UpdateKind.UPDATE_KIND_TERMINAL,
  wait_timed_out: UpdateKind.UPDATE_KIND_WAIT_TIMED_OUT,
  input: UpdateKind.UPDATE_KIND_INPUT,
  output: UpdateKind.UPDATE_KIND_OUTPUT,
};

/** A ListTasks status filter; UNSPECIFIED means any. */
export function statusFilterFromPb(status: PbTaskStatus): TaskStatus | undefined {
  if (status === PbTaskStatus.TASK_STATUS_UNSPECIFIED) return undefined;
  const found = (Object.keys(STATUS_TO_PB) as TaskStatus[]).find((s) => STATUS_TO_PB[s] === status);
  if (!found)
    throw new InvalidArgument(
      'status',
      `unknown status ${status}; use TASK_STATUS_RUNNING, _INPUT_REQUIRED, _COMPLETED or _FAILED`,
    );
  return found;
}

export function taskToPb(task: TaskRecord): Task {
  return {
    taskId: task.taskId,
    toolName: task.toolName,
    status: STATUS_TO_PB[task.status],
    failureReason: task.failureReason ? REASON_TO_PB[task.failureReason] : PbFailureReason.FAILURE_REASON_UNSPECIFIED,
    createdAt: new Date(task.createdAt),
    updatedAt: new Date(task.updatedAt),
    finishedAt: task.finishedAt === undefined ? undefined : new Date(task.finishedAt),
    result: task.result ?? '',
    error: task.error ?? '',
    userId: task.userId,
    channelId: task.channelId,
    platform: task.platform,
    progress: task.progress && progressToPb(task.progress),
    redirect: task.redirect && redirectToPb(task.redirect),
    requestId: task.requestId ?? '',
    version: String(task.version),
    outputBytes: String(task.outputBytes ?? 0),
    outputTruncated: task.outputTruncated ?? false,
    inputRequest: task.inputRequest && {
      id: task.inputRequest.id,
      message: task.inputRequest.message,
      schemaJson: task.inputRequest.schemaJson,
      requestedAt: new Date(task.inputRequest.requestedAt),
    },
  };
}

function progressToPb(progress: Progress): PbProgress {
  return { fraction: progress.fraction, message: progress.message, updatedAt: new Date(progress.updatedAt) };
}

function redirectToPb(redirect: RedirectState): OutputRedirect {
  return {
    channelId: redirect.channelId,
    platform: redirect.platform,
    maxChars: redirect.maxChars,
    deliveryState: DELIVERY_TO_PB[redirect.state],
    attempts: redirect.attempts,
    lastError: redirect.lastError,
    deliveredAt: redirect.deliveredAt === undefined ? undefined : new Date(redirect.deliveredAt),
  };
}

export function updateToPb(update: TaskUpdate, sequence: number): AwaitResultResponse {
  return {
    task: taskToPb(update.task),
    text: statusText(update.task),
    sequence: String(sequence),
    waitTimedOut: update.kind === 'wait_timed_out',
    kind: UPDATE_KIND_TO_PB[update.kind],
    output: update.output && outputToPb(update.output),
  };
}

function outputToPb(chunk: OutputChunk): PbOutputChunk {
  return { offset: String(chunk.offset), text: chunk.text };
}

export function executeResultToPb(result: ExecuteResult): ExecuteResponse {
  return { backgrounded: result.backgrounded, task: taskToPb(result.task), text: result.text };
}

/** One ExecuteStream event; `nextSequence` numbers the updates (1, 2, ... among them). */
export function streamEventToPb(event: StreamEvent, nextSequence: () => number): ExecuteStreamResponse {
  switch (event.kind) {
    case 'inline_output':
      return { event: { $case: 'output', value: outputToPb(event.chunk) } };
    case 'inline_progress':
      return { event: { $case: 'progress', value: progressToPb(event.progress) } };
    case 'answer':
      return { event: { $case: 'answer', value: executeResultToPb(event.result) } };
    default:
      return { event: { $case: 'update', value: updateToPb(event, nextSequence()) } };
  }
}

export function toolToPb(tool: Tool, serverDefaults: { budgetSeconds: number; hardTimeoutSeconds: number }): ToolInfo {
  return {
    name: tool.name,
    description: tool.description,
    parametersJsonSchema: JSON.stringify(tool.parameters),
    noBackground: tool.noBackground,
    defaultTimeoutSeconds: tool.budgetSeconds ?? serverDefaults.budgetSeconds,
    hardTimeoutSeconds: tool.hardTimeoutSeconds ?? serverDefaults.hardTimeoutSeconds,
    source: tool.source,
    workers: tool.workerCount?.() ?? 0,
    unavailableReason: unavailableReason(tool),
  };
}

function unavailableReason(tool: Tool): string {
  const placement = tool.place?.();
  return placement?.kind === 'nowhere' ? placement.why : '';
}
