import type { AnswerSchemas } from './answers.js';
import { hardTimeoutMs } from './budget.js';
import { parseJsonObject } from './json.js';
import { StoreUnavailable } from './errors.js';
import type { Logger } from './logger.js';
import type { TaskObserver } from './observer.js';
import { OrphanCheck, RecentOutcomes } from './orphans.js';
import { PendingOutcomes } from './pending-outcomes.js';
import type { OutputPiece } from './run-output.js';
import { SerialWriter } from './serial-writer.js';
import { deliverIfRedirected, type RedirectPort } from './redirect-port.js';
import type { Slot } from './running-limits.js';
import { type RunOwner, ToolRun } from './run.js';
import type { NewTask, TaskStore } from './store.js';
import { FailureReason, isTerminal, type Outcome, type Progress, type TaskRecord, TaskStatus } from './task.js';
import type { Tool } from './tool.js';
import type { TraceContext } from './trace.js';

export interface BackgroundRunLimits {
  /** Runtime limit of a tool that sets none (seconds). */
  hardTimeoutSeconds: number;
  /** Results (and errors) are cut to this many bytes, with a note. */
  maxResultBytes: number;
  /** A task's output is cut to this many bytes, with a marker. */
  maxOutputBytes: number;
  /** Outcomes kept while the store is unreachable (pending outcomes), at most. */
  pendingOutcomesMax: number;
  /** How long a question waits for its answer when its tool sets no input timeout (seconds). */
  inputTimeoutSeconds: number;
  /** This process's id: the owner of the tasks it runs. */
  instanceId: string;
  /** How often to look for tasks the store lists as run here but nothing runs (orphans.ts); absent: never. */
  orphanCheckSeconds?: number;
}

/** A store outage of up to ~10 s loses no output: its writes are retried (then dropped, and logged). */
const OUTPUT_RETRY = { attempts: 20, delayMs: 500 };

/** How often pending outcomes are retried while the store is unreachable. */
const PENDING_RETRY_MS = 500;

/**
 * A background run this process answers for until its outcome is stored.
 * There is one per running task, so it holds state, not closures.
 */
export interface Adopted {
  run: ToolRun;
  /** The record exists, so the outcome can be stored. */
  recorded: boolean;
  /** Ends the store subscription that stops the tool when its task is ended elsewhere. */
  unwatch?: () => void;
  /** The stored task once the run's question is in the store (ExecuteFlow answers with it). */
  asked?: Promise<TaskRecord | undefined>;
  /** Ends the polled subscription held while a question waits (an answer must not be missed). */
  unwatchAnswer?: () => void;
  /** Set by shutdown, which waits for the outcome to be stored. */
  onDone?: () => void;
}

/**
 * Owns the tool runs of this process from their start until their outcome
 * is in the store: starts them, adopts the ones that outlive their budget,
 * writes their progress and outcome, stops them when their task is ended
 * elsewhere (cancel, sweep), keeps outcomes the store could not take
 * (pending outcomes) and ends every run at shutdown.
 *
 * The life of an adopted run: `adopt()` (this process answers for it),
 * `recorded()` (the record exists: the outcome can be stored), then
 * `settle()` (the outcome is stored, or pending) — or `forget()` if the
 * record never came to exist.
 */
export class BackgroundRuns {
  /** Background runs of this process, by task id. */
  private readonly adopted = new Map<string, Adopted>();
  /** Told by every run of its progress and outcome. */
  private readonly runOwner: RunOwner = {
    progressed: (run, progress) => {
      if (this.adopted.has(run.taskId)) this.progress.push(run.taskId, progress);
    },
    outputWritten: (run, piece) => {
      if (this.adopted.get(run.taskId)?.recorded) this.output.push(run.taskId, piece);
    },
    settled: (run, outcome) => {
      this.observer.runFinished(run.tool.name, outcome, (performance.now() - run.startedAt) / 1000);
      const adopted = this.adopted.get(run.taskId);
      // Stored now if the record exists; otherwise once it does (see recorded()).
      if (adopted?.run === run && adopted.recorded) void this.settle(run.taskId, outcome);
    },
    questionProblem: (schemaJson) => this.answers.schemaProblem(schemaJson),
    inputRequested: (run) => {
      const adopted = this.adopted.get(run.taskId);
      // Not yet recorded: recorded() asks once the record exists (an inline call being backgrounded).
      if (adopted?.run === run && adopted.recorded) this.ask(adopted);
    },
  };
  /** Progress is advisory: only the newest value waits behind a write in flight. */
  private readonly progress: SerialWriter<Progress>;
  /** Output is not: pieces waiting behind a write in flight are joined, in order. */
  private readonly output: SerialWriter<OutputPiece>;
  private readonly pending: PendingOutcomes;
  private readonly recent = new RecentOutcomes();
  private readonly orphans?: OrphanCheck;

  constructor(
    private readonly store: TaskStore,
    private readonly redirects: RedirectPort,
    private readonly limits: BackgroundRunLimits,
    private readonly logger: Logger,
    private readonly observer: TaskObserver,
    private readonly answers: AnswerSchemas,
  ) {
    this.progress = new SerialWriter(
      'progress',
      (id, p) => store.setProgress(id, p),
      (_, newest) => newest,
      logger,
    );
    this.output = new SerialWriter(
      'output',
      (id, piece) => store.appendOutput(id, piece),
      (a, b) => ({ offset: a.offset, text: a.text + b.text, truncated: a.truncated || b.truncated }),
      logger,
      // Appends say where they start, so a retry after a lost reply stores nothing twice.
      OUTPUT_RETRY,
    );
    this.pending = new PendingOutcomes(
      store,
      limits.pendingOutcomesMax,
      PENDING_RETRY_MS,
      (task, applied) => {
        if (applied) deliverIfRedirected(this.redirects, task);
      },
      logger,
    );
    if (limits.orphanCheckSeconds && store.tasksRunningHere) {
      const parts = {
        store,
        instanceId: limits.instanceId,
        runsHere: (taskId: string) => this.adopted.has(taskId) || this.pending.has(taskId),
        recent: this.recent,
        settle: (taskId: string, outcome: Outcome) => this.settle(taskId, outcome),
        logger,
      };
      this.orphans = new OrphanCheck(parts, limits.orphanCheckSeconds * 1000);
    }
  }

  /** Background runs of this process. */
  get size(): number {
    return this.adopted.size;
  }

  /** Outcomes (and discards) waiting for the store to come back. */
  get pendingOutcomes(): number {
    return this.pending.size;
  }

  has(taskId: string): boolean {
    return this.adopted.has(taskId);
  }

  /** Starts the tool now; the run is nobody's background run until `adopt()`. */
  start(
    tool: Tool,
    args: Record<string, unknown>,
    draft: NewTask,
    { slot, trace }: { slot?: Slot; trace?: TraceContext } = {},
  ): ToolRun {
    this.observer.runStarted(tool.name);
    return new ToolRun(
      {
        taskId: draft.taskId,
        tool,
        origin: { userId: draft.userId, channelId: draft.channelId, platform: draft.platform },
        hardTimeoutMs: hardTimeoutMs(tool, this.limits.hardTimeoutSeconds),
        inputTimeoutMs: (tool.inputTimeoutSeconds ?? this.limits.inputTimeoutSeconds) * 1000,
        maxResultBytes: this.limits.maxResultBytes,
        maxOutputBytes: this.limits.maxOutputBytes,
        logger: this.logger,
        ...(trace && { trace }),
        ...(slot && { slot }),
        owner: this.runOwner,
      },
      args,
    );
  }

  /**
   * This process now answers for the run until its outcome is stored. The
   * outcome is stored only once the record exists (`recorded()`); if it never
   * comes to exist, the run is forgotten (`forget()`).
   */
  adopt(run: ToolRun): Adopted {
    const adopted: Adopted = { run, recorded: false };
    this.adopted.set(run.taskId, adopted);
    return adopted;
  }

  /**
   * The run's record exists. While the run lasts, the task may be ended
   * elsewhere (CancelTask, on any replica): the subscription stops the tool
   * when it is. If the run already settled, its outcome is stored now.
   */
  recorded(adopted: Adopted): void {
    if (this.adopted.get(adopted.run.taskId) !== adopted) return;
    adopted.recorded = true;
    const { run } = adopted;
    const early = run.takeEarlyOutput();
    if (early) this.output.push(run.taskId, early);
    if (run.settled) {
      void this.settle(run.taskId, run.settled);
      return;
    }
    // Without the safety poll: one per running task would re-read them all every few seconds,
    // and a lost cancel event only lets the tool run on (its outcome is then refused).
    adopted.unwatch = this.store.subscribe(run.taskId, (task) => this.changedElsewhere(run, task), {
      safetyPoll: false,
    });
    if (run.question) this.ask(adopted);
  }

  /** The stored task once the run's question is in the store; undefined when the run asked none. */
  questionAsked(taskId: string): Promise<TaskRecord | undefined> {
    return this.adopted.get(taskId)?.asked ?? Promise.resolve(undefined);
  }

  /**
   * Puts the run's question in the store (the task turns INPUT_REQUIRED) and
   * holds a polled subscription until it is answered: a lost event would leave
   * the tool waiting for an answer that was given.
   */
  private ask(adopted: Adopted): void {
    const { run } = adopted;
    const question = run.question!;
    adopted.unwatchAnswer?.();
    adopted.unwatchAnswer = this.store.subscribe(run.taskId, (task) => this.changedElsewhere(run, task), {
      safetyPoll: true,
    });
    adopted.asked = this.store.requestInput(run.taskId, question).then(
      (task) => {
        if (task.redirect) this.redirects.deliverQuestion(task);
        return task;
      },
      (err: unknown) => {
        this.logger.error({ err, taskId: run.taskId }, 'could not store the question of a tool');
        run.abort(FailureReason.ToolError, `its question could not be stored: ${(err as Error).message}`);
        return undefined;
      },
    );
  }

  /** The record never came to exist: nobody will store the outcome. */
  forget(adopted: Adopted): void {
    if (this.adopted.get(adopted.run.taskId) === adopted) this.adopted.delete(adopted.run.taskId);
    adopted.onDone?.();
  }

  /**
   * Creates the record. If the store could not be reached, the create may
   * still have landed (the reply lost on the way): the caller is answered
   * UNAVAILABLE, so that record is discarded once the store is back.
   */
  async createRecord(draft: NewTask, deadline?: number) {
    try {
      return await this.store.create(draft, deadline);
    } catch (err) {
      if (err instanceof StoreUnavailable) this.pending.discard(draft);
      throw err;
    }
  }

  /** Stops this process's run of the task, if it has one (its task was cancelled here). */
  abort(taskId: string, reason: FailureReason, message: string): void {
    this.adopted.get(taskId)?.run.abort(reason, message);
  }

  /**
   * Stores the outcome of a task (exactly once, whoever else tries), then
   * delivers its result if it has a redirect. While the store is
   * unreachable the outcome is kept as a pending outcome.
   */
  async settle(taskId: string, outcome: Outcome): Promise<void> {
    try {
      // Output is refused once the task is terminal: what the tool wrote goes first.
      await this.output.flushed(taskId);
      const { applied, task } = await this.store.finish(taskId, outcome);
      if (applied) {
        this.recent.remember(taskId, outcome);
        deliverIfRedirected(this.redirects, task);
      }
    } catch (err) {
      if (err instanceof StoreUnavailable) {
        this.logger.warn({ taskId }, 'store unreachable: outcome kept in memory until it is back');
        this.pending.add(taskId, outcome);
      } else {
        this.logger.error({ err, taskId }, 'could not store the outcome of a task');
      }
    } finally {
      const adopted = this.adopted.get(taskId);
      if (adopted) {
        this.adopted.delete(taskId);
        adopted.unwatch?.();
        adopted.unwatchAnswer?.();
        adopted.onDone?.();
      }
    }
  }

  /**
   * Ends every background run with SHUTDOWN and waits until each outcome is
   * stored (or pending), then gives the pending outcomes one last try.
   */
  async shutdown(): Promise<void> {
    const outcome = {
      status: TaskStatus.Failed,
      reason: FailureReason.Shutdown,
      error: 'the server shut down',
    } as const;
    this.orphans?.stop();
    const runs = [...this.adopted.values()];
    const stored = runs.map((adopted) => new Promise<void>((resolve) => (adopted.onDone = resolve)));
    for (const { run } of runs) run.abort(outcome.reason, outcome.error);
    await Promise.all(stored);
    await this.pending.flush().catch(() => undefined);
    this.pending.close();
    if (this.pending.size > 0)
      this.logger.error({ outcomes: this.pending.size }, 'shut down with outcomes the store never took');
  }

  private changedElsewhere(run: ToolRun, task: TaskRecord | null): void {
    if (!task) return;
    const answer = task.inputAnswer;
    if (!isTerminal(task) && answer && run.question?.id === answer.requestId) {
      // Checked against the schema by whoever took the answer (TaskAccess.provideInput).
      const parsed = parseJsonObject(answer.responseJson, 'a JSON object');
      if (parsed.ok && run.answer(answer.requestId, parsed.value)) {
        const adopted = this.adopted.get(run.taskId);
        adopted?.unwatchAnswer?.();
        if (adopted) adopted.unwatchAnswer = undefined;
      }
      return;
    }
    if (!isTerminal(task)) return;
    if (run.abort(task.failureReason ?? FailureReason.Cancelled, task.error ?? 'the task ended')) {
      this.logger.info(
        { taskId: run.taskId, reason: task.failureReason },
        'stopped a tool: its task was ended elsewhere',
      );
    }
  }
}
