import type { AwaitOptions, Client, Scope } from './client.js';

/** A background task: what can be done with it, without repeating its id. */
export class TaskHandle {
  constructor(
    private readonly client: Client,
    readonly taskId: string,
    private readonly userId?: string,
  ) {}

  private scope<T extends Scope>(options: T = {} as T): T {
    return { ...(this.userId !== undefined && { userId: this.userId }), ...options };
  }

  get(scope?: Scope) {
    return this.client.get(this.taskId, this.scope(scope));
  }

  /** The task's output from byte `offset` to its current end. */
  readOutput(offset = 0, scope?: Scope) {
    return this.client.readOutput(this.taskId, offset, this.scope(scope));
  }

  updates(options?: AwaitOptions) {
    return this.client.updates(this.taskId, this.scope(options));
  }

  wait(options?: AwaitOptions) {
    return this.client.wait(this.taskId, this.scope(options));
  }

  result(options?: AwaitOptions) {
    return this.client.result(this.taskId, this.scope(options));
  }

  cancel(scope?: Scope) {
    return this.client.cancel(this.taskId, this.scope(scope));
  }

  redirect(target: { channelId: string; platform: string; maxChars?: number }, scope?: Scope) {
    return this.client.redirect(this.taskId, target, this.scope(scope));
  }

  /** Answers the task's open question: `inputRequestId` is task.inputRequest.id. */
  provideInput(inputRequestId: string, answer: object, scope?: Scope) {
    return this.client.provideInput(this.taskId, inputRequestId, answer, this.scope(scope));
  }
}
