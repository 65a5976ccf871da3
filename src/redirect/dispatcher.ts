import { jitteredBackoffMs, pause } from '../client/backoff.js';
import { errorMessage } from '../core/run.js';
import { InvalidArgument } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { waitAtMost } from '../core/wait-at-most.js';
import type { RedirectPort } from '../core/redirect-port.js';
import type { TaskStore } from '../core/store.js';
import { DeliveryState, type RedirectTarget, type TaskRecord } from '../core/task.js';
import {
  type OutgoingMessage,
  PermanentDeliveryError,
  type PlatformAdapter,
  RetryableDeliveryError,
} from './platform-adapter.js';
import { formatQuestion, formatResult, truncate } from './format.js';

export interface DeliveryPolicy {
  attempts: number;
  attemptTimeoutMs: number;
  /** Delay before the second attempt; doubles after each failure (with jitter). */
  backoffMs: number;
  /** No retry starts later than this after the delivery began. */
  deadlineMs: number;
  /** How long close() waits for deliveries under way. */
  closeGraceMs: number;
}

/** Counts delivery attempts by the state they led to (metrics implement it). */
export interface DeliveryObserver {
  delivery(platform: string, state: 'delivered' | 'retrying' | 'failed'): void;
}

const NO_DELIVERY_OBSERVER: DeliveryObserver = { delivery() {} };

/** The longest wait between two attempts, whatever the backoff or Retry-After says. */
const MAX_DELAY_MS = 60_000;

/**
 * The wait before attempt `attempt + 1`: the receiver's Retry-After if it
 * gave one, else exponential backoff with equal jitter (half fixed, half
 * random), so replicas retrying the same endpoint spread out.
 */
export function retryDelay(policy: DeliveryPolicy, attempt: number, err: unknown, random = Math.random): number {
  if (err instanceof RetryableDeliveryError && err.retryAfterMs !== undefined)
    return Math.min(err.retryAfterMs, MAX_DELAY_MS);
  return jitteredBackoffMs(policy.backoffMs, MAX_DELAY_MS, attempt, random);
}

/**
 * Delivers finished results to their redirect targets. The store's delivery
 * claim makes sure one deliverer sends each result; the state, attempts and
 * last error are written back so every API shows where delivery stands.
 */
export class RedirectDispatcher implements RedirectPort {
  private readonly adapters: Map<string, PlatformAdapter>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stop = new AbortController();

  constructor(
    private readonly store: TaskStore,
    adapters: PlatformAdapter[],
    private readonly policy: DeliveryPolicy,
    private readonly logger: Logger,
    private readonly observer: DeliveryObserver = NO_DELIVERY_OBSERVER,
  ) {
    this.adapters = new Map(adapters.map((a) => [a.platform, a]));
  }

  validateTarget(target: RedirectTarget): void {
    if (this.adapters.has(target.platform)) return;
    const known = [...this.adapters.keys()];
    throw new InvalidArgument(
      'platform',
      `"${target.platform}" is not configured; configured platforms: ` +
        (known.length ? known.join(', ') : 'none (set TASKSERVICE_PLATFORMS)'),
    );
  }

  deliver(task: TaskRecord, alreadyClaimed = false): void {
    this.track(this.run(task, alreadyClaimed), task.taskId);
  }

  /** Keeps a delivery in flight until it ends (close() waits for them); logs one that crashed. */
  private track(work: Promise<void>, taskId: string): void {
    const delivery = work.catch((err) => this.logger.error({ err, taskId }, 'redirect delivery crashed'));
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  async close(): Promise<void> {
    await waitAtMost(Promise.all(this.inFlight), this.policy.closeGraceMs);
    this.stop.abort();
    await Promise.all(this.inFlight);
    await Promise.all([...this.adapters.values()].map((a) => a.close?.()));
  }

  private async run(finished: TaskRecord, alreadyClaimed: boolean): Promise<void> {
    const { taskId } = finished;
    const task = alreadyClaimed ? finished : await this.store.claimDelivery(taskId);
    if (!task?.redirect) return; // someone else delivers, or nothing to deliver
    const { redirect } = task;
    const adapter = this.adapters.get(redirect.platform);
    if (!adapter) {
      this.observer.delivery(redirect.platform, 'failed');
      await this.store.updateDelivery(taskId, {
        state: DeliveryState.Failed,
        attempts: 0,
        lastError: `platform "${redirect.platform}" is no longer configured`,
      });
      return;
    }
    const { text, truncated } = truncate(formatResult(task), limitFor(redirect, adapter));
    const message = { channelId: redirect.channelId, text, truncated, task, sent: { parts: 0 } };
    await this.attempts(adapter, message, async (state, attempts, lastError) => {
      const at = state === DeliveryState.Delivered ? { deliveredAt: Date.now() } : {};
      await this.store.updateDelivery(taskId, { state, attempts, lastError, ...at });
    });
  }

  /**
   * Sends a task's question (it entered INPUT_REQUIRED) to its redirect
   * target, if it has one. The replica that runs the tool calls this once per
   * question, when the question is stored; retried like a result, but the
   * task's delivery state stays the result's. Never throws.
   */
  deliverQuestion(task: TaskRecord): void {
    const { redirect, inputRequest } = task;
    const adapter = redirect && this.adapters.get(redirect.platform);
    if (!redirect || !adapter || !inputRequest) return;
    const { text, truncated } = truncate(formatQuestion(task), limitFor(redirect, adapter));
    const message = {
      channelId: redirect.channelId,
      text,
      truncated,
      task,
      sent: { parts: 0 },
      kind: 'question' as const,
    };
    this.track(
      this.attempts(adapter, message, async (state, attempts, lastError) => {
        if (state === DeliveryState.Failed) {
          this.logger.warn({ taskId: task.taskId, attempts, err: lastError }, 'question delivery failed');
        }
      }),
      task.taskId,
    );
  }

  /** Sends one message with retries within the policy; `record` hears of each attempt's outcome. */
  private async attempts(
    adapter: PlatformAdapter,
    message: OutgoingMessage,
    record: (state: DeliveryState, attempts: number, lastError: string) => Promise<void>,
  ): Promise<void> {
    const { taskId } = message.task;
    const giveUpAt = Date.now() + this.policy.deadlineMs;
    let attempt = 0;
    let lastError = 'the server shut down before delivery';
    while (!this.stop.signal.aborted) {
      attempt++;
      const attemptAbort = new AbortController();
      const timer = setTimeout(
        () => attemptAbort.abort(new Error(`no answer within ${this.policy.attemptTimeoutMs} ms`)),
        this.policy.attemptTimeoutMs,
      );
      const onStop = () => attemptAbort.abort(this.stop.signal.reason);
      this.stop.signal.addEventListener('abort', onStop, { once: true });
      try {
        await adapter.send(message, attemptAbort.signal);
        this.observer.delivery(adapter.platform, 'delivered');
        await record(DeliveryState.Delivered, attempt, '');
        return;
      } catch (err) {
        lastError = errorMessage(err);
        const delay = retryDelay(this.policy, attempt, err);
        const final =
          err instanceof PermanentDeliveryError || attempt >= this.policy.attempts || Date.now() + delay > giveUpAt;
        this.logger.warn({ taskId, attempt, final, err: lastError }, 'redirect delivery attempt failed');
        this.observer.delivery(adapter.platform, final ? 'failed' : 'retrying');
        await record(final ? DeliveryState.Failed : DeliveryState.Delivering, attempt, lastError);
        if (final) return;
        await pause(delay, this.stop.signal);
      } finally {
        clearTimeout(timer);
        this.stop.signal.removeEventListener('abort', onStop);
      }
    }
    // Only reached when shutdown interrupted the retries.
    await record(DeliveryState.Failed, attempt, lastError);
  }
}

/** The message length limit: the target's max_chars within the platform's own. */
function limitFor(redirect: RedirectTarget, adapter: PlatformAdapter): number {
  return redirect.maxChars > 0 ? Math.min(redirect.maxChars, adapter.maxChars) : adapter.maxChars;
}
