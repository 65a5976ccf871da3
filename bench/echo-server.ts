/**
 * The baseline: a bare grpc-js server answering TaskService.Execute by
 * echoing the arguments' text, built like TaskService's (same generated
 * code and codec, same keepalive and message-size options, health added the
 * same way) and answering a message of the same shape and size as an inline
 * TaskService answer. What TaskService costs beyond it is the service itself.
 *
 *   ECHO_ADDR=127.0.0.1:50060 node --import tsx bench/echo-server.ts
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { TaskStatus } from '../gen/ts/taskmanager/v1/task.js';
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
const unimplemented = (_call: unknown, callback: (err: unknown) => void) =>
  callback({ code: 12, details: 'not in the echo server' });
server.addService(TaskServiceService, {
  execute(call: { request: ExecuteRequest }, callback: (err: null, res: ExecuteResponse) => void) {
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
