import { errorMessage } from '../core/run.js';
import { InvalidArgument } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { RedirectPort } from '../core/redirect-port.js';
import type { TaskStore } from '../core/store.js';
import { DeliveryState, type RedirectTarget, type TaskRecord } from '../core/task.js';
import { PermanentDeliveryError, type PlatformAdapter } from './adapter.js';
import { formatResult, truncate } from './format.js';

export interface DeliveryPolicy {
  attempts: number;
  attemptTimeoutMs: number;
  /** Delay before the second attempt; doubles after each failure. */
  backoffMs: number;
  /** How long close() waits for deliveries under way. */
  closeGraceMs: number;
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
  ) {
    this.adapters = new Map(adapters.map((a) => [a.platform, a]));
  }

  validateTarget(target: RedirectTarget): void {
    if (this.adapters.has(target.platform)) return;
    const known = [...this.adapters.keys()];
    throw new InvalidArgument(
      'platform',
      `"${target.platform}" is not configured; configured platforms: ${known.length ? known.join(', ') : 'none (set TASKSERVICE_PLATFORMS)'}`,
    );
  }

  deliver(task: TaskRecord): void {
    const delivery = this.run(task.taskId).catch((err) =>
      this.logger.error({ err, taskId: task.taskId }, 'redirect delivery crashed'),
    );
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  async close(): Promise<void> {
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.policy.closeGraceMs).unref());
    await Promise.race([Promise.all(this.inFlight), grace]);
    this.stop.abort();
    await Promise.all(this.inFlight);
  }

  private async run(taskId: string): Promise<void> {
    const task = await this.store.claimDelivery(taskId);
    if (!task?.redirect) return; // someone else delivers, or nothing to deliver
    const { redirect } = task;
    const adapter = this.adapters.get(redirect.platform);
    if (!adapter) {
      await this.store.updateDelivery(taskId, {
        state: DeliveryState.Failed,
        attempts: 0,
        lastError: `platform "${redirect.platform}" is no longer configured`,
      });
      return;
    }
    const limit = redirect.maxChars > 0 ? Math.min(redirect.maxChars, adapter.maxChars) : adapter.maxChars;
    const { text, truncated } = truncate(formatResult(task), limit);
    let delay = this.policy.backoffMs;
    let lastError = '';
    let attempt = 0;
    while (++attempt <= this.policy.attempts && !this.stop.signal.aborted) {
      try {
        const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.policy.attemptTimeoutMs)]);
        await adapter.send({ channelId: redirect.channelId, text, truncated, task }, signal);
        await this.store.updateDelivery(taskId, {
          state: DeliveryState.Delivered,
          attempts: attempt,
          lastError: '',
          deliveredAt: Date.now(),
        });
        return;
      } catch (err) {
        lastError = errorMessage(err);
        this.logger.warn({ taskId, attempt, err: lastError }, 'redirect delivery attempt failed');
        const final = err instanceof PermanentDeliveryError || attempt === this.policy.attempts;
        await this.store.updateDelivery(taskId, {
          state: final ? DeliveryState.Failed : DeliveryState.Delivering,
          attempts: attempt,
          lastError,
        });
        if (final) return;
        await sleepUnlessStopped(delay, this.stop.signal);
        delay *= 2;
      }
    }
    // Only reached when shutdown interrupted the retries.
    await this.store.updateDelivery(taskId, {
      state: DeliveryState.Failed,
      attempts: attempt - 1,
      lastError: lastError || 'the server shut down before delivery',
    });
  }
}

function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
