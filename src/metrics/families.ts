import type { Registry } from 'prom-client';

/**
 * Counters, gauges and histograms for the per-call path, registered in a
 * prom-client Registry like its own metrics. A prom-client child hashes its
 * label values on every inc() and observe(), and each call touches four
 * metrics: in the 64-in-flight profile that was about 7% of the server's busy
 * time. Here a label set's cell is found with one map lookup per label (no key
 * string is built: joining the values was the largest cost left) and counted
 * with plain arithmetic; the text is only made when Prometheus scrapes.
 *
 * The registry reads a metric through `get()` (name, help, type and values,
 * as prom-client's own metrics return them) and clears it with `reset()`.
 */

type Labels = Record<string, string | number>;

interface Sample {
  labels: Labels;
  value: number;
  /** For histogram series: name_bucket, name_sum, name_count. */
  metricName?: string;
}

abstract class Family<Cell> {
  readonly aggregator = 'sum';
  /** Every label set's cell, in the order first seen. */
  private readonly cells: { labels: Labels; cell: Cell }[] = [];
  /** Label value -> (next label's value -> ...) -> the cell: a tree of maps, one level per label. */
  private readonly index = new Map<string, unknown>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The cell of these label values (in labelNames order), made on first use. */
  protected cellOf(values: readonly string[]): Cell {
    const last = this.labelNames.length - 1;
    if (last < 0) return (this.cells[0] ??= { labels: {}, cell: this.newCell() }).cell;
    let level = this.index;
    for (let i = 0; i < last; i++) {
      const value = values[i] ?? '';
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (!next) level.set(value, (next = new Map()));
      level = next;
    }
    const value = values[last] ?? '';
    let found = level.get(value) as Cell | undefined;
    if (!found) {
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      found = this.newCell();
      this.cells.push({ labels, cell: found });
      level.set(value, found);
    }
    return found;
  }

  protected abstract newCell(): Cell;

  /** The cells whose labels `match`: for a total of some label sets (the console's charts). */
  protected cellsWhere(match: (labels: Labels) => boolean): Cell[] {
    return this.cells.filter(({ labels }) => match(labels)).map(({ cell }) => cell);
  }

  protected abstract samples(labels: Labels, cell: Cell): Sample[];

  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values = this.cells.flatMap(({ labels, cell }) => this.samples(labels, cell));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.cells.length = 0;
    this.index.clear();
  }
}

/** One number per label set: what counters and gauges share. */
abstract class ValueFamily extends Family<{ value: number }> {
  add(values: readonly string[], by: number): void {
    this.cellOf(values).value += by;
  }

  /** The sum over every label set. */
  total(): number {
    return this.cellsWhere(() => true).reduce((sum, cell) => sum + cell.value, 0);
  }

  protected newCell() {
    return { value: 0 };
  }

  protected samples(labels: Labels, cell: { value: number }): Sample[] {
    return [{ labels, value: cell.value }];
  }
}

export class CounterFamily extends ValueFamily {
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    super(name, help, 'counter', labelNames, registry);
  }

  inc(values: readonly string[], by = 1): void {
    this.add(values, by);
  }
}

export class GaugeFamily extends ValueFamily {
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    super(name, help, 'gauge', labelNames, registry);
  }
}

interface HistogramCell {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/** Histogram cells merged: the bucket bounds, counts per bucket (the last +Inf), sum and count. */
export interface MergedHistogram {
  bounds: readonly number[];
  counts: number[];
  sum: number;
  count: number;
}

export class HistogramFamily extends Family<HistogramCell> {
  constructor(
    registry: Registry,
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram', labelNames, registry);
  }

  observe(values: readonly string[], value: number): void {
    const cell = this.cellOf(values);
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    cell.counts[i]!++;
    cell.sum += value;
    cell.count++;
  }

  /** The label sets that `match`, merged into one histogram. */
  merged(match: (labels: Labels) => boolean): MergedHistogram {
    const counts = new Array<number>(this.buckets.length + 1).fill(0);
    let sum = 0;
    let count = 0;
    for (const cell of this.cellsWhere(match)) {
      cell.counts.forEach((n, i) => (counts[i]! += n));
      sum += cell.sum;
      count += cell.count;
    }
    return { bounds: this.buckets, counts, sum, count };
  }

  protected newCell(): HistogramCell {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  protected samples(labels: Labels, cell: HistogramCell): Sample[] {
    const samples: Sample[] = [];
    let cumulative = 0;
    const bucket = `${this.name}_bucket`;
    this.buckets.forEach((le, i) => {
      cumulative += cell.counts[i]!;
      samples.push({ labels: { le, ...labels }, value: cumulative, metricName: bucket });
    });
    samples.push({ labels: { le: '+Inf', ...labels }, value: cell.count, metricName: bucket });
    samples.push({ labels, value: cell.sum, metricName: `${this.name}_sum` });
    samples.push({ labels, value: cell.count, metricName: `${this.name}_count` });
    return samples;
  }
}
