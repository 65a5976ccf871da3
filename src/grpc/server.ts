import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '../core/logger.js';
import type { TaskManager } from '../core/manager.js';
import { TaskServiceService } from '../../gen/ts/taskmanager/v1/task_service.js';
import { addReflection } from './reflection.js';
import { taskService, type ServiceDefaults } from './service.js';

export const SERVICE_NAME = 'taskmanager.v1.TaskService';

export interface GrpcOptions {
  host: string;
  port: number;
  reflection: boolean;
  keepaliveTimeSeconds: number;
  keepaliveTimeoutSeconds: number;
  defaults: ServiceDefaults;
}

/** The gRPC face of the service: TaskService, health and (optionally) reflection. */
export class GrpcServer {
  readonly health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  private readonly server: Server;
  private boundPort = -1;

  constructor(
    manager: TaskManager,
    private readonly options: GrpcOptions,
    logger: Logger,
  ) {
    this.server = new Server({
      // The server pings idle clients and drops those that stop answering, so
      // a half-open connection cannot hold streams and their listeners forever.
      'grpc.keepalive_time_ms': options.keepaliveTimeSeconds * 1000,
      'grpc.keepalive_timeout_ms': options.keepaliveTimeoutSeconds * 1000,
    });
    this.server.addService(TaskServiceService, taskService(manager, options.defaults, logger));
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
      this.server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
        if (err) return reject(err);
        this.boundPort = bound;
        resolve(bound);
      });
    });
  }

  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    this.health.setStatus(SERVICE_NAME, status);
  }

  /**
   * Stops accepting calls at once; resolves when the calls under way have
   * finished, or after `graceMs`, when the rest are cut off.
   */
  async close(graceMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  forceClose(): void {
    this.server.forceShutdown();
  }
}
