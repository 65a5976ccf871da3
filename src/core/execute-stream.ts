import type { OutputChunk, TaskUpdate } from './await.js';
import type { ExecuteCall } from './execute-flow.js';
import type { ExecuteResult } from './outcome.js';
import type { Progress } from './task.js';
import type { AwaitOptions } from './task-access.js';

/** One event of ExecuteStream, in the order they come. */
export type StreamEvent =
  /** While the call waits inline: output the tool wrote (offsets from 0). */
  | { kind: 'output'; chunk: OutputChunk }
  /** While the call waits inline: the tool's latest progress. */
  | { kind: 'progress'; progress: Progress }
  /** Execute's answer; for a backgrounded call, updates follow. */
  | { kind: 'answer'; result: ExecuteResult }
  /** The backgrounded task's changes and output, until its terminal update. */
  | { kind: 'update'; update: TaskUpdate };

/** What ExecuteStream uses: the manager's execute and watch. */
export interface ExecuteAndWatch {
  execute(call: ExecuteCall): Promise<ExecuteResult>;
  watch(taskId: string, options: AwaitOptions): AsyncGenerator<TaskUpdate>;
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
    if (event.kind === 'progress' && last?.kind === 'progress') queued[queued.length - 1] = event;
    else queued.push(event);
    wake?.();
  };
  const answer = manager
    .execute({
      ...call,
      // A spread copies own properties only: the signal may be a getter of the call's class (made on first use).
      get callerSignal() {
        return call.callerSignal;
      },
      onOutput: (chunk) => push({ kind: 'output', chunk }),
      onProgress: (progress) => push({ kind: 'progress', progress }),
    })
    .finally(() => {
      answered = true;
      wake?.();
    });
  // Rejections are rethrown below, once the events before them are out.
  answer.catch(() => undefined);
  for (;;) {
    while (queued.length > 0) {
      const event = queued.shift()!;
      if (event.kind === 'output') outputBytes = event.chunk.offset + Buffer.byteLength(event.chunk.text, 'utf8');
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
  for await (const update of updates) yield { kind: 'update', update };
}
