import { TaskNotFound } from '../../core/errors.js';
import type { FinishResult } from '../../core/store.js';
import { type Outcome, TaskStatus } from '../../core/task.js';
import type { BoundedCommands } from './bounded-commands.js';
import { hashFromFlat, taskFromHash } from './codec.js';
import type { RedisKeys } from './keys.js';

/** Where a finish writes. */
export interface FinishScope {
  keys: RedisKeys;
  /** This process: it owes the delivery of a pending redirect of the tasks it finishes. */
  instanceId: string;
  /** How long a finished task stays readable. */
  retentionMs: number;
}

/**
 * Whose task the finish script may end. `runningOf` is the instance whose
 * running set drops the id; with `onlyOwner` the task must be owned by it,
 * and with `whileLapsed` its lease must still have lapsed (the worker-lost sweep).
 */
export interface FinishGuard {
  runningOf: string;
  onlyOwner: boolean;
  whileLapsed?: boolean;
}

/**
 * The finish script, for a task's own end (completion, cancel, timeout,
 * shutdown) and for the worker-lost sweep alike: running -> terminal exactly
 * once, whoever calls; the others get applied=false and the stored task.
 */
export async function finishTask(
  commands: BoundedCommands,
  { keys: allKeys, instanceId, retentionMs }: FinishScope,
  taskId: string,
  outcome: Outcome,
  guard: FinishGuard,
  deadline?: number,
): Promise<FinishResult> {
  const completed = outcome.status === TaskStatus.Completed;
  const keys = allKeys.of(taskId);
  const [code, payload] = await commands.call(
    (c) =>
      c.finishTask(
        keys.task(taskId),
        keys.running(guard.runningOf),
        keys.expiring,
        keys.instances,
        keys.delivering(instanceId),
        keys.output(taskId),
        taskId,
        outcome.status,
        completed ? outcome.result : outcome.error,
        completed ? '' : outcome.reason,
        retentionMs,
        keys.events,
        guard.onlyOwner ? guard.runningOf : '',
        guard.whileLapsed ? '1' : '',
      ),
    deadline,
  );
  if (code === -1) throw new TaskNotFound(taskId);
  return { applied: code === 1, task: taskFromHash(hashFromFlat(payload as string[])) };
}
