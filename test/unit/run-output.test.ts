import { expect } from 'chai';
import { silentLogger } from '../../src/core/logger.js';
import { outputMarker, RunOutput } from '../../src/core/run-output.js';
import { StoreUnavailable } from '../../src/core/errors.js';
import { SerialWriter } from '../../src/core/serial-writer.js';
import { utf8Prefix } from '../../src/core/truncate.js';

describe('RunOutput', () => {
  it('gives each piece its byte offset and keeps what came before the record exists, once', () => {
    const output = new RunOutput(1024);
    expect(output.write('ab')).to.deep.equal({ offset: 0, text: 'ab', truncated: false });
    expect(output.write('')).to.equal(undefined);
    expect(output.write('€')).to.deep.equal({ offset: 2, text: '€', truncated: false });
    expect(output.takeEarly()).to.deep.equal({ offset: 0, text: 'ab€', truncated: false });
    expect(output.write('c')).to.deep.equal({ offset: 5, text: 'c', truncated: false });
    expect(output.takeEarly(), 'taken once; later pieces are not kept').to.equal(undefined);
  });

  it('cuts at the limit on a character boundary, ends with the marker, and drops everything after', () => {
    const max = 200;
    const marker = outputMarker(max);
    const room = max - Buffer.byteLength(marker);
    const output = new RunOutput(max);
    expect(output.write('x'.repeat(room - 1))!.truncated).to.equal(false);
    // The emoji (4 bytes) does not fit in the one byte left: it is dropped whole, not split.
    const last = output.write('😀tail')!;
    expect(last).to.deep.equal({ offset: room - 1, text: marker, truncated: true });
    expect(output.write('more')).to.equal(undefined);
    const all = output.takeEarly()!;
    expect(Buffer.byteLength(all.text)).to.be.at.most(max);
    expect(all.text.endsWith(marker)).to.equal(true);
  });
});

describe('utf8Prefix', () => {
  it('never ends inside a character', () => {
    const bytes = Buffer.from('a€😀');
    expect(utf8Prefix(bytes, 100).toString()).to.equal('a€😀');
    expect(utf8Prefix(bytes, 3).toString()).to.equal('a');
    expect(utf8Prefix(bytes, 4).toString()).to.equal('a€');
    expect(utf8Prefix(bytes, 7).toString()).to.equal('a€');
    expect(utf8Prefix(bytes, 0).length).to.equal(0);
  });
});

describe('SerialWriter', () => {
  it('keeps one write in flight per task, merges what waits, and tells when all is written', async () => {
    const writes: string[] = [];
    let release: (() => void) | undefined;
    const writer = new SerialWriter<string>(
      'test',
      async (taskId, value) => {
        writes.push(`${taskId}:${value}`);
        await new Promise<void>((resolve) => (release = resolve));
      },
      (a, b) => a + b,
      silentLogger,
    );
    writer.push('t', 'a');
    writer.push('t', 'b');
    writer.push('t', 'c');
    const flushed = writer.flushed('t');
    let done = false;
    void flushed.then(() => (done = true));
    expect(writes).to.deep.equal(['t:a']);
    release!();
    await new Promise((r) => setImmediate(r));
    expect(writes).to.deep.equal(['t:a', 't:bc']);
    expect(done).to.equal(false);
    release!();
    await flushed;
    expect(done).to.equal(true);
    writer.push('t', 'd');
    expect(writes, 'a fresh write starts at once once the lane is idle').to.deep.equal(['t:a', 't:bc', 't:d']);
    release!();
    await writer.flushed('t');
  });

  it('goes on after a failed write', async () => {
    const writes: string[] = [];
    const writer = new SerialWriter<string>(
      'test',
      async (_id, value) => {
        writes.push(value);
        if (value === 'a') throw new Error('boom');
      },
      (_a, b) => b,
      silentLogger,
    );
    writer.push('t', 'a');
    writer.push('t', 'b');
    await writer.flushed('t');
    expect(writes).to.deep.equal(['a', 'b']);
  });

  it('with a retry policy, writes again what the store could not take, joined with what came meanwhile', async () => {
    const attempts: string[] = [];
    let failuresLeft = 2;
    const writer = new SerialWriter<string>(
      'test',
      async (_id, value) => {
        attempts.push(value);
        if (failuresLeft-- > 0) throw new StoreUnavailable(new Error('down'));
      },
      (a, b) => a + b,
      silentLogger,
      { attempts: 5, delayMs: 5 },
    );
    writer.push('t', 'a');
    writer.push('t', 'b');
    await writer.flushed('t');
    expect(attempts).to.deep.equal(['a', 'ab', 'ab']);
  });
});
