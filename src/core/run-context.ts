import type { Logger } from './logger.js';
import type { RunOptions, ToolRun } from './run.js';
import type { Origin } from './task.js';
import type { TraceContext } from './trace.js';
import type { ToolContext } from './tool.js';

/**
 * What the handler sees. A class rather than an object literal, so that every
 * run's context shares one shape; everything it reads comes from the run.
 */
export class RunContext implements ToolContext {
  private childLogger?: Logger;
  private progressFn?: ToolContext['progress'];

  constructor(
    private readonly run: ToolRun,
    private readonly options: RunOptions,
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
