import { expect } from 'chai';
import { silentLogger } from '../../src/core/logger.js';
import { DeliveryState, TaskStatus } from '../../src/core/task.js';
import {
  type OutgoingMessage,
  PermanentDeliveryError,
  type PlatformAdapter,
} from '../../src/redirect/platform-adapter.js';
import { RedirectDispatcher } from '../../src/redirect/dispatcher.js';
import { MemoryStore } from '../../src/store/memory.js';
import { eventually } from '../helpers/core.js';

/** An adapter whose answers the test scripts: an Error to throw, or null to accept. */
class ScriptedAdapter implements PlatformAdapter {
  readonly kind = 'scripted';
  readonly maxChars = 100;
  readonly sends: number[] = [];
  constructor(
    readonly platform: string,
    private readonly answers: (Error | null)[],
  ) {}
  async send(_m: OutgoingMessage): Promise<void> {
    this.sends.push(Date.now());
    const answer = this.answers.shift();
    if (answer) throw answer;
  }
}

describe('RedirectDispatcher', () => {
  async function finishedTask(store: MemoryStore) {
    await store.create({
      taskId: 't1',
      toolName: 'echo',
      userId: '',
      channelId: '',
      platform: '',
      owner: 'i',
      redirect: { channelId: 'c', platform: 'p', maxChars: 0 },
    });
    return (await store.finish('t1', { status: TaskStatus.Completed, result: 'x' })).task;
  }

  it('stops retrying when the next attempt would start after the delivery deadline', async () => {
    const store = new MemoryStore({ retentionMs: 60_000 });
    const adapter = new ScriptedAdapter(
      'p',
      Array.from({ length: 10 }, () => new Error('down')),
    );
    const dispatcher = new RedirectDispatcher(
      store,
      [adapter],
      { attempts: 10, attemptTimeoutMs: 1000, backoffMs: 80, deadlineMs: 100, closeGraceMs: 0 },
      silentLogger,
    );
    dispatcher.deliver(await finishedTask(store));
    await eventually(async () => (await store.get('t1'))!.redirect!.state === DeliveryState.Failed);
    expect((await store.get('t1'))!.redirect).to.include({ attempts: 2, lastError: 'down' });
    expect(adapter.sends).to.have.length(2);
    await dispatcher.close();
    await store.close();
  });

  it('does not retry a permanent failure, and a second deliver of the same task sends nothing', async () => {
    const store = new MemoryStore({ retentionMs: 60_000 });
    const adapter = new ScriptedAdapter('p', [new PermanentDeliveryError('HTTP 403')]);
    const dispatcher = new RedirectDispatcher(
      store,
      [adapter],
      { attempts: 5, attemptTimeoutMs: 1000, backoffMs: 1, deadlineMs: 10_000, closeGraceMs: 0 },
      silentLogger,
    );
    const task = await finishedTask(store);
    dispatcher.deliver(task);
    dispatcher.deliver(task);
    await eventually(async () => (await store.get('t1'))!.redirect!.state === DeliveryState.Failed);
    await new Promise((r) => setTimeout(r, 20));
    expect(adapter.sends).to.have.length(1);
    expect((await store.get('t1'))!.status).to.equal(TaskStatus.Completed);
    await dispatcher.close();
    await store.close();
  });
});
