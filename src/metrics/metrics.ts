import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskObserver } from '../core/observer.js';
import type { Outcome } from '../core/task.js';
import type { DeliveryObserver } from '../redirect/dispatcher.js';
import { CODE_NAMES, type RpcObserver } from '../grpc/rpc-recorder.js';
import type { RedisObserver } from '../store/redis/instrument.js';

/** Values read when Prometheus scrapes, from whoever holds them. */
export interface MetricSources {
  serving(): boolean;
  awaitStreams(): number;
  backgroundTasks(): number;
  pendingOutcomes(): number;
  workers(): number;
}

const RUN_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const REDIS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

/**
 * Every TaskService metric, in a registry of its own (so several servers in
 * one process, as in the tests, never share counts). Names follow the
 * Prometheus conventions: `taskservice_` prefix, base units, `_total` on
 * counters. README "Metrics" lists them.
 *
 * Label children are cached per tool and method: prom-client hashes the
 * label values on every inc() otherwise, and this runs on every call.
 */
export class Metrics implements TaskObserver, RpcObserver, RedisObserver, DeliveryObserver {
  readonly registry = new Registry();
  private readonly started: Counter<'tool' | 'mode'>;
  private readonly finished: Counter<'tool' | 'status' | 'reason'>;
  private readonly running: Gauge<'tool'>;
  private readonly duration: Histogram<'tool' | 'status'>;
  private readonly budgetHits: Counter<'tool'>;
  private readonly deliveries: Counter<'platform' | 'state'>;
  private readonly redisDuration: Histogram<'command'>;
  private readonly redisErrors: Counter<'command'>;
  private readonly redisRoundTrips: Counter;
  private readonly rpcs: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  private readonly rpcDuration: Histogram<'grpc_service' | 'grpc_method'>;
  private readonly children = new Map<string, unknown>();

  constructor(sources: MetricSources, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.started = new Counter({
      name: 'taskservice_tasks_started_total',
      help: 'Execute calls that ran a tool, by how they were answered: inline (the outcome) or background (an envelope)',
      labelNames: ['tool', 'mode'],
      registers,
    });
    this.finished = new Counter({
      name: 'taskservice_tool_runs_finished_total',
      help: 'Tool runs in this process that ended, by status and failure reason (empty when completed)',
      labelNames: ['tool', 'status', 'reason'],
      registers,
    });
    this.running = new Gauge({
      name: 'taskservice_tool_runs_running',
      help: 'Tool runs under way in this process, inline and background',
      labelNames: ['tool'],
      registers,
    });
    this.duration = new Histogram({
      name: 'taskservice_tool_run_duration_seconds',
      help: 'How long tool runs took, from start to outcome',
      labelNames: ['tool', 'status'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.budgetHits = new Counter({
      name: 'taskservice_execute_budget_exceeded_total',
      help: 'Execute calls whose budget ran out before the tool settled (the tool went on in the background)',
      labelNames: ['tool'],
      registers,
    });
    this.deliveries = new Counter({
      name: 'taskservice_redirect_deliveries_total',
      help: 'Output redirect delivery attempts, by platform and resulting state (delivered, retrying, failed)',
      labelNames: ['platform', 'state'],
      registers,
    });
    this.redisDuration = new Histogram({
      name: 'taskservice_redis_command_duration_seconds',
      help: 'Redis commands sent, by command, from send to reply',
      labelNames: ['command'],
      buckets: REDIS_BUCKETS,
      registers,
    });
    this.redisErrors = new Counter({
      name: 'taskservice_redis_errors_total',
      help: 'Redis commands that failed (by command) and connection errors (command="connection")',
      labelNames: ['command'],
      registers,
    });
    this.redisRoundTrips = new Counter({
      name: 'taskservice_redis_round_trips_total',
      help: 'Waits for Redis: commands sent in one synchronous run (pipeline, MULTI, script) count once',
      registers,
    });
    this.rpcs = new Counter({
      name: 'taskservice_grpc_server_handled_total',
      help: 'gRPC calls finished, by service, method and status code',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      registers,
    });
    this.rpcDuration = new Histogram({
      name: 'taskservice_grpc_server_handling_seconds',
      help: 'How long gRPC calls took, by service and method (streams: until they ended)',
      labelNames: ['grpc_service', 'grpc_method'],
      buckets: RPC_BUCKETS,
      registers,
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('taskservice_serving', '1 while health reports SERVING, 0 while the store is unreachable or during shutdown', () =>
      Number(sources.serving()),
    );
    gauge('taskservice_await_streams_open', 'AwaitResult streams open on this replica', sources.awaitStreams);
    gauge('taskservice_background_tasks', 'Background tasks this replica runs and owns', sources.backgroundTasks);
    gauge('taskservice_pending_outcomes', 'Outcomes kept in memory until the store is reachable again', sources.pendingOutcomes);
    gauge('taskservice_workers_connected', 'Tool workers connected to this replica', sources.workers);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The text Prometheus scrapes. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  runStarted(tool: string): void {
    this.child(`running:${tool}`, () => this.running.labels(tool)).inc();
  }

  runFinished(tool: string, outcome: Outcome, seconds: number): void {
    this.child(`running:${tool}`, () => this.running.labels(tool)).dec();
    const { status } = outcome;
    const reason = 'reason' in outcome ? outcome.reason : '';
    this.child(`finished:${tool}:${status}:${reason}`, () => this.finished.labels(tool, status, reason)).inc();
    this.child(`duration:${tool}:${status}`, () => this.duration.labels(tool, status)).observe(seconds);
  }

  executeAnswered(tool: string, backgrounded: boolean): void {
    const mode = backgrounded ? 'background' : 'inline';
    this.child(`started:${tool}:${mode}`, () => this.started.labels(tool, mode)).inc();
  }

  budgetExceeded(tool: string): void {
    this.child(`budget:${tool}`, () => this.budgetHits.labels(tool)).inc();
  }

  rpcFinished(service: string, method: string, code: number, seconds: number): void {
    const codeName = CODE_NAMES[code] ?? String(code);
    this.child(`rpc:${service}:${method}:${codeName}`, () => this.rpcs.labels(service, method, codeName)).inc();
    this.child(`rpcs:${service}:${method}`, () => this.rpcDuration.labels(service, method)).observe(seconds);
  }

  command(name: string, seconds: number, failed: boolean): void {
    this.child(`redis:${name}`, () => this.redisDuration.labels(name)).observe(seconds);
    if (failed) this.redisErrors.labels(name).inc();
  }

  roundTrip(): void {
    this.redisRoundTrips.inc();
  }

  connectionError(): void {
    this.redisErrors.labels('connection').inc();
  }

  delivery(platform: string, state: 'delivered' | 'retrying' | 'failed'): void {
    this.deliveries.labels(platform, state).inc();
  }

  private child<T>(key: string, make: () => T): T {
    let child = this.children.get(key) as T | undefined;
    if (!child) this.children.set(key, (child = make()));
    return child;
  }
}
