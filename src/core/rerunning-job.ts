/**
 * An async job that runs one at a time. Asking for it while it runs makes it
 * run once more after the current run, however many times it was asked
 * meanwhile: a burst of wake-ups costs at most one extra run, and no ask made
 * during a run is lost (the run may have read its input before the ask).
 */
export class RerunningJob {
  private running?: Promise<void>;
  private again = false;

  /**
   * @param job one run; a rejection ends the runs asked so far (the next ask starts afresh).
   * @param keepGoing checked before each rerun: false stops them (e.g. once closed).
   */
  constructor(
    private readonly job: () => Promise<void>,
    private readonly keepGoing: () => boolean = () => true,
  ) {}

  /** True while a run is under way. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Runs the job now, or once more after the run under way. Settles when no rerun is left. */
  request(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
    return this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.job();
    } while (this.again && this.keepGoing());
  }
}
