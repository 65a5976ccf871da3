import { type CallOptions, type ChannelCredentials, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { type Task, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import {
  type AwaitResultResponse,
  type ExecuteRequest,
  TaskServiceClient,
  type GetServerInfoResponse as ServerInfo,
  type ToolInfo,
} from '../../gen/ts/taskmanager/v1/task_service.js';
import { TaskFailedError, toClientError } from './errors.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.js';
import type { AwaitOptions, ClientOptions, ExecuteOptions, ListOptions, Scope } from './options.js';
import { ResumePoint } from './resume.js';
import { executeAndFollow, followTask, type StreamDeps, type StreamEvent } from './streams.js';

/** Execute's answer: the outcome, or a handle on the task that went on in the background. */
export type Execution =
  | { readonly backgrounded: false; readonly text: string; readonly task: Task }
  | { readonly backgrounded: true; readonly text: string; readonly task: Task; readonly handle: TaskHandle };

export type { AwaitResultResponse as TaskUpdate, ServerInfo, Task, ToolInfo };
export type { AwaitOptions, ClientOptions, ExecuteOptions, ListOptions, Scope, StreamEvent };

/**
 * A TaskService client over the generated grpc-js stub: promises for unary
 * calls, async iterators for AwaitResult and for paging, typed errors
 * (errors.ts), and retries of UNAVAILABLE for calls that are safe to repeat.
 */
export class Client {
  readonly stub: TaskServiceClient;
  private readonly retry: RetryPolicy;
  private readonly callTimeoutMs: number;

  /** What the resuming stream loops (streams.ts) use of this client. */
  private readonly streams: StreamDeps;

  constructor(
    readonly address: string,
    private readonly options: ClientOptions = {},
  ) {
    this.stub = new TaskServiceClient(address, channelCredentials(options.tls));
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.callTimeoutMs = options.callTimeoutMs ?? 30_000;
    this.streams = { stub: this.stub, retry: this.retry, metadata: () => this.metadata() };
  }

  close(): void {
    this.stub.close();
  }

  /**
   * Runs a tool. Retried on UNAVAILABLE only with a requestId: without one a
   * retry could run the tool twice.
   */
  async execute(tool: string, args: object | string = {}, options: ExecuteOptions = {}): Promise<Execution> {
    const request = this.executeRequest(tool, args, options);
    // The server answers before its budget ends; the deadline leaves room for that.
    const budgetMs = (request.timeoutSeconds ?? 300) * 1000;
    const send = () =>
      this.unary(this.stub.execute, request, options.signal, this.callTimeoutMs + budgetMs, this.traced(options));
    const response = await (options.requestId ? withRetry(this.retry, send, options.signal) : send());
    const task = response.task!;
    if (!response.backgrounded) return { backgrounded: false, text: response.text, task };
    return { backgrounded: true, text: response.text, task, handle: this.handle(task.taskId, options.userId) };
  }

  private executeRequest(tool: string, args: object | string, options: ExecuteOptions): ExecuteRequest {
    const budgetSeconds = options.budgetSeconds ?? options.timeoutSeconds;
    return {
      toolName: tool,
      argumentsJson: typeof args === 'string' ? args : JSON.stringify(args),
      userId: this.user(options),
      channelId: options.channelId ?? '',
      platform: options.platform ?? '',
      requestId: options.requestId ?? '',
      ...(budgetSeconds !== undefined && { timeoutSeconds: budgetSeconds }),
      ...(options.redirect && { redirect: { maxChars: 0, ...options.redirect } }),
    };
  }

  /** The call's metadata, with the trace context the options carry. */
  private traced(options: ExecuteOptions): Metadata {
    const metadata = this.metadata();
    if (options.traceparent) metadata.set('traceparent', options.traceparent);
    if (options.tracestate) metadata.set('tracestate', options.tracestate);
    return metadata;
  }

  /** A handle on a task by id (from an envelope, a list, or another process). */
  handle(taskId: string, userId?: string): TaskHandle {
    return new TaskHandle(this, taskId, userId);
  }

  async get(taskId: string, scope: Scope = {}): Promise<{ task: Task; text: string }> {
    const response = await this.retried(this.stub.getResult, { taskId, userId: this.user(scope) }, scope.signal);
    return { task: response.task!, text: response.text };
  }

  /**
   * The task's updates until it ends: a snapshot first, then progress,
   * heartbeats, output (with `outputOffset`) and the terminal update. If the
   * connection drops (UNAVAILABLE) it reconnects, within the retry policy,
   * resuming after the last version and output byte it yielded: no state and
   * no byte is yielded twice, none is missed (progress may be coalesced).
   * `options.afterVersion` and `outputOffset` resume a stream of an earlier one.
   */
  async *updates(taskId: string, options: AwaitOptions = {}): AsyncGenerator<AwaitResultResponse> {
    const at = new ResumePoint(options.afterVersion ?? 0, options.outputOffset);
    yield* followTask(this.streams, { taskId, userId: this.user(options) }, at, options);
  }

  /**
   * Runs a tool and follows it in one call (ExecuteStream): the tool's output
   * and progress while the call waits inline, then the answer, then (when
   * backgrounded) its updates and output until the terminal update. A drop
   * after a backgrounded answer is resumed through AwaitResult from the last
   * version and output byte, transparently. A drop before the answer is
   * retried only with a requestId (the server answers with the same task);
   * without one it throws, as Execute does, since a retry could run the tool twice.
   */
  executeStream(tool: string, args: object | string = {}, options: ExecuteOptions = {}): AsyncGenerator<StreamEvent> {
    return executeAndFollow(this.streams, this.executeRequest(tool, args, options), this.traced(options), options);
  }

  /**
   * The task's output from byte `offset` to its current end (several GetResult
   * calls for a large one). With the task as read by the last call.
   */
  async readOutput(taskId: string, offset = 0, scope: Scope = {}): Promise<{ text: string; task: Task }> {
    let text = '';
    let at = offset;
    for (;;) {
      const request = { taskId, userId: this.user(scope), outputOffset: String(at) };
      const response = await this.retried(this.stub.getResult, request, scope.signal);
      const piece = response.output?.text ?? '';
      text += piece;
      at += Buffer.byteLength(piece, 'utf8');
      if (piece === '' || at >= Number(response.task!.outputBytes)) return { text, task: response.task! };
    }
  }

  /** Waits for the task to end and returns it, whatever its outcome. */
  async wait(taskId: string, options: AwaitOptions = {}): Promise<Task> {
    let last: Task | undefined;
    for await (const update of this.updates(taskId, options)) last = update.task;
    if (!last) throw new Error(`AwaitResult for ${taskId} ended without an update`);
    return last;
  }

  /** Waits for the task and returns its result; throws TaskFailedError if it failed. */
  async result(taskId: string, options: AwaitOptions = {}): Promise<string> {
    const task = await this.wait(taskId, options);
    if (task.status === TaskStatus.TASK_STATUS_FAILED) throw new TaskFailedError(task);
    if (task.status !== TaskStatus.TASK_STATUS_COMPLETED)
      throw new Error(`task ${taskId} is still running after the wait limit`);
    return task.result;
  }

  /** One page of the user's tasks, newest first. */
  async list(options: ListOptions = {}): Promise<{ tasks: Task[]; nextPageToken: string; text: string }> {
    return this.retried(
      this.stub.listTasks,
      {
        userId: this.user(options),
        status: options.status ?? TaskStatus.TASK_STATUS_UNSPECIFIED,
        toolName: options.toolName ?? '',
        pageSize: options.pageSize ?? 0,
        pageToken: options.pageToken ?? '',
      },
      options.signal,
    );
  }

  /** Every task that matches, page after page. */
  async *listAll(options: Omit<ListOptions, 'pageToken'> = {}): AsyncGenerator<Task> {
    let pageToken = '';
    do {
      const page = await this.list({ ...options, pageToken });
      yield* page.tasks;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /** Cancels a running task; a finished one is returned as it is. */
  async cancel(taskId: string, scope: Scope = {}): Promise<Task> {
    return (await this.retried(this.stub.cancelTask, { taskId, userId: this.user(scope) }, scope.signal)).task!;
  }

  /** Delivers the task's result to a chat channel when it finishes (at once if it has). */
  async redirect(
    taskId: string,
    target: { channelId: string; platform: string; maxChars?: number },
    scope: Scope = {},
  ): Promise<Task> {
    const request = { taskId, userId: this.user(scope), maxChars: 0, ...target };
    return (await this.retried(this.stub.setOutputRedirect, request, scope.signal)).task!;
  }

  /**
   * Answers the task's open question (task.inputRequest) with `answer`, an
   * object matching its schema; the task runs again. Not retried: an answer
   * that was taken but whose reply was lost would come back FAILED_PRECONDITION.
   */
  async provideInput(taskId: string, inputRequestId: string, answer: object, scope: Scope = {}): Promise<Task> {
    const request = { taskId, userId: this.user(scope), inputRequestId, responseJson: JSON.stringify(answer) };
    return (await this.unary(this.stub.provideInput, request, scope.signal, this.callTimeoutMs)).task!;
  }

  async tools(scope: Omit<Scope, 'userId'> = {}): Promise<ToolInfo[]> {
    return (await this.retried(this.stub.listTools, {}, scope.signal)).tools;
  }

  /** Which release the server is (`version`, e.g. "0.2.0"; this client's own is `VERSION`) and the API it serves. */
  async serverInfo(scope: Omit<Scope, 'userId'> = {}): Promise<ServerInfo> {
    return this.retried(this.stub.getServerInfo, {}, scope.signal);
  }

  private user(scope: Scope): string {
    return scope.userId ?? this.options.userId ?? '';
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.options.token) metadata.set('authorization', `Bearer ${this.options.token}`);
    return metadata;
  }

  private retried<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, signal?: AbortSignal): Promise<Res> {
    return withRetry(this.retry, () => this.unary(method, request, signal, this.callTimeoutMs), signal);
  }

  private unary<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    metadata = this.metadata(),
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      const call = method.call(this.stub, request, metadata, { deadline: Date.now() + timeoutMs }, (err, response) => {
        signal?.removeEventListener('abort', cancel);
        if (err) reject(toClientError(err));
        else resolve(response);
      });
      const cancel = () => call.cancel();
      if (signal?.aborted) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    });
  }
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, response: Res) => void,
) => { cancel(): void };

function channelCredentials(tls: ClientOptions['tls']): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  return credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

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
