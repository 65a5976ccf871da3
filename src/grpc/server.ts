import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '../core/logger.js';
import type { TaskManager } from '../core/manager.js';
import { TaskServiceService } from '../../gen/ts/taskmanager/v1/task_service.js';
import { authInterceptor, identifier } from './auth.js';
import { CallTracker } from './call-tracker.js';
import { StreamsPerConnection } from './stream-limit.js';
import type { TokenBook } from '../auth/tokens.js';
import { addReflection } from './reflection.js';
import { SERVICE_NAME, taskService, type ServiceDefaults } from './service.js';
import { type RpcLogOptions, type RpcObserver, RpcRecorder } from './rpc-recorder.js';
import { toolWorkerService } from './worker-service.js';
import type { WorkerHub } from '../workers/hub.js';
import type { Keepalive } from '../workers/protocol.js';
import { ToolWorkerServiceService } from '../../gen/ts/taskmanager/v1/tool_worker.js';

export { SERVICE_NAME };

/** How long answers already sent may take to leave once no call is under way. */
const FLUSH_MS = 500;

export interface GrpcOptions {
  host: string;
  port: number;
  reflection: boolean;
  keepaliveTimeSeconds: number;
  keepaliveTimeoutSeconds: number;
  defaults: ServiceDefaults;
  /** AwaitResult streams one client connection may hold open. */
  streamsPerConnection: number;
  /** The largest message accepted (arguments, worker results), bytes. */
  maxMessageBytes: number;
  /** PEM certificate and key; with a client CA, clients must present a certificate it signed. */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** Bearer tokens (none: no authentication) and whether reflection needs one. */
  auth: { tokens: TokenBook; reflectionNeedsToken: boolean };
  /** Serve ToolWorkerService for these workers. */
  workers?: { hub: WorkerHub; keepalive: Keepalive };
  /** Which calls get a log line, and with what. */
  rpcLog: RpcLogOptions;
  /** Counts finished calls (metrics). */
  rpcObserver?: RpcObserver;
}

/** The gRPC face of the service: TaskService, ToolWorkerService, health and (optionally) reflection. */
export class GrpcServer {
  readonly health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  private readonly server: Server;
  private readonly calls = new CallTracker();
  /** AwaitResult streams per connection; `total` for leak checks. */
  readonly streams: StreamsPerConnection;
  private boundPort = -1;
  private isServing = true;

  constructor(
    manager: TaskManager,
    private readonly options: GrpcOptions,
    logger: Logger,
  ) {
    this.streams = new StreamsPerConnection(options.streamsPerConnection);
    this.server = new Server({
      // The server pings idle clients and drops those that stop answering, so
      // a half-open connection cannot hold streams and their listeners forever.
      'grpc.keepalive_time_ms': options.keepaliveTimeSeconds * 1000,
      'grpc.keepalive_timeout_ms': options.keepaliveTimeoutSeconds * 1000,
      'grpc.max_receive_message_length': options.maxMessageBytes,
      // Channelz (per-call counters, timestamps and trace events for a channelz
      // service) is on by default in grpc-js; nothing here serves or reads it.
      'grpc.enable_channelz': 0,
      ...(options.auth.tokens.enabled && {
        interceptors: [
          authInterceptor(options.auth.tokens, options.auth.reflectionNeedsToken, logger, options.rpcObserver),
        ],
      }),
    });
    const deps = (service: string) => ({
      logger,
      calls: this.calls,
      identify: identifier(options.auth.tokens),
      // RPC lines hold only fields the recorder picks (no secrets; arguments only when asked for): no redaction walk.
      rpcs: new RpcRecorder(service, logger.child({}, { redact: [] }), options.rpcLog, options.rpcObserver),
    });
    this.server.addService(
      TaskServiceService,
      taskService(manager, options.defaults, deps(SERVICE_NAME), this.streams),
    );
    if (options.workers) {
      const { hub, keepalive } = options.workers;
      this.server.addService(
        ToolWorkerServiceService,
        toolWorkerService(hub, keepalive, deps(ToolWorkerServiceService.connect.path.split('/')[1]!)),
      );
    }
    this.health.addToServer(this.server);
    if (options.reflection) addReflection(this.server);
  }

  /** The bound port (the real one when 0 was asked for). */
  get port(): number {
    return this.boundPort;
  }

  listen(): Promise<number> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, this.credentials(), (err, bound) => {
        if (err) return reject(err);
        this.boundPort = bound;
        resolve(bound);
      });
    });
  }

  private credentials(): ServerCredentials {
    const { tls } = this.options;
    if (!tls) return ServerCredentials.createInsecure();
    return ServerCredentials.createSsl(
      tls.clientCa ?? null,
      [{ cert_chain: tls.cert, private_key: tls.key }],
      tls.clientCa !== undefined,
    );
  }

  /** What health reports: false while the store is unreachable and from the start of shutdown. */
  get serving(): boolean {
    return this.isServing;
  }

  setServing(serving: boolean): void {
    this.isServing = serving;
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    this.health.setStatus(SERVICE_NAME, status);
  }

  /**
   * Stops accepting calls at once; resolves when the calls under way have
   * finished and their answers are out, or after `graceMs`, and then cuts
   * whatever is left.
   *
   * grpc-js's tryShutdown callback is the normal "answers are out" signal, but
   * it never fires when a client's HTTP/2 session was destroyed just before
   * (the session's close callback is never registered). So once our own count
   * of calls reaches zero, the graceful close gets FLUSH_MS more, then force.
   */
  async close(graceMs: number): Promise<void> {
    const timers: NodeJS.Timeout[] = [];
    const after = (ms: number) => new Promise<void>((resolve) => timers.push(setTimeout(resolve, ms)));
    const drained = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    await Promise.race([
      drained,
      this.calls.idle().then(() => Promise.race([drained, after(FLUSH_MS)])),
      after(graceMs),
    ]);
    timers.forEach(clearTimeout);
    this.server.forceShutdown();
  }
}
