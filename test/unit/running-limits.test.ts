import { expect } from 'chai';
import { ResourceExhausted, StoreUnavailable } from '../../src/core/errors.js';
import {
  RunningLimits,
  Slot,
  type SharedLimits,
  type SharedPlaces,
  type SharedRefusal,
} from '../../src/core/running-limits.js';

/** Shared places that answer as told and record every call. */
class ScriptedPlaces implements SharedPlaces {
  taken: string[] = [];
  freed: string[] = [];
  answer: () => Promise<SharedRefusal | undefined> = async () => undefined;

  take(placeId: string, _userId: string, _limits: SharedLimits): Promise<SharedRefusal | undefined> {
    this.taken.push(placeId);
    return this.answer();
  }

  free(placeId: string): void {
    this.freed.push(placeId);
  }
}

/** take() as a promise, whether it refused at once (a throw) or after asking the shared places. */
const attempt = async (limits: RunningLimits, userId: string) => limits.take(userId);

describe('RunningLimits', () => {
  it('takes a place without a promise when no store is shared, and refuses past its limits at once', () => {
    const limits = new RunningLimits(10, 1, undefined);
    const slot = limits.take('u');
    expect(slot).to.be.instanceOf(Slot);
    expect(() => limits.take('u')).to.throw(ResourceExhausted, 'on this replica');
    (slot as Slot).release();
    expect(limits.running).to.equal(0);
  });
});

describe('RunningLimits with shared places', () => {
  it('takes a shared place per call and frees it once when the slot is released', async () => {
    const places = new ScriptedPlaces();
    const limits = new RunningLimits(10, 10, { places, maxTotal: 0 });
    const slot = await limits.take('u');
    expect(places.taken).to.have.length(1);
    expect(slot.placeId).to.equal(places.taken[0]);
    expect(limits.running).to.equal(1);
    slot.release();
    slot.release();
    expect(places.freed).to.deep.equal(places.taken);
    expect(limits.running).to.equal(0);
  });

  it('refuses past the shared per-user limit, naming it, and frees the local count and the place', async () => {
    const places = new ScriptedPlaces();
    places.answer = async () => ({ limit: 'perUser', running: 7 });
    const limits = new RunningLimits(10, 10, { places, maxTotal: 0 });
    const err = await attempt(limits, 'alice').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ResourceExhausted);
    expect((err as Error).message).to.equal(
      'user_id "alice" has 7 tools running across the deployment, the limit (TASKSERVICE_MAX_RUNNING_PER_USER); ' +
        'wait for one to finish',
    );
    // The other half (the total's) may have been taken: it is freed too.
    expect(places.freed).to.deep.equal(places.taken);
    expect(limits.running).to.equal(0);
  });

  it('refuses past the shared total, naming TASKSERVICE_MAX_RUNNING_TOTAL', async () => {
    const places = new ScriptedPlaces();
    places.answer = async () => ({ limit: 'total', running: 3 });
    const limits = new RunningLimits(10, 10, { places, maxTotal: 3 });
    const err = await attempt(limits, 'u').catch((e: unknown) => e);
    expect((err as Error).message).to.equal(
      'the deployment runs 3 tools, its limit (TASKSERVICE_MAX_RUNNING_TOTAL); retry later',
    );
  });

  it('falls back to its own limits while the store is away, and frees the place it may have taken', async () => {
    const places = new ScriptedPlaces();
    places.answer = () => Promise.reject(new StoreUnavailable(new Error('down')));
    const limits = new RunningLimits(10, 2, { places, maxTotal: 0 });
    const a = await limits.take('u');
    expect(a.placeId).to.equal(undefined);
    expect(places.freed).to.deep.equal(places.taken);
    await limits.take('u');
    const err = await attempt(limits, 'u').catch((e: unknown) => e);
    expect((err as Error).message).to.contain('on this replica');
    a.release();
    expect(places.freed).to.have.length(2, 'a local-only slot frees no shared place');
    expect(limits.running).to.equal(1);
  });

  it('passes other errors on, with nothing left held', async () => {
    const places = new ScriptedPlaces();
    places.answer = () => Promise.reject(new Error('a bug'));
    const limits = new RunningLimits(10, 10, { places, maxTotal: 0 });
    expect(((await attempt(limits, 'u').catch((e: unknown) => e)) as Error).message).to.equal('a bug');
    expect(places.freed).to.deep.equal(places.taken);
    expect(limits.running).to.equal(0);
  });
});
