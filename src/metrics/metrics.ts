import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { TaskObserver } from '../core/observer.js';
import type { Outcome } from '../core/task.js';
import type { DeliveryObserver } from '../redirect/dispatcher.js';
import { CODE_NAMES, type RpcObserver } from '../grpc/rpc-recorder.js';
import type { RedisObserver } from '../store/redis/instrument.js';
import { CounterFamily, GaugeFamily, HistogramFamily, type MergedHistogram } from './families.js';

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

/** See Metrics.consoleStats. */
export interface ConsoleStats {
  tasksStarted: number;
  runsFinished: number;
  executeSeconds: MergedHistogram;
}

/**
 * Every TaskService metric, in a registry of its own (so several servers in
 * one process, as in the tests, never share counts). Names follow the
 * Prometheus conventions: `taskservice_` prefix, base units, `_total` on
 * counters. README "Metrics" lists them.
 *
 * The labelled ones are families (src/metrics/families.ts): they run on
 * every call, and prom-client's own hash their labels on every update.
 */
export class Metrics implements TaskObserver, RpcObserver, RedisObserver, DeliveryObserver {
  readonly registry = new Registry();
  private readonly started: CounterFamily;
  private readonly finished: CounterFamily;
  private readonly running: GaugeFamily;
  private readonly duration: HistogramFamily;
  private readonly budgetHits: CounterFamily;
  private readonly deliveries: CounterFamily;
  private readonly redisDuration: HistogramFamily;
  private readonly redisErrors: CounterFamily;
  private readonly redisRoundTrips: Counter;
  private readonly rpcs: CounterFamily;
  private readonly rpcDuration: HistogramFamily;

  constructor(sources: MetricSources, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.started = new CounterFamily(
      this.registry,
      'taskservice_tasks_started_total',
      'Execute calls that ran a tool, by how they were answered: inline (the outcome) or background (an envelope)',
      ['tool', 'mode'],
    );
    this.finished = new CounterFamily(
      this.registry,
      'taskservice_tool_runs_finished_total',
      'Tool runs in this process that ended, by status and failure reason (empty when completed)',
      ['tool', 'status', 'reason'],
    );
    this.running = new GaugeFamily(
      this.registry,
      'taskservice_tool_runs_running',
      'Tool runs under way in this process, inline and background',
      ['tool'],
    );
    this.duration = new HistogramFamily(
      this.registry,
      'taskservice_tool_run_duration_seconds',
      'How long tool runs took, from start to outcome',
      ['tool', 'status'],
      RUN_BUCKETS,
    );
    this.budgetHits = new CounterFamily(
      this.registry,
      'taskservice_execute_budget_exceeded_total',
      'Execute calls whose budget ran out before the tool settled (the tool went on in the background)',
      ['tool'],
    );
    this.deliveries = new CounterFamily(
      this.registry,
      'taskservice_redirect_deliveries_total',
      'Output redirect delivery attempts, by platform and resulting state (delivered, retrying, failed)',
      ['platform', 'state'],
    );
    this.redisDuration = new HistogramFamily(
      this.registry,
      'taskservice_redis_command_duration_seconds',
      'Redis commands sent, by command, from send to reply',
      ['command'],
      REDIS_BUCKETS,
    );
    this.redisErrors = new CounterFamily(
      this.registry,
      'taskservice_redis_errors_total',
      'Redis commands that failed (by command) and connection errors (command="connection")',
      ['command'],
    );
    this.redisRoundTrips = new Counter({
      name: 'taskservice_redis_round_trips_total',
      help: 'Waits for Redis: commands sent in one synchronous run (pipeline, MULTI, script) count once',
      registers,
    });
    this.rpcs = new CounterFamily(
      this.registry,
      'taskservice_grpc_server_handled_total',
      'gRPC calls finished, by service, method and status code',
      ['grpc_service', 'grpc_method', 'grpc_code'],
    );
    this.rpcDuration = new HistogramFamily(
      this.registry,
      'taskservice_grpc_server_handling_seconds',
      'How long gRPC calls took, by service and method (streams: until they ended)',
      ['grpc_service', 'grpc_method'],
      RPC_BUCKETS,
    );
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge(
      'taskservice_serving',
      '1 while health reports SERVING, 0 while the store is unreachable or during shutdown',
      () => Number(sources.serving()),
    );
    gauge('taskservice_await_streams_open', 'AwaitResult streams open on this replica', sources.awaitStreams);
    gauge('taskservice_background_tasks', 'Background tasks this replica runs and owns', sources.backgroundTasks);
    gauge(
      'taskservice_pending_outcomes',
      'Outcomes kept in memory until the store is reachable again',
      sources.pendingOutcomes,
    );
    gauge('taskservice_workers_connected', 'Tool workers connected to this replica', sources.workers);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * What the console's charts read, totals since start: tasks started (Execute calls that ran a tool), tool runs
   * finished, and the Execute RPC's latency histogram. The console takes differences between two readings.
   */
  consoleStats(): ConsoleStats {
    return {
      tasksStarted: this.started.total(),
      runsFinished: this.finished.total(),
      executeSeconds: this.rpcDuration.merged((labels) => labels.grpc_method === 'Execute'),
    };
  }

  /** The text Prometheus scrapes. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  runStarted(tool: string): void {
    this.running.add([tool], 1);
  }

  runFinished(tool: string, outcome: Outcome, seconds: number): void {
    this.running.add([tool], -1);
    const { status } = outcome;
    const reason = 'reason' in outcome ? outcome.reason : '';
    this.finished.inc([tool, status, reason]);
    this.duration.observe([tool, status], seconds);
  }

  executeAnswered(tool: string, backgrounded: boolean): void {
    this.started.inc([tool, backgrounded ? 'background' : 'inline']);
  }

  budgetExceeded(tool: string): void {
    this.budgetHits.inc([tool]);
  }

  rpcFinished(service: string, method: string, code: number, seconds: number): void {
    this.rpcs.inc([service, method, CODE_NAMES[code] ?? String(code)]);
    this.rpcDuration.observe([service, method], seconds);
  }

  command(name: string, seconds: number, failed: boolean): void {
    this.redisDuration.observe([name], seconds);
    if (failed) this.redisErrors.inc([name]);
  }

  roundTrip(): void {
    this.redisRoundTrips.inc();
  }

  connectionError(): void {
    this.redisErrors.inc(['connection']);
  }

  delivery(platform: string, state: 'delivered' | 'retrying' | 'failed'): void {
    this.deliveries.inc([platform, state]);
  }
}
