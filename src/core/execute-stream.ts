import type { OutputChunk, TaskUpdate } from './await.js';
import type { ExecuteCall } from './execute-flow.js';
import type { ExecuteResult } from './outcome.js';
import type { Progress } from './task.js';
import type { AwaitOptions } from './task-access.js';
import type { WatchedTask } from './watched-tasks.js';

/**
 * One event of ExecuteStream, in the order they come. After the answer, the
 * backgrounded task's updates (its changes and output, until the terminal
 * one) come as they are, so that the watch is delegated to, not wrapped.
 */
export type StreamEvent =
  /** While the call waits inline: output the tool wrote (offsets from 0). */
  | { kind: 'inline_output'; chunk: OutputChunk }
  /** While the call waits inline: the tool's latest progress. */
  | { kind: 'inline_progress'; progress: Progress }
  /** Execute's answer; for a backgrounded call, updates follow. */
  | { kind: 'answer'; result: ExecuteResult }
  | TaskUpdate;

/** What ExecuteStream uses: the manager's execute and watch. */
export interface ExecuteAndWatch {
  execute(call: ExecuteCall): Promise<ExecuteResult>;
  watch(taskId: string, options: AwaitOptions): AsyncGenerator<TaskUpdate>;
  /** A place among the task's watches, held before a watch of it begins (see WatchedTasks). */
  holdWatch(taskId: string): WatchedTask;
}

/** How the backgrounded task is followed: AwaitResult's options, minus what the stream decides. */
export type FollowOptions = Omit<AwaitOptions, 'userId' | 'afterVersion' | 'outputOffset'>;

/**
 * Execute and follow in one call: the inline phase's output and progress as
 * the tool produces them, then Execute's answer, then (backgrounded) the
 * task's updates from the answer's version and its output from where the
 * inline output stopped, so nothing is sent twice or lost between the phases.
 *
 * While the consumer reads slowly, the inline phase holds every output piece
 * (bounded by the output limit) and only the newest progress.
 */
export async function* executeAndFollow(
  manager: ExecuteAndWatch,
  call: ExecuteCall,
  follow: FollowOptions,
): AsyncGenerator<StreamEvent> {
  const queued: StreamEvent[] = [];
  let wake: (() => void) | undefined;
  let answered = false;
  let outputBytes = 0;
  const push = (event: StreamEvent) => {
    const last = queued.at(-1);
    if (event.kind === 'inline_progress' && last?.kind === 'inline_progress') queued[queued.length - 1] = event;
    else queued.push(event);
    wake?.();
  };
  // The call is this stream's own (made for it), so its inline watchers are set on it, not on a copy.
  call.onOutput = (chunk) => push({ kind: 'inline_output', chunk });
  call.onProgress = (progress) => push({ kind: 'inline_progress', progress });
  // Backgrounded, the call is followed: held among the task's watches from before its record is created, the
  // follow starts from the created record and the changes since, without reading the task back.
  let held: WatchedTask | undefined;
  call.onRecording = (taskId) => (held = manager.holdWatch(taskId));
  call.onRecorded = (task) => held?.seed(task);
  const answer = manager.execute(call).finally(() => {
    answered = true;
    wake?.();
  });
  // Rejections are rethrown below, once the events before them are out.
  answer.catch(() => undefined);
  try {
    for (;;) {
      while (queued.length > 0) {
        const event = queued.shift()!;
        if (event.kind === 'inline_output')
          outputBytes = event.chunk.offset + Buffer.byteLength(event.chunk.text, 'utf8');
        yield event;
      }
      if (answered) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    const result = await answer;
    yield { kind: 'answer', result };
    if (!result.backgrounded) return;
    const updates = manager.watch(result.task.taskId, {
      ...follow,
      userId: result.task.userId,
      afterVersion: result.task.version,
      outputOffset: outputBytes,
    });
    yield* updates;
  } finally {
    // Once the follow has joined (or never will): the task's watches no longer need this place kept.
    held?.leave();
  }
}
