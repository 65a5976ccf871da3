import type { Logger } from './logger.js';
import type { TaskStore } from './store.js';
import { FailureReason, isTerminal, type Outcome, TaskStatus } from './task.js';

/** Outcomes kept after they were stored, at most this many, bytes of text and time. */
const RECENT_MAX = 2000;
const RECENT_MAX_BYTES = 16 * 1024 * 1024;
const RECENT_MAX_AGE_MS = 10 * 60_000;

/**
 * The outcomes this process stored lately: if the store loses one (a Redis
 * failover drops the master's last writes), the orphan check writes it again
 * rather than failing a task that had finished. Bounded in count, bytes and age.
 */
export class RecentOutcomes {
  private readonly outcomes = new Map<string, { outcome: Outcome; bytes: number; at: number }>();
  private bytes = 0;

  remember(taskId: string, outcome: Outcome): void {
    const bytes = outcome.status === TaskStatus.Completed ? outcome.result.length : outcome.error.length;
    this.outcomes.set(taskId, { outcome, bytes, at: Date.now() });
    this.bytes += bytes;
    this.trim();
  }

  get(taskId: string): Outcome | undefined {
    this.trim();
    return this.outcomes.get(taskId)?.outcome;
  }

  private trim(): void {
    const oldest = Date.now() - RECENT_MAX_AGE_MS;
    for (const [taskId, entry] of this.outcomes) {
      if (this.outcomes.size <= RECENT_MAX && this.bytes <= RECENT_MAX_BYTES && entry.at >= oldest) break;
      this.outcomes.delete(taskId);
      this.bytes -= entry.bytes;
    }
  }
}

/** What the check needs of the rest of the process. */
export interface OrphanCheckParts {
  store: Pick<TaskStore, 'tasksRunningHere' | 'get'>;
  instanceId: string;
  /** Whether this process runs the task, or holds its outcome until the store takes it. */
  runsHere(taskId: string): boolean;
  recent: RecentOutcomes;
  /** Stores an outcome as a run's own end does. */
  settle(taskId: string, outcome: Outcome): Promise<void>;
  logger: Logger;
}

/**
 * Ends the tasks the store says this process runs but it does not. A Redis
 * failover that lost a finish leaves the task RUNNING in the new master,
 * owned by this live replica, and the lease sweep never touches a live
 * replica's tasks: without this check it would stay RUNNING for good. A task
 * listed in two checks in a row (a task handed to this replica is listed
 * before its run starts) and still unfinished with this owner is ended with the
 * outcome stored for it lately, else failed worker_lost.
 */
export class OrphanCheck {
  private suspects = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly parts: OrphanCheckParts,
    everyMs: number,
  ) {
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  /** One pass; returns how many tasks it ended. */
  async check(): Promise<number> {
    const { store, runsHere } = this.parts;
    if (this.checking || !store.tasksRunningHere) return 0;
    this.checking = true;
    try {
      const listed = (await store.tasksRunningHere()).filter((taskId) => !runsHere(taskId));
      const suspects = new Set(listed);
      let ended = 0;
      for (const taskId of listed) if (this.suspects.has(taskId) && (await this.end(taskId))) ended++;
      this.suspects = suspects;
      return ended;
    } catch (err) {
      this.parts.logger.debug({ err }, 'orphan check failed; retrying on the next tick');
      return 0;
    } finally {
      this.checking = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async end(taskId: string): Promise<boolean> {
    const { store, instanceId, recent, runsHere, settle, logger } = this.parts;
    const task = await store.get(taskId);
    if (!task || isTerminal(task) || task.owner !== instanceId || runsHere(taskId)) return false;
    const stored = recent.get(taskId);
    logger.warn({ taskId, restored: !!stored }, 'ended a task the store lists as running here but nothing runs');
    await settle(
      taskId,
      stored ?? {
        status: TaskStatus.Failed,
        reason: FailureReason.WorkerLost,
        error: 'this replica no longer runs it: the store lost its end (a Redis failover?)',
      },
    );
    return true;
  }
}
