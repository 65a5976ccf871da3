import { expect } from 'chai';
import { TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { type AwaitResultResponse, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

const USER = 'resumer';

/** Task versions, and AwaitResult resumed with after_version (no state seen twice, none missed). */
describe('AwaitResult resumed after a version', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const background = async (seconds: number) => {
    const res = await call(server.client.execute, server.client, {
      toolName: 'sleep',
      argumentsJson: JSON.stringify({ seconds }),
      timeoutSeconds: 0.01,
      userId: USER,
      channelId: '',
      platform: '',
      requestId: '',
    });
    return res.task!;
  };
  /** The stream's messages, up to `count` of them (then it is cancelled), or all until it ends. */
  const read = async (taskId: string, afterVersion?: number, count = Infinity) => {
    const out: AwaitResultResponse[] = [];
    const stream = server.client.awaitResult(
      {
        taskId,
        userId: USER,
        heartbeatSeconds: 30,
        ...(afterVersion !== undefined && { afterVersion: String(afterVersion) }),
      },
      { deadline: Date.now() + 15_000 },
    );
    try {
      for await (const message of stream) {
        out.push(message as AwaitResultResponse);
        if (out.length >= count) break;
      }
    } finally {
      stream.cancel();
    }
    return out;
  };
  const version = (m: AwaitResultResponse) => Number(m.task!.version);

  it('carries a version in every message that grows with each change', async () => {
    const task = await background(1);
    expect(Number(task.version)).to.be.greaterThan(0);
    const messages = await read(task.taskId);
    const versions = messages.map(version);
    expect(versions).to.deep.equal([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size, 'no version twice').to.equal(versions.length);
    expect(messages.at(-1)!.task!.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
  });

  it('resumes without repeating the state it saw, and without missing the next one', async () => {
    const task = await background(1);
    const [first] = await read(task.taskId, undefined, 1);
    // Resumed at the version just seen: no snapshot; the first message is a newer state.
    const resumed = await read(task.taskId, version(first!));
    expect(resumed.length).to.be.greaterThan(0);
    expect(resumed.every((m) => version(m) > version(first!))).to.equal(true);
    expect(resumed[0]!.kind).to.not.equal(UpdateKind.UPDATE_KIND_SNAPSHOT);
    expect(resumed.at(-1)!.task!.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
  });

  it('sends the current state at once when it is newer than the version given', async () => {
    const task = await background(2);
    await new Promise((resolve) => setTimeout(resolve, 700)); // a few progress changes later
    const [now] = await read(task.taskId, Number(task.version), 1);
    expect(now!.kind).to.equal(UpdateKind.UPDATE_KIND_SNAPSHOT);
    expect(version(now!)).to.be.greaterThan(Number(task.version));
    await call(server.client.cancelTask, server.client, { taskId: task.taskId, userId: USER });
  });

  it('answers a finished task with its terminal update, whatever the version given', async () => {
    const task = await background(0.05);
    const all = await read(task.taskId);
    const terminal = all.at(-1)!;
    const again = await read(task.taskId, version(terminal));
    expect(again).to.have.length(1);
    expect(again[0]!.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
    expect(again[0]!.task!.version).to.equal(terminal.task!.version);
  });
});
