import { attempt } from '../../core/attempt.js';

/**
 * Requests that arrive in the same turn of the event loop, sent together:
 * one call per key with every item queued under it, each item answered with
 * its own result. The command connection's auto-pipelining holds a command
 * until the same point (setImmediate), so an item waits no longer than its
 * command would have; what it saves is a script run, a reply and the
 * client's per-command work for every item but the first.
 */
export class Batches<Item, Result> {
  private queued = new Map<string, { item: Item; resolve: (r: Result) => void; reject: (e: unknown) => void }[]>();
  private scheduled = false;

  constructor(
    /** Sends the items of one key; resolves with one result per item, in order. */
    private readonly send: (key: string, items: Item[]) => Promise<Result[]>,
  ) {}

  add(key: string, item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      let list = this.queued.get(key);
      if (!list) this.queued.set(key, (list = []));
      list.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const queued = this.queued;
    this.queued = new Map();
    this.scheduled = false;
    for (const [key, entries] of queued) {
      attempt(() =>
        this.send(
          key,
          entries.map((e) => e.item),
        ),
      ).then(
        (results) => {
          if (results.length !== entries.length) {
            const err = new Error(`a batch of ${entries.length} got ${results.length} results`);
            entries.forEach((e) => e.reject(err));
          } else entries.forEach((e, i) => e.resolve(results[i]!));
        },
        (err: unknown) => entries.forEach((e) => e.reject(err)),
      );
    }
  }
}

/** The earliest of the items' deadlines (epoch ms), or none when one of them has none. */
export function earliestDeadline(items: readonly { deadline?: number }[]): number | undefined {
  let earliest = Infinity;
  for (const { deadline } of items) {
    if (deadline === undefined) return undefined;
    earliest = Math.min(earliest, deadline);
  }
  return earliest;
}
