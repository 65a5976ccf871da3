import { expect } from 'chai';
import { formatResult, TRUNCATION_MARKER, truncate } from '../../src/redirect/format.js';
import type { TaskRecord } from '../../src/core/task.js';

const markerLength = [...TRUNCATION_MARKER].length;

describe('redirect formatting', () => {
  it('leaves text that fits untouched', () => {
    expect(truncate('hello', 5)).to.deep.equal({ text: 'hello', truncated: false });
  });

  it('cuts to max_chars including a visible marker', () => {
    const { text, truncated } = truncate('a'.repeat(100), 30);
    expect(truncated).to.equal(true);
    expect([...text].length).to.equal(30);
    expect(text.endsWith(TRUNCATION_MARKER)).to.equal(true);
  });

  it('never splits an emoji (surrogate pairs or ZWJ sequences) or a CJK character', () => {
    const family = '👨‍👩‍👧'; // 5 code points, one grapheme
    for (const [input, limit] of [
      [`${'😀'.repeat(20)}`, markerLength + 3],
      [`${family.repeat(5)}`, markerLength + 7],
      ['漢字仮名交じり文'.repeat(5), markerLength + 4],
    ] as const) {
      const { text } = truncate(input, limit);
      const body = text.slice(0, -TRUNCATION_MARKER.length);
      expect([...text].length).to.be.at.most(limit);
      expect(input.startsWith(body)).to.equal(true);
      // Every kept grapheme is whole: re-segmenting the body yields only graphemes of the input.
      const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
      const inputGraphemes = new Set([...segmenter.segment(input)].map((s) => s.segment));
      for (const { segment } of segmenter.segment(body)) expect(inputGraphemes.has(segment)).to.equal(true);
    }
    expect(truncate(family.repeat(5), markerLength + 7).text).to.equal(family + TRUNCATION_MARKER);
  });

  it('formats a header line with tool, id and status, then the result or error', () => {
    const base = { taskId: 't1', toolName: 'sleep' } as TaskRecord;
    expect(formatResult({ ...base, status: 'completed', result: 'ok' })).to.equal('[sleep] task t1 completed:\nok');
    expect(formatResult({ ...base, status: 'failed', failureReason: 'cancelled', error: 'stop' })).to.equal(
      '[sleep] task t1 failed (cancelled):\nstop',
    );
  });
});
