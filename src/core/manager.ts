import { ANY_ANSWER, type AnswerSchemas } from './answers.js';
import type { TaskUpdate } from './await.js';
import { type BackgroundRunLimits, BackgroundRuns } from './background-runs.js';
import type { Caller } from './caller.js';
import { type ExecuteCall, ExecuteFlow, type ExecuteLimits } from './execute-flow.js';
import type { HandoffPort, HandoffRequest } from './handoff.js';
import type { Logger } from './logger.js';
import { NO_OBSERVER, type TaskObserver } from './observer.js';
import type { ExecuteResult } from './outcome.js';
import type { RedirectPort } from './redirect-port.js';
import { RunningLimits, type SharedPlaces } from './running-limits.js';
import type { ListPage, TaskStore } from './store.js';
import {
  type AccessLimits,
  type AwaitOptions,
  type InputAnswerCall,
  type ListOptions,
  TaskAccess,
} from './task-access.js';
import type { RedirectTarget, TaskRecord } from './task.js';
import type { Tool, ToolCatalog } from './tool.js';
import type { WatchedTask } from './watched-tasks.js';
import { type FeedListener, type ResyncListener, TaskFeed } from './task-feed.js';

export type { AwaitOptions, ExecuteCall, ExecuteResult, InputAnswerCall, ListOptions };

/** Every limit of the manager: the union of what its parts need, plus the running limits it enforces for the flow. */
export interface ManagerLimits extends ExecuteLimits, BackgroundRunLimits, AccessLimits {
  /** Tools running at once in this process, overall and per user (and per user across replicas with `places`). */
  maxRunning: number;
  maxRunningPerUser: number;
  /** Tools running at once across every replica sharing `places`; 0: no such limit. */
  maxRunningTotal?: number;
}

/** Optional collaborators of the manager. */
export interface ManagerPorts {
  /** Sends calls to the replica that has the tool's workers; absent with a single instance. */
  handoff?: HandoffPort;
  /** Counts runs and answers (metrics). */
  observer?: TaskObserver;
  /** Checks the answers to tools' questions; ANY_ANSWER (no check) when absent, for core tests. */
  answers?: AnswerSchemas;
  /** Running places shared by every replica (a shared store); absent: the limits are this process's. */
  places?: SharedPlaces;
}

/**
 * Runs tools under a budget and tracks the ones that outlive it: the one
 * object every front door (gRPC, the meta-tools) calls. Knows nothing of
 * gRPC or Redis: it speaks to a TaskStore, a ToolCatalog and a RedirectPort.
 *
 * It is a facade over three parts, each a file of its own:
 * - ExecuteFlow (execute-flow.ts): validate, race the budget, answer inline
 *   or hand the run over; handed-off calls from other replicas;
 * - BackgroundRuns (background-runs.ts): the runs that outlive their
 *   budget, from adoption to their stored outcome (pending outcomes too);
 * - TaskAccess (task-access.ts): get, watch, list, cancel and redirect of
 *   existing tasks, scoped to what the caller may see.
 */
export class TaskManager {
  private readonly runs: BackgroundRuns;
  private readonly flow: ExecuteFlow;
  private readonly access: TaskAccess;
  /** Every change a console follows (task-feed.ts). */
  private readonly feed: TaskFeed;
  private shutdownPromise?: Promise<void>;

  constructor(
    store: TaskStore,
    private readonly tools: ToolCatalog,
    private readonly redirects: RedirectPort,
    limits: ManagerLimits,
    logger: Logger,
    ports: ManagerPorts = {},
  ) {
    const observer = ports.observer ?? NO_OBSERVER;
    const answers = ports.answers ?? ANY_ANSWER;
    this.runs = new BackgroundRuns(store, redirects, limits, logger, observer, answers);
    const shared = ports.places && { places: ports.places, maxTotal: limits.maxRunningTotal ?? 0 };
    const running = new RunningLimits(limits.maxRunning, limits.maxRunningPerUser, shared);
    const parts = { store, tools, redirects, runs: this.runs, running, observer, handoff: ports.handoff };
    this.flow = new ExecuteFlow(parts, limits);
    this.access = new TaskAccess(store, redirects, this.runs, limits, answers);
    this.feed = new TaskFeed(store, { pollMs: 1000, pageSize: limits.defaultPageSize, maxPages: 10 }, logger);
  }

  /** Outcomes waiting for the store to come back. */
  get pendingOutcomes(): number {
    return this.runs.pendingOutcomes;
  }

  /** Background tasks running in this process. */
  get runningHere(): number {
    return this.runs.size;
  }

  listTools(): Tool[] {
    return this.tools.list();
  }

  /** Runs the tool: its outcome inline if it settles within the budget, else the envelope of its background task. */
  execute(call: ExecuteCall): Promise<ExecuteResult> {
    return this.flow.execute(call);
  }

  /** Runs a task another replica recorded for this one (its tool's workers are connected here). */
  runHandedOff(request: HandoffRequest): void {
    this.flow.runHandedOff(request);
  }

  /** The task, if this request may see it: NOT_FOUND alike for a missing task and one the caller may not see. */
  get(taskId: string, userId: string, caller?: Caller, deadline?: number): Promise<TaskRecord> {
    return this.access.get(taskId, userId, caller, deadline);
  }

  /** The task and its output from byte `offset` (see TaskAccess.getWithOutput). */
  getWithOutput(taskId: string, userId: string, offset: number, caller?: Caller, deadline?: number) {
    return this.access.getWithOutput(taskId, userId, offset, caller, deadline);
  }

  cancel(taskId: string, userId: string, caller?: Caller, deadline?: number): Promise<TaskRecord> {
    return this.access.cancel(taskId, userId, caller, deadline);
  }

  setRedirect(
    taskId: string,
    userId: string,
    target: RedirectTarget,
    caller?: Caller,
    deadline?: number,
  ): Promise<TaskRecord> {
    return this.access.setRedirect(taskId, userId, target, caller, deadline);
  }

  provideInput(answer: InputAnswerCall): Promise<TaskRecord> {
    return this.access.provideInput(answer);
  }

  /** See TaskAccess.holdWatch. */
  holdWatch(taskId: string): WatchedTask {
    return this.access.holdWatch(taskId);
  }

  watch(taskId: string, options: AwaitOptions): AsyncGenerator<TaskUpdate> {
    return this.access.watch(taskId, options);
  }

  list(options: ListOptions): Promise<ListPage> {
    return this.access.list(options);
  }

  /**
   * Hears every change of the tasks `caller` may see, tasks found new, and when changes may have been missed
   * (see TaskFeed); returns the stop.
   */
  follow(caller: Caller, listener: FeedListener, resync?: ResyncListener): () => void {
    return this.feed.follow(caller, listener, resync);
  }

  /** Consoles following (leak checks). */
  get followers(): number {
    return this.feed.size;
  }

  /**
   * Stops taking calls, lets inline calls finish (up to `graceMs`), then ends
   * every background task of this process with reason SHUTDOWN, and waits for
   * redirect deliveries under way. Idempotent.
   */
  shutdown(graceMs: number): Promise<void> {
    this.shutdownPromise ??= (async () => {
      await this.flow.stop(graceMs);
      await this.runs.shutdown();
      await this.redirects.close();
    })();
    return this.shutdownPromise;
  }
}
