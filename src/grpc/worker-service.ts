import type { ServerDuplexStream } from '@grpc/grpc-js';
import { InvalidArgument } from '../core/errors.js';
import type { Keepalive, Registration, ToWorker, WorkerLink } from '../workers/protocol.js';
import type { WorkerHub } from '../workers/hub.js';
import type { WorkerSession } from '../workers/session.js';
import type {
  ConnectRequest,
  ConnectResponse,
  RegisterWorker,
  ToolWorkerServiceServer,
} from '../../gen/ts/taskmanager/v1/tool_worker.js';
import type { HandlerDeps } from './call-adapters.js';
import { REASON_TO_PB } from './mapping.js';
import { toServiceError } from './status.js';

type Stream = ServerDuplexStream<ConnectRequest, ConnectResponse>;

/**
 * taskmanager.v1.ToolWorkerService: one Connect stream per worker. Maps the
 * proto messages to the hub's plain ones; the hub decides everything else.
 */
export function toolWorkerService(hub: WorkerHub, keepalive: Keepalive, deps: HandlerDeps): ToolWorkerServiceServer {
  return { connect: (call: Stream) => serveWorker(call, hub, keepalive, deps) };
}

function serveWorker(call: Stream, hub: WorkerHub, keepalive: Keepalive, { logger, calls, rpcs }: HandlerDeps): void {
  const finished = calls.enter();
  const started = process.hrtime.bigint();
  let session: WorkerSession | undefined;
  let ended = false;
  const link: WorkerLink = {
    send: (message) => {
      if (!ended) call.write(toPb(message));
    },
    close: (error) => {
      if (ended) return;
      ended = true;
      clearTimeout(registrationTimer);
      const status = error ? toServiceError(error, logger) : undefined;
      if (status) call.emit('error', status);
      else call.end();
      rpcs.finished('Connect', status?.code ?? 0, started, {}, undefined, status?.details);
      finished();
    },
  };
  // A connection that never registers would hold a stream for nothing.
  const registrationTimer = setTimeout(
    () =>
      link.close(
        new InvalidArgument('register', `must be sent first, within ${keepalive.timeoutMs / 1000} s of connecting`),
      ),
    keepalive.timeoutMs,
  );

  call.on('data', (request: ConnectRequest) => {
    if (ended) return;
    const message = request.message;
    try {
      if (!session) {
        if (message?.$case !== 'register')
          throw new InvalidArgument('register', 'must be the first message on the stream');
        clearTimeout(registrationTimer);
        session = hub.register(registrationFromPb(message.value), link);
        call.write({
          message: {
            $case: 'registered',
            value: {
              workerId: session.id,
              pingIntervalSeconds: keepalive.pingMs / 1000,
              timeoutSeconds: keepalive.timeoutMs / 1000,
            },
          },
        });
        return;
      }
      switch (message?.$case) {
        case 'register':
          throw new InvalidArgument('register', 'may be sent only once per stream');
        case 'progress':
          return session.received({ kind: 'progress', ...message.value });
        case 'result': {
          const { taskId, outcome } = message.value;
          if (outcome?.$case === 'error') return session.received({ kind: 'error', taskId, error: outcome.value });
          return session.received({ kind: 'result', taskId, result: outcome?.value ?? '' });
        }
        case 'pong':
          return session.received({ kind: 'pong', sequence: Number(message.value.sequence) });
        case 'inputRequest':
          return session.received({ kind: 'input_request', ...message.value });
        case 'output':
          return session.received({ kind: 'output', ...message.value });
        default:
          throw new InvalidArgument(
            'message',
            'is empty; send register, progress, output, result, pong or input_request',
          );
      }
    } catch (err) {
      if (session) session.lose('it broke the protocol', err as Error);
      else link.close(err as Error);
    }
  });
  const gone = (why: string) => () => {
    if (session) session.lose(why);
    else link.close();
  };
  call.on('end', gone('the worker closed its stream'));
  call.on('cancelled', gone('the stream was cancelled'));
  call.on('error', gone('the stream failed'));
}

function registrationFromPb(register: RegisterWorker): Registration {
  return {
    workerName: register.workerName || 'worker',
    maxConcurrency: register.maxConcurrency,
    tools: register.tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      parametersJson: tool.parametersJsonSchema,
      noBackground: tool.noBackground,
      concurrency: tool.concurrency,
      timeoutSeconds: tool.defaultTimeoutSeconds,
      hardTimeoutSeconds: tool.hardTimeoutSeconds,
      inputTimeoutSeconds: tool.inputTimeoutSeconds,
    })),
  };
}

function toPb(message: ToWorker): ConnectResponse {
  switch (message.kind) {
    case 'invocation':
      return {
        message: {
          $case: 'invocation',
          value: {
            taskId: message.taskId,
            toolName: message.toolName,
            argumentsJson: message.argumentsJson,
            origin: message.origin,
            hardTimeoutSeconds: message.hardTimeoutSeconds,
            traceparent: message.traceparent,
            tracestate: message.tracestate,
          },
        },
      };
    case 'cancellation':
      return {
        message: {
          $case: 'cancellation',
          value: { taskId: message.taskId, reason: REASON_TO_PB[message.reason], message: message.message },
        },
      };
    case 'ping':
      return { message: { $case: 'ping', value: { sequence: String(message.sequence) } } };
    case 'input': {
      const outcome =
        message.error === undefined
          ? { $case: 'responseJson' as const, value: message.responseJson }
          : { $case: 'error' as const, value: message.error };
      return { message: { $case: 'input', value: { taskId: message.taskId, outcome } } };
    }
  }
}
