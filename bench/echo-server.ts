/**
 * The baseline: a bare grpc-js server answering TaskService.Execute by
 * echoing the arguments' text, built like TaskService's (same generated
 * code and codec, same keepalive and message-size options, health added the
 * same way) and answering a message of the same shape and size as an inline
 * TaskService answer. What TaskService costs beyond it is the service itself.
 *
 *   ECHO_ADDR=127.0.0.1:50060 node --import tsx bench/echo-server.ts
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
  TaskServiceService,
} from '../gen/ts/taskmanager/v1/task_service.js';

const server = new Server({
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.max_receive_message_length': 4 * 1024 * 1024 + 64 * 1024,
  'grpc.enable_channelz': 0,
});
const rpcLog = process.env.ECHO_LOG
  ? createLogger({ logLevel: 'info', instanceId: 'echo', logToolArguments: false }).child({}, { redact: [] })
  : undefined;
const unimplemented = (_call: unknown, callback: (err: unknown) => void) =>
  callback({ code: 12, details: 'not in the echo server' });
server.addService(TaskServiceService, {
  execute(call: { request: ExecuteRequest }, callback: (err: null, res: ExecuteResponse) => void) {
    const started = rpcLog && process.hrtime.bigint();
    const request = call.request;
    const text = (JSON.parse(request.argumentsJson || '{}') as { text?: string }).text ?? '';
    const now = new Date();
    callback(null, {
      backgrounded: false,
      text,
      task: {
        taskId: '',
        toolName: request.toolName,
        status: TaskStatus.TASK_STATUS_COMPLETED,
        failureReason: 0,
        createdAt: now,
        updatedAt: now,
        finishedAt: now,
        result: text,
        error: '',
        userId: request.userId,
        channelId: request.channelId,
        platform: request.platform,
        requestId: '',
        version: '1',
        outputBytes: '0',
        outputTruncated: false,
      },
    });
    if (started !== undefined) {
      // The fields and rounding of TaskService's line for an inline Execute (src/grpc/rpc-recorder.ts).
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      rpcLog!.info({ method: 'Execute', code: 'OK', ms: Math.round(ms * 1000) / 1000, tool: request.toolName }, 'rpc');
    }
  },
  getResult: unimplemented,
  awaitResult: (call: { emit(e: string, v: unknown): void }) => call.emit('error', { code: 12 }),
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
