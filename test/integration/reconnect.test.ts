import { expect } from 'chai';
import { TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { credentials } from '@grpc/grpc-js';
import { type AwaitResultResponse, TaskServiceClient, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { call, startTestServer, type TestServer } from '../helpers/server.js';

const USER = 'reconnector';
const TASKS = 100;
const STREAMS_PER_TASK = 10;
const TICKS = 10;
const expectedOutput = Array.from({ length: TICKS }, (_, i) => `tick ${i + 1}\n`).join('');

/** What one client saw of one task over all its connections. */
interface Seen {
  versions: number[];
  statuses: TaskStatus[];
  output: string;
  duplicateStates: number;
  reconnects: number;
}

/**
 * The promise of resumable streams, at scale: 1,000 AwaitResult streams over
 * 100 running tickers, each dropped after a few messages and resumed with the
 * last version and output offset it saw, until the terminal update. Every
 * stream must see every output byte once and in order, no state twice, and the
 * terminal state last.
 */
describe('1,000 streams dropped and resumed mid-task', function () {
  this.timeout(120_000);
  let server: TestServer;
  /**
   * Several connections: each drop is an RST_STREAM, and HTTP/2 servers (nghttp2's rapid-reset guard)
   * close a connection that resets over a thousand streams in a burst.
   */
  let clients: TaskServiceClient[];
  before(async () => {
    server = await startTestServer();
    clients = Array.from(
      { length: 20 },
      () =>
        new TaskServiceClient(server.address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
    );
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.close();
  });

  /** Opens the stream where the client left off and reads up to `count` messages (then drops it). */
  async function readSome(
    client: TaskServiceClient,
    taskId: string,
    seen: Seen,
    offset: number,
    count: number,
  ): Promise<boolean> {
    const lastVersion = seen.versions.at(-1);
    const stream = client.awaitResult(
      {
        taskId,
        userId: USER,
        heartbeatSeconds: 30,
        outputOffset: String(offset),
        ...(lastVersion !== undefined && { afterVersion: String(lastVersion) }),
      },
      { deadline: Date.now() + 60_000 },
    );
    let read = 0;
    try {
      for await (const raw of stream) {
        const message = raw as AwaitResultResponse;
        if (message.kind === UpdateKind.UPDATE_KIND_OUTPUT) {
          const at = Buffer.byteLength(seen.output);
          // A chunk that does not start where the client is would be a loss or a repeat.
          if (Number(message.output!.offset) !== at)
            throw new Error(`chunk at ${message.output!.offset}, expected ${at}`);
          seen.output += message.output!.text;
        } else {
          const version = Number(message.task!.version);
          if (lastVersion !== undefined && version <= (seen.versions.at(-1) ?? 0)) seen.duplicateStates++;
          seen.versions.push(version);
          seen.statuses.push(message.task!.status);
          if (message.kind === UpdateKind.UPDATE_KIND_TERMINAL) return true;
        }
        if (++read >= count) return false;
      }
      return false;
    } finally {
      stream.cancel();
    }
  }

  it('loses nothing and repeats nothing', async () => {
    const taskIds = await Promise.all(
      Array.from({ length: TASKS }, async () => {
        const res = await call(server.client.execute, server.client, {
          toolName: 'ticker',
          argumentsJson: JSON.stringify({ count: TICKS, interval_seconds: 0.15 }),
          timeoutSeconds: 0.01,
          userId: USER,
          channelId: '',
          platform: '',
          requestId: '',
        });
        return res.task!.taskId;
      }),
    );
    const follow = async (taskId: string, stream: number): Promise<Seen> => {
      const seen: Seen = { versions: [], statuses: [], output: '', duplicateStates: 0, reconnects: 0 };
      for (let attempt = 0; attempt < 200; attempt++) {
        // 1 to 3 messages per connection, differing per stream so drops land everywhere.
        const ended = await readSome(
          clients[stream % clients.length]!,
          taskId,
          seen,
          Buffer.byteLength(seen.output),
          1 + ((stream + attempt) % 3),
        );
        if (ended) return seen;
        seen.reconnects++;
      }
      throw new Error(`task ${taskId}: no terminal update after 200 connections`);
    };
    const all = await Promise.all(
      taskIds.flatMap((taskId) =>
        Array.from({ length: STREAMS_PER_TASK }, (_, i) => follow(taskId, i + taskIds.indexOf(taskId))),
      ),
    );
    expect(all).to.have.length(1000);
    const missingOutput = all.filter((s) => s.output !== expectedOutput).length;
    const duplicates = all.reduce((sum, s) => sum + s.duplicateStates, 0);
    const notEndedCompleted = all.filter((s) => s.statuses.at(-1) !== TaskStatus.TASK_STATUS_COMPLETED).length;
    const reconnects = all.reduce((sum, s) => sum + s.reconnects, 0);
    expect({ missingOutput, duplicates, notEndedCompleted }).to.deep.equal({
      missingOutput: 0,
      duplicates: 0,
      notEndedCompleted: 0,
    });
    // At least one drop per stream on average (1,600-3,000 here, by how fast the tickers run against the streams).
    expect(reconnects, 'the streams were really dropped mid-task').to.be.greaterThan(1000);
    for (const seen of all) {
      expect(seen.versions, 'versions only grow').to.deep.equal([...seen.versions].sort((a, b) => a - b));
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(server.app.store.listenerCount ?? 0, 'every stream released its subscription').to.equal(0);
  });
});
