/**
 * How many of something each key holds (running tools per user, streams per
 * connection, invocations per tool). Keys at zero are dropped, so the map
 * never outgrows what is actually held.
 */
export class CountsByKey<K> {
  private readonly counts = new Map<K, number>();
  private sum = 0;

  get(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  get total(): number {
    return this.sum;
  }

  add(key: K): void {
    this.counts.set(key, this.get(key) + 1);
    this.sum++;
  }

  remove(key: K): void {
    const left = this.get(key) - 1;
    if (left < 0) return;
    if (left === 0) this.counts.delete(key);
    else this.counts.set(key, left);
    this.sum--;
  }
}
