import { expect } from 'chai';
import { DEADLINE_MARGIN_MS, resolveBudgetMs } from '../../src/core/budget.js';
import { InvalidArgument } from '../../src/core/errors.js';

// The budget arithmetic on a fixed clock: what the timing tests of execute cannot pin down on a loaded machine.
describe('resolveBudgetMs', () => {
  const now = 1_000_000;
  const base = { serverDefaultSeconds: 10, serverMaxSeconds: 300, now };

  it("takes the request's budget, else the tool's default, else the server's", () => {
    expect(resolveBudgetMs({ ...base, requestedSeconds: 0.4, toolDefaultSeconds: 2 })).to.equal(400);
    expect(resolveBudgetMs({ ...base, requestedSeconds: 0, toolDefaultSeconds: 2 })).to.equal(2000);
    expect(resolveBudgetMs({ ...base })).to.equal(10_000);
  });

  it('caps the budget at the server maximum', () => {
    expect(resolveBudgetMs({ ...base, serverMaxSeconds: 0.1, requestedSeconds: 60 })).to.equal(100);
  });

  it("ends the budget DEADLINE_MARGIN_MS before the caller's deadline, never below zero", () => {
    expect(DEADLINE_MARGIN_MS).to.be.greaterThan(0);
    expect(resolveBudgetMs({ ...base, requestedSeconds: 10, callerDeadline: now + 300 })).to.equal(
      300 - DEADLINE_MARGIN_MS,
    );
    expect(resolveBudgetMs({ ...base, requestedSeconds: 0.05, callerDeadline: now + 300 })).to.equal(50);
    expect(resolveBudgetMs({ ...base, requestedSeconds: 10, callerDeadline: now + 10 })).to.equal(0);
  });

  it('refuses a budget that is negative or not finite', () => {
    for (const requestedSeconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => resolveBudgetMs({ ...base, requestedSeconds })).to.throw(InvalidArgument);
    }
  });
});
