/**
 * Loaded before every mocha run (.mocharc.json): an unhandled rejection or
 * uncaught exception anywhere fails the run instead of scrolling past.
 */
const problems: unknown[] = [];
process.on('unhandledRejection', (reason) => problems.push(reason));

export const mochaHooks = {
  afterEach(this: Mocha.Context) {
    if (problems.length > 0) {
      const first = problems.splice(0);
      throw new Error(`unhandled rejection during "${this.currentTest?.fullTitle()}": ${String(first[0])}`, {
        cause: first[0],
      });
    }
  },
};
