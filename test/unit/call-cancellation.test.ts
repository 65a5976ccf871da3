import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { CallCancellation } from '../../src/grpc/call-cancellation.js';

/** What CallCancellation reads of a grpc-js call: its `cancelled` flag and event, set together as grpc-js does. */
class FakeCall extends EventEmitter {
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
    this.emit('cancelled');
  }
}

describe('CallCancellation (a call cancellation without an AbortController)', () => {
  it('calls each listener once when the call is cancelled, in the order added, and is aborted from then on', () => {
    const call = new FakeCall();
    const cancellation = new CallCancellation(call);
    const heard: string[] = [];
    cancellation.addEventListener('abort', () => heard.push('a'));
    cancellation.addEventListener('abort', () => heard.push('b'), { once: true });
    expect(cancellation.aborted).to.equal(false);
    call.cancel();
    call.emit('cancelled');
    expect(heard).to.deep.equal(['a', 'b']);
    expect(cancellation.aborted).to.equal(true);
  });

  it('never calls a listener removed before, or added after, the cancel', () => {
    const call = new FakeCall();
    const cancellation = new CallCancellation(call);
    let removedHeard = false;
    const removed = () => (removedHeard = true);
    cancellation.addEventListener('abort', removed);
    cancellation.removeEventListener('abort', removed);
    call.cancel();
    let lateHeard = false;
    cancellation.addEventListener('abort', () => (lateHeard = true));
    call.emit('cancelled');
    expect([removedHeard, lateHeard]).to.deep.equal([false, false]);
  });

  it('is aborted at once for a call already cancelled, and then holds no listener on it', () => {
    const call = new FakeCall();
    call.cancelled = true;
    const cancellation = new CallCancellation(call);
    expect(cancellation.aborted).to.equal(true);
    expect(call.listenerCount('cancelled')).to.equal(0);
  });

  it('lets go of the call on release (no listener left behind)', () => {
    const call = new FakeCall();
    const cancellation = new CallCancellation(call);
    expect(call.listenerCount('cancelled')).to.equal(1);
    cancellation.release();
    expect(call.listenerCount('cancelled')).to.equal(0);
  });

  it('keeps calling the other listeners when one throws', async () => {
    const call = new FakeCall();
    const cancellation = new CallCancellation(call);
    const heard: string[] = [];
    cancellation.addEventListener('abort', () => {
      throw new Error('a listener failed');
    });
    cancellation.addEventListener('abort', () => heard.push('after'));
    // The thrown error is reported as uncaught, as EventTarget reports it; catch it here so it does not fail the run.
    const reported = new Promise<unknown>((resolve) => {
      const original = globalThis.queueMicrotask;
      globalThis.queueMicrotask = (task) => {
        globalThis.queueMicrotask = original;
        try {
          task();
        } catch (err) {
          resolve(err);
        }
      };
    });
    call.cancel();
    expect(heard).to.deep.equal(['after']);
    expect(await reported).to.have.property('message', 'a listener failed');
  });
});
