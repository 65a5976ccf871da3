import type { Logger } from './logger.js';
import type { Origin } from './task.js';
import type { TraceContext } from './trace.js';
import type { InputQuestion, Tool, ToolContext } from './tool.js';

/** What the context asks of its run (ToolRun); an interface, so this file and run.ts do not import each other. */
export interface ContextRun {
  readonly signal: AbortSignal;
  readonly deadline: number;
  reportProgress(fraction: number, message: unknown): void;
  writeOutput(text: string): void;
  requestInput(question: InputQuestion): Promise<Record<string, unknown>>;
}

/** What the context reads of the run's options. */
export interface ContextOptions {
  taskId: string;
  tool: Pick<Tool, 'name'>;
  origin: Origin;
  logger: Logger;
  trace?: TraceContext;
}

/**
 * What the handler sees. A class rather than an object literal, so that every
 * run's context shares one shape; everything it reads comes from the run.
 */
export class RunContext implements ToolContext {
  private childLogger?: Logger;
  private progressFn?: ToolContext['progress'];

  constructor(
    private readonly run: ContextRun,
    private readonly options: ContextOptions,
  ) {}

  get taskId(): string {
    return this.options.taskId;
  }

  get toolName(): string {
    return this.options.tool.name;
  }

  get origin(): Origin {
    return this.options.origin;
  }

  get signal(): AbortSignal {
    return this.run.signal;
  }

  get deadline(): number {
    return this.run.deadline;
  }

  get trace(): TraceContext | undefined {
    return this.options.trace;
  }

  // A child logger costs more than most tool calls; most tools never log.
  get logger(): Logger {
    return (this.childLogger ??= this.options.logger.child({
      taskId: this.options.taskId,
      tool: this.options.tool.name,
    }));
  }

  // A function of its own, so `const { progress } = ctx` still works.
  get progress(): ToolContext['progress'] {
    return (this.progressFn ??= (fraction, message = '') => this.run.reportProgress(fraction, message));
  }

  get output(): ToolContext['output'] {
    return (text) => this.run.writeOutput(text);
  }

  get requestInput(): ToolContext['requestInput'] {
    return (question) => this.run.requestInput(question);
  }
}
