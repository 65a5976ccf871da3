/**
 * The baseline: a bare grpc-js server answering TaskService.Execute by
 * echoing the arguments' text, built like TaskService's (same generated
 * code and codec, same keepalive and message-size options, health added the
 * same way) and answering a message of the same shape and size as an inline
 * TaskService answer. What TaskService costs beyond it is the service itself.
 *
 *   ECHO_ADDR=127.0.0.1:50060 node --import tsx bench/echo-server.ts
 *
 * ExecuteStream is the gRPC half of a background lifecycle with nothing
 * tracked: the backgrounded answer at once, the terminal update when a timer
 * of the arguments' `ms` fires, the end. What it costs is the floor of any
 * server that offers TaskService's streaming API on grpc-js.
 *
 * Execute of `settle_stamp` and AwaitResult are the notification floor: a backgrounded task held
 * in a map, whose watchers hear of its settling in the turn its timer fires (scenario 3's floor).
 *
 * ECHO_LOG=1 adds what TaskService's defaults add to every call and no bare
 * server does: one RPC log line, through TaskService's own logger and sink.
 * The bench runs it beside the bare one to show what that line alone costs.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { TaskStatus } from '../gen/ts/taskmanager/v1/task.js';
import { createLogger } from '../src/logging.js';
import {
  type ExecuteRequest,
  type ExecuteResponse,
  type AwaitResultRequest,
  type ExecuteStreamResponse,
  TaskServiceService,
  type AwaitResultResponse as TaskUpdate,
  UpdateKind,
} from '../gen/ts/taskmanager/v1/task_service.js';
import type { Task } from '../gen/ts/taskmanager/v1/task.js';

const server = new Server({
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.max_receive_message_length': 4 * 1024 * 1024 + 64 * 1024,
  'grpc.enable_channelz': 0,
});
const rpcLog = process.env.ECHO_LOG
  ? createLogger({ logLevel: 'info', instanceId: 'echo', logToolArguments: false }).child({}, { redact: [] })
  : undefined;
/** A task of the same shape and size as TaskService's. */
function task(request: ExecuteRequest, status: TaskStatus, result: string, taskId = ''): Task {
  const now = new Date();
  return {
    taskId,
    toolName: request.toolName,
    status,
    failureReason: 0,
    createdAt: now,
    updatedAt: now,
    finishedAt: status === TaskStatus.TASK_STATUS_RUNNING ? undefined : now,
    result,
    error: '',
    userId: request.userId,
    channelId: request.channelId,
    platform: request.platform,
    requestId: '',
    version: status === TaskStatus.TASK_STATUS_RUNNING ? '1' : '2',
    outputBytes: '0',
    outputTruncated: false,
  };
}
const ECHO_TASK_ID = '6f1c2a4e-0b7d-4c1e-9a52-3d8e7f6a1b2c';

interface AwaitCall {
  request: AwaitResultRequest;
  write(message: TaskUpdate): boolean;
  end(): void;
  on(event: 'cancelled', listener: () => void): void;
}
/**
 * The notification floor: `settle_stamp` tasks held in a map, no store. A task settles when its
 * timer fires; its watchers get the terminal update (the settle time as its result, as the
 * real tool returns it) in the same turn.
 */
const stampTasks = new Map<string, { request: ExecuteRequest; settledAt?: string; watchers: AwaitCall[] }>();
let stampCount = 0;
function terminalUpdate(request: ExecuteRequest, taskId: string, result: string, sequence: number): TaskUpdate {
  const done = task(request, TaskStatus.TASK_STATUS_COMPLETED, result, taskId);
  return {
    task: done,
    text: result,
    sequence: String(sequence),
    waitTimedOut: false,
    kind: UpdateKind.UPDATE_KIND_TERMINAL,
  };
}
function startStampTask(request: ExecuteRequest): ExecuteResponse {
  const taskId = `stamp-${++stampCount}`;
  const entry: { request: ExecuteRequest; settledAt?: string; watchers: AwaitCall[] } = { request, watchers: [] };
  stampTasks.set(taskId, entry);
  const { ms } = JSON.parse(request.argumentsJson || '{}') as { ms?: number };
  setTimeout(() => {
    entry.settledAt = String(performance.timeOrigin + performance.now());
    for (const watcher of entry.watchers) {
      watcher.write(terminalUpdate(request, taskId, entry.settledAt, 2));
      watcher.end();
    }
    entry.watchers = [];
    // Late watchers still find it for a while; then it is gone, as a retained task would be.
    setTimeout(() => stampTasks.delete(taskId), 60_000).unref();
  }, ms ?? 0);
  const running = task(request, TaskStatus.TASK_STATUS_RUNNING, '', taskId);
  const envelope = JSON.stringify({ task_id: taskId, status: 'running', message: 'still running' });
  return { backgrounded: true, text: envelope, task: running };
}
function awaitStampTask(call: AwaitCall & { emit(e: string, v: unknown): void }) {
  const entry = stampTasks.get(call.request.taskId);
  if (!entry) return call.emit('error', { code: 5, details: `no task ${call.request.taskId}` });
  if (entry.settledAt !== undefined) {
    call.write(terminalUpdate(entry.request, call.request.taskId, entry.settledAt, 1));
    return call.end();
  }
  const running = task(entry.request, TaskStatus.TASK_STATUS_RUNNING, '', call.request.taskId);
  call.write({ task: running, text: '', sequence: '1', waitTimedOut: false, kind: UpdateKind.UPDATE_KIND_SNAPSHOT });
  entry.watchers.push(call);
  call.on('cancelled', () => (entry.watchers = entry.watchers.filter((w) => w !== call)));
}

const unimplemented = (_call: unknown, callback: (err: unknown) => void) =>
  callback({ code: 12, details: 'not in the echo server' });
server.addService(TaskServiceService, {
  execute(call: { request: ExecuteRequest }, callback: (err: null, res: ExecuteResponse) => void) {
    const started = rpcLog && process.hrtime.bigint();
    const request = call.request;
    if (request.toolName === 'settle_stamp') return callback(null, startStampTask(request));
    const text = (JSON.parse(request.argumentsJson || '{}') as { text?: string }).text ?? '';
    callback(null, { backgrounded: false, text, task: task(request, TaskStatus.TASK_STATUS_COMPLETED, text) });
    if (started !== undefined) {
      // The fields and rounding of TaskService's line for an inline Execute (src/grpc/rpc-recorder.ts).
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      rpcLog!.info({ method: 'Execute', code: 'OK', ms: Math.round(ms * 1000) / 1000, tool: request.toolName }, 'rpc');
    }
  },
  executeStream(call: {
    request: ExecuteRequest;
    write(message: ExecuteStreamResponse): boolean;
    end(): void;
    on(event: 'cancelled', listener: () => void): void;
  }) {
    const request = call.request;
    const { ms } = JSON.parse(request.argumentsJson || '{}') as { ms?: number };
    const running = task(request, TaskStatus.TASK_STATUS_RUNNING, '', ECHO_TASK_ID);
    const envelope = JSON.stringify({ task_id: running.taskId, status: 'running', message: 'still running' });
    call.write({ event: { $case: 'answer', value: { backgrounded: true, text: envelope, task: running } } });
    const timer = setTimeout(() => {
      const update = {
        task: task(request, TaskStatus.TASK_STATUS_COMPLETED, 'done', ECHO_TASK_ID),
        text: 'done',
        sequence: '1',
        waitTimedOut: false,
        kind: UpdateKind.UPDATE_KIND_TERMINAL,
      };
      call.write({ event: { $case: 'update', value: update } });
      call.end();
    }, ms ?? 0);
    call.on('cancelled', () => clearTimeout(timer));
  },
  getResult: unimplemented,
  awaitResult: awaitStampTask,
  listTasks: unimplemented,
  setOutputRedirect: unimplemented,
  cancelTask: unimplemented,
  listTools: unimplemented,
} as never);
new HealthImplementation({ '': 'SERVING' }).addToServer(server);
server.bindAsync(process.env.ECHO_ADDR ?? '127.0.0.1:50060', ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
