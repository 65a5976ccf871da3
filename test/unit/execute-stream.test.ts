import { expect } from 'chai';
import { executeAndFollow, type StreamEvent } from '../../src/core/execute-stream.js';
import { TaskStatus } from '../../src/core/task.js';
import { Gate, makeManager, origin } from '../helpers/core.js';

describe('executeAndFollow (ExecuteStream)', () => {
  it('follows a backgrounded call from its created record, without reading the task back', async () => {
    const gate = new Gate();
    const h = makeManager([gate.tool()]);
    let reads = 0;
    const get = h.store.get.bind(h.store);
    h.store.get = (...args) => (reads++, get(...args));
    const events: StreamEvent[] = [];
    const call = { toolName: 'gate', argumentsJson: '', origin: origin(), budgetSeconds: 0.02 };
    for await (const event of executeAndFollow(h.manager, call, { signal: new AbortController().signal })) {
      events.push(event);
      // The progress comes before the follow opens: its first update, the snapshot, carries it.
      if (event.kind === 'answer') gate.contexts[0]!.progress(0.5, 'half');
      if (event.kind === 'snapshot') gate.release('result');
    }
    expect(events.map((e) => e.kind)).to.deep.equal(['answer', 'snapshot', 'terminal']);
    expect((events[1] as { task: { progress?: { message: string } } }).task.progress?.message).to.equal('half');
    expect((events.at(-1) as { task: { status: TaskStatus } }).task.status).to.equal(TaskStatus.Completed);
    expect(reads, 'store reads').to.equal(0);
    expect(h.store.listenerCount, 'the follow and its held place released').to.equal(0);
    await h.close();
  });

  it('hears a change made between the record and the follow (the tool settling at once)', async () => {
    const gate = new Gate();
    const h = makeManager([gate.tool()]);
    const call = { toolName: 'gate', argumentsJson: '', origin: origin(), budgetSeconds: 0.02 };
    const events: StreamEvent[] = [];
    for await (const event of executeAndFollow(h.manager, call, { signal: new AbortController().signal })) {
      events.push(event);
      if (event.kind === 'answer') {
        // Settled and stored before the follow starts: only the place held since the record was made heard it.
        gate.release('early');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    expect(events.map((e) => e.kind)).to.deep.equal(['answer', 'terminal']);
    expect((events.at(-1) as { task: { result?: string } }).task.result).to.equal('early');
    await h.close();
  });
});
