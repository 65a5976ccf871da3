import { type ClientDuplexStream, credentials, type ServiceError } from '@grpc/grpc-js';
import {
  type ConnectRequest,
  type ConnectResponse,
  type RegisterWorker,
  ToolWorkerServiceClient,
} from '../../gen/ts/taskmanager/v1/tool_worker.js';

/** Each server message's value by its case: registered, invocation, cancellation, ping. */
type ServerMessages = { [M in NonNullable<ConnectResponse['message']> as M['$case']]: M['value'] };

/**
 * A worker speaking the raw Connect protocol from the test, for the checks
 * that the worker libraries would never let happen (a bad first message, a
 * silent worker) and for scripted answers.
 */
export class RawWorker {
  readonly messages: ConnectResponse[] = [];
  readonly stream: ClientDuplexStream<ConnectRequest, ConnectResponse>;
  /** Settles when the server ends the stream: null for OK, else the error. */
  readonly ended: Promise<ServiceError | null>;
  private readonly client: ToolWorkerServiceClient;
  private waiters: (() => void)[] = [];

  constructor(address: string, options: { answerPings?: boolean } = {}) {
    this.client = new ToolWorkerServiceClient(address, credentials.createInsecure());
    this.stream = this.client.connect();
    this.stream.on('data', (message: ConnectResponse) => {
      this.messages.push(message);
      if (options.answerPings !== false && message.message?.$case === 'ping') {
        this.send({ message: { $case: 'pong', value: { sequence: message.message.value.sequence } } });
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.ended = new Promise((resolve) => {
      this.stream.on('error', (err: ServiceError) => resolve(err));
      this.stream.on('end', () => resolve(null));
    });
  }

  send(request: ConnectRequest): void {
    this.stream.write(request);
  }

  register(value: Partial<RegisterWorker>): void {
    this.send({ message: { $case: 'register', value: { workerName: 'raw', tools: [], maxConcurrency: 0, ...value } } });
  }

  /** The first message of `kind` after index `from` (bounded wait). */
  async next<K extends keyof ServerMessages>(kind: K, from = 0, timeoutMs = 5000): Promise<ServerMessages[K]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find((m) => m.message?.$case === kind);
      if (found) return (found.message as { value: unknown }).value as ServerMessages[K];
      if (Date.now() > end) throw new Error(`no ${kind} message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  result(taskId: string, result: string): void {
    this.send({ message: { $case: 'result', value: { taskId, outcome: { $case: 'result', value: result } } } });
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}
