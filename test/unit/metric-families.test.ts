import { expect } from 'chai';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CounterFamily, GaugeFamily, HistogramFamily } from '../../src/metrics/families.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The same updates through prom-client's own metrics and through the families must scrape the same. */
describe('metric families', () => {
  it('scrape exactly as prom-client counters, gauges and histograms given the same updates', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const registers = [theirs];
    const counter = new Counter({ name: 'c_total', help: 'a counter', labelNames: ['tool', 'reason'], registers });
    const gauge = new Gauge({ name: 'g', help: 'a gauge', labelNames: ['tool'], registers });
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'a "histogram"\nof times',
      labelNames: ['method'],
      buckets: BUCKETS,
      registers,
    });
    const counters = new CounterFamily(ours, 'c_total', 'a counter', ['tool', 'reason']);
    const gauges = new GaugeFamily(ours, 'g', 'a gauge', ['tool']);
    const histograms = new HistogramFamily(ours, 'h_seconds', 'a "histogram"\nof times', ['method'], BUCKETS);

    for (const [tool, reason] of [
      ['echo', ''],
      ['echo', ''],
      ['sleep', 'hard_timeout'],
      ['we"ird\\tool', 'x'],
    ]) {
      counter.labels(tool!, reason!).inc();
      counters.inc([tool!, reason!]);
    }
    counter.labels('echo', '').inc(3);
    counters.inc(['echo', ''], 3);
    for (const [tool, by] of [
      ['echo', 1],
      ['echo', 1],
      ['sleep', 1],
      ['echo', -1],
    ] as const) {
      gauge.labels(tool).inc(by);
      gauges.add([tool], by);
    }
    // On a bound, between bounds, above the last, zero.
    for (const [method, seconds] of [
      ['Execute', 0.01],
      ['Execute', 0.0123],
      ['Execute', 7],
      ['ListTasks', 0],
      ['Execute', 0.0005],
    ] as const) {
      histogram.labels(method).observe(seconds);
      histograms.observe([method], seconds);
    }
    const scraped = await ours.metrics();
    expect(scraped).to.equal(await theirs.metrics());
    expect(scraped).to.contain('h_seconds_bucket{le="0.01",method="Execute"} 2');
    expect(scraped).to.contain('c_total{tool="echo",reason=""} 5');
  });

  it('forget every label set on reset', async () => {
    const registry = new Registry();
    const counters = new CounterFamily(registry, 'c_total', 'a counter', ['tool']);
    counters.inc(['echo']);
    registry.resetMetrics();
    expect(await registry.metrics()).to.not.contain('c_total{');
  });
});
