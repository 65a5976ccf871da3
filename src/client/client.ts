import {
  type CallOptions,
  type ChannelCredentials,
  type ClientReadableStream,
  credentials,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { type Task, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import {
  type AwaitResultResponse,
  TaskServiceClient,
  type GetServerInfoResponse as ServerInfo,
  type ToolInfo,
  UpdateKind,
} from '../../gen/ts/taskmanager/v1/task_service.js';
import { TaskFailedError, toClientError, UnavailableError } from './errors.js';
import { pause } from './backoff.js';
import { backoffMs, DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.js';

export interface ClientOptions {
  /** Bearer token, sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** TLS: true for the system roots, or PEM buffers (a private CA; a client certificate for mutual TLS). */
  tls?: boolean | { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** How UNAVAILABLE is retried on calls that are safe to repeat. */
  retry?: Partial<RetryPolicy>;
  /** The deadline of each unary call (ms); Execute gets its budget on top. Default 30 s. */
  callTimeoutMs?: number;
  /** The user_id calls are made for, unless a call names another. */
  userId?: string;
}

/** Who a call acts for and where its output belongs. */
export interface Scope {
  userId?: string;
  /** Stops waiting (the call is cancelled); the task itself is not cancelled. */
  signal?: AbortSignal;
}

export interface ExecuteOptions extends Scope {
  channelId?: string;
  platform?: string;
  /** The budget (seconds): past it the tool goes on in the background. Default: the tool's or server's. */
  budgetSeconds?: number;
  /**
   * @deprecated The old name of `budgetSeconds` (the proto field is `timeout_seconds`); read when
   * `budgetSeconds` is absent.
   */
  timeoutSeconds?: number;
  /** An idempotency key: a retry with the same key gets the same task, never a second run. Makes Execute retryable. */
  requestId?: string;
  /** Deliver the result to a chat channel when the task finishes. */
  redirect?: { channelId: string; platform: string; maxChars?: number };
  /** W3C trace context to send with the call (the tool receives it). */
  traceparent?: string;
  tracestate?: string;
}

/** Execute's answer: the outcome, or a handle on the task that went on in the background. */
export type Execution =
  | { readonly backgrounded: false; readonly text: string; readonly task: Task }
  | { readonly backgrounded: true; readonly text: string; readonly task: Task; readonly handle: TaskHandle };

export interface AwaitOptions extends Scope {
  /** Stop after this long even if the task still runs (the last update then has waitTimedOut). */
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  /** Resume after this Task.version (the last one seen): no state seen before is yielded again. */
  afterVersion?: number;
}

export interface ListOptions extends Scope {
  status?: TaskStatus;
  toolName?: string;
  pageSize?: number;
  pageToken?: string;
}

export type { AwaitResultResponse as TaskUpdate, ServerInfo, Task, ToolInfo };

/**
 * A TaskService client over the generated grpc-js stub: promises for unary
 * calls, async iterators for AwaitResult and for paging, typed errors
 * (errors.ts), and retries of UNAVAILABLE for calls that are safe to repeat.
 */
export class Client {
  readonly stub: TaskServiceClient;
  private readonly retry: RetryPolicy;
  private readonly callTimeoutMs: number;

  constructor(
    readonly address: string,
    private readonly options: ClientOptions = {},
  ) {
    this.stub = new TaskServiceClient(address, channelCredentials(options.tls));
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.callTimeoutMs = options.callTimeoutMs ?? 30_000;
  }

  close(): void {
    this.stub.close();
  }

  /**
   * Runs a tool. Retried on UNAVAILABLE only with a requestId: without one a
   * retry could run the tool twice.
   */
  async execute(tool: string, args: object | string = {}, options: ExecuteOptions = {}): Promise<Execution> {
    const budgetSeconds = options.budgetSeconds ?? options.timeoutSeconds;
    const request = {
      toolName: tool,
      argumentsJson: typeof args === 'string' ? args : JSON.stringify(args),
      userId: this.user(options),
      channelId: options.channelId ?? '',
      platform: options.platform ?? '',
      requestId: options.requestId ?? '',
      ...(budgetSeconds !== undefined && { timeoutSeconds: budgetSeconds }),
      ...(options.redirect && { redirect: { maxChars: 0, ...options.redirect } }),
    };
    const metadata = this.metadata();
    if (options.traceparent) metadata.set('traceparent', options.traceparent);
    if (options.tracestate) metadata.set('tracestate', options.tracestate);
    // The server answers before its budget ends; the deadline leaves room for that.
    const budgetMs = (budgetSeconds ?? 300) * 1000;
    const send = () => this.unary(this.stub.execute, request, options.signal, this.callTimeoutMs + budgetMs, metadata);
    const response = await (options.requestId ? withRetry(this.retry, send, options.signal) : send());
    const task = response.task!;
    if (!response.backgrounded) return { backgrounded: false, text: response.text, task };
    return { backgrounded: true, text: response.text, task, handle: this.handle(task.taskId, options.userId) };
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
   * heartbeats and the terminal update. If the connection drops
   * (UNAVAILABLE) it reconnects, within the retry policy, resuming after the
   * last version it yielded: no state is yielded twice, and the newest state
   * is never missed. `options.afterVersion` resumes a stream of an earlier one.
   */
  async *updates(taskId: string, options: AwaitOptions = {}): AsyncGenerator<AwaitResultResponse> {
    const request = {
      taskId,
      userId: this.user(options),
      ...(options.timeoutSeconds !== undefined && { timeoutSeconds: options.timeoutSeconds }),
      ...(options.heartbeatSeconds !== undefined && { heartbeatSeconds: options.heartbeatSeconds }),
    };
    let failures = 0;
    let seen = options.afterVersion ?? 0;
    for (;;) {
      const resume = seen > 0 ? { ...request, afterVersion: String(seen) } : request;
      const stream: ClientReadableStream<AwaitResultResponse> = this.stub.awaitResult(resume, this.metadata());
      const cancel = () => stream.cancel();
      options.signal?.addEventListener('abort', cancel, { once: true });
      try {
        for await (const update of stream as AsyncIterable<AwaitResultResponse>) {
          failures = 0;
          seen = Math.max(seen, Number(update.task?.version ?? 0));
          yield update;
          if (update.kind === UpdateKind.UPDATE_KIND_TERMINAL || update.waitTimedOut) return;
        }
        return;
      } catch (err) {
        const error = toClientError(err);
        if (!(error instanceof UnavailableError) || ++failures >= this.retry.attempts || options.signal?.aborted)
          throw error;
        await pause(backoffMs(this.retry, failures), options.signal);
      } finally {
        options.signal?.removeEventListener('abort', cancel);
        // A consumer that stops early (break) ends the stream here.
        stream.cancel();
      }
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

function channelCredentials(tls: ClientOptions['tls']): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  return credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}
