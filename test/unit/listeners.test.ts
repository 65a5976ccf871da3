import { expect } from 'chai';
import { TaskListeners } from '../../src/store/listeners.js';
import { TaskStatus, type TaskRecord } from '../../src/core/task.js';

const task = { taskId: 't1', status: TaskStatus.Running, version: 1 } as TaskRecord;

describe('TaskListeners', () => {
  it('tells one listener, then several, in the order they came, and counts them', () => {
    const listeners = new TaskListeners();
    const heard: string[] = [];
    listeners.add('t1', () => heard.push('a'));
    listeners.notify('t1', task);
    const offB = listeners.add('t1', () => heard.push('b'));
    listeners.add('t2', () => heard.push('other'));
    listeners.notify('t1', task);
    expect(heard).to.deep.equal(['a', 'a', 'b']);
    expect(listeners.size).to.equal(3);
    expect(listeners.taskIds()).to.have.members(['t1', 't2']);
    offB();
    listeners.notify('t1', task);
    expect(heard).to.deep.equal(['a', 'a', 'b', 'a']);
  });

  it('removes a listener once, however often its remover is called, even when the same function listens twice', () => {
    const listeners = new TaskListeners();
    let calls = 0;
    const listener = () => calls++;
    const first = listeners.add('t1', listener);
    listeners.add('t1', listener);
    first();
    first();
    listeners.notify('t1', task);
    expect(calls).to.equal(1);
    expect(listeners.size).to.equal(1);
  });

  it('forgets a task when its last listener leaves', () => {
    const listeners = new TaskListeners();
    const offA = listeners.add('t1', () => {});
    const offB = listeners.add('t1', () => {});
    offA();
    offB();
    expect(listeners.has('t1')).to.equal(false);
    expect(listeners.size).to.equal(0);
  });

  it('gives each listener its own copy when asked, and null as it is', () => {
    const listeners = new TaskListeners();
    const seen: (TaskRecord | null)[] = [];
    listeners.add('t1', (t) => seen.push(t));
    listeners.add('t1', (t) => seen.push(t));
    listeners.notify('t1', task, (t) => ({ ...t }));
    expect(seen[0]).to.deep.equal(task);
    expect(seen[0]).to.not.equal(task);
    expect(seen[0]).to.not.equal(seen[1]);
    listeners.notify('t1', null, (t) => ({ ...t }));
    expect(seen.slice(2)).to.deep.equal([null, null]);
  });

  it('tells the listeners of the moment: one added or removed while telling waits for the next change', () => {
    const listeners = new TaskListeners();
    const heard: string[] = [];
    let offB: () => void = () => {};
    listeners.add('t1', () => {
      heard.push('a');
      offB();
      listeners.add('t1', () => heard.push('late'));
    });
    offB = listeners.add('t1', () => heard.push('b'));
    listeners.notify('t1', task);
    expect(heard).to.deep.equal(['a', 'b']);
  });
});
