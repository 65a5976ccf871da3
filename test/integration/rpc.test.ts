import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import type { AwaitResultResponse, TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { status } from '@grpc/grpc-js';
import { eventually } from '../helpers/core.js';
import { call, expectCode, startTestServer, type TestServer, watchTask } from '../helpers/server.js';

describe('TaskService over gRPC', () => {
  let server: TestServer;
  let client: TaskServiceClient;
  before(async () => {
    server = await startTestServer();
    client = server.client;
  });
  after(() => server.close());

  const execute = (req: Partial<Parameters<TaskServiceClient['execute']>[0]>, deadlineMs?: number) =>
    call(
      client.execute,
      client,
      { toolName: '', argumentsJson: '', userId: '', channelId: '', platform: '', requestId: '', ...req },
      deadlineMs,
    );
  const awaitAll = async (taskId: string, userId = '', extra = {}) => {
    const out: AwaitResultResponse[] = [];
    const stream = client.awaitResult({ taskId, userId, ...extra }, { deadline: Date.now() + 15_000 });
    for await (const msg of stream) out.push(msg as AwaitResultResponse);
    return out;
  };

  it('Execute answers a fast tool inline with its result', async () => {
    const res = await execute({ toolName: 'echo', argumentsJson: '{"text":"héllo 👋"}', userId: 'u1' });
    expect(res.backgrounded).to.equal(false);
    expect(res.text).to.equal('héllo 👋');
    expect(res.task?.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
    expect(res.task?.result).to.equal('héllo 👋');
    expect(res.task?.taskId, 'nothing was stored, so no id to look up').to.equal('');
  });

  it('Execute answers a failing tool inline with FAILED / TOOL_ERROR, and the call itself succeeds', async () => {
    const res = await execute({ toolName: 'fail', argumentsJson: '{"message":"nope"}' });
    expect(res.task?.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
    expect(res.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_TOOL_ERROR);
    expect(res.text).to.equal('Error: nope');
  });

  it('Execute backgrounds a slow tool after about the budget, and AwaitResult streams it to COMPLETED', async () => {
    const started = Date.now();
    const res = await execute({
      toolName: 'sleep',
      argumentsJson: '{"seconds":1.2}',
      timeoutSeconds: 0.4,
      userId: 'u2',
    });
    // Not before the budget; and backgrounded, so the server did not wait for the 1.2 s tool. No tighter
    // upper bound: a loaded machine stretches the round trip, not the server's decision.
    expect(Date.now() - started).to.be.at.least(350);
    expect(res.backgrounded).to.equal(true);
    const envelope = JSON.parse(res.text);
    expect(envelope).to.include({ task_id: res.task!.taskId, status: 'running', tool_name: 'sleep' });

    const updates = await awaitAll(res.task!.taskId, 'u2');
    expect(updates[0].kind).to.equal(UpdateKind.UPDATE_KIND_SNAPSHOT);
    expect(updates.map((u) => Number(u.sequence))).to.deep.equal(updates.map((_, i) => i + 1));
    expect(updates.slice(1, -1).every((u) => u.kind === UpdateKind.UPDATE_KIND_PROGRESS)).to.equal(true);
    const last = updates.at(-1)!;
    expect(last.kind).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
    expect(last.task?.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
    expect(last.text).to.equal('slept 1.2 s');
    expect(last.task?.finishedAt).to.be.instanceOf(Date);
  });

  it('AwaitResult ends OK with wait_timed_out when the wait limit passes first', async () => {
    const res = await execute({ toolName: 'sleep', argumentsJson: '{"seconds":5}', timeoutSeconds: 0.05 });
    const updates = await awaitAll(res.task!.taskId, '', { timeoutSeconds: 0.3, heartbeatSeconds: 10 });
    const last = updates.at(-1)!;
    expect(last.waitTimedOut).to.equal(true);
    expect(last.kind).to.equal(UpdateKind.UPDATE_KIND_WAIT_TIMED_OUT);
    expect(last.task?.status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
    await call(client.cancelTask, client, { taskId: res.task!.taskId, userId: '' });
  });

  it('GetResult gives the result when completed and a JSON status while running or failed', async () => {
    const res = await execute({
      toolName: 'sleep',
      argumentsJson: '{"seconds":0.5}',
      timeoutSeconds: 0.05,
      userId: 'u3',
    });
    const running = await call(client.getResult, client, { taskId: res.task!.taskId, userId: 'u3' });
    expect(JSON.parse(running.text)).to.include({ task_id: res.task!.taskId, status: 'running', tool_name: 'sleep' });
    await awaitAll(res.task!.taskId);
    const done = await call(client.getResult, client, { taskId: res.task!.taskId, userId: 'u3' });
    expect(done.text).to.equal('slept 0.5 s');

    const bg = await execute({ toolName: 'sleep', argumentsJson: '{"seconds":5}', timeoutSeconds: 0.05 });
    await call(client.cancelTask, client, { taskId: bg.task!.taskId, userId: '' });
    const failed = await call(client.getResult, client, { taskId: bg.task!.taskId, userId: '' });
    expect(JSON.parse(failed.text)).to.include({
      status: 'failed',
      failure_reason: 'cancelled',
      error: 'cancelled by request',
    });
  });

  it('CancelTask stops a running task and every AwaitResult stream sees the terminal state', async () => {
    const res = await execute({
      toolName: 'sleep',
      argumentsJson: '{"seconds":30}',
      timeoutSeconds: 0.05,
      userId: 'u4',
    });
    const watchers = [watchTask(client, res.task!.taskId, 'u4'), watchTask(client, res.task!.taskId)];
    // Both streams have their RUNNING snapshot, so they hear of the cancel as it happens.
    await eventually(() => watchers.every((w) => w.started));
    const cancelled = await call(client.cancelTask, client, { taskId: res.task!.taskId, userId: 'u4' });
    expect(cancelled.task?.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
    expect(cancelled.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    for (const updates of await Promise.all(watchers.map((w) => w.done))) {
      expect(updates[0].task?.status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
      expect(updates.at(-1)!.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    }
    // The stopped tool's own outcome is written (and refused: the task already ended) just after the streams hear
    // of the cancel.
    await eventually(() => server.app.manager.runningHere === 0);
  });

  it("ListTasks pages a user's tasks newest first with a JSON summary", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await execute({
        toolName: 'sleep',
        argumentsJson: '{"seconds":30}',
        timeoutSeconds: 0.01,
        userId: 'lister',
      });
      ids.unshift(res.task!.taskId);
    }
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await call(client.listTasks, client, {
        userId: 'lister',
        status: 0,
        toolName: '',
        pageSize: 2,
        pageToken,
      });
      expect(page.tasks.length).to.be.at.most(2);
      const summary = JSON.parse(page.text);
      expect(summary.map((s: { task_id: string }) => s.task_id)).to.deep.equal(page.tasks.map((t) => t.taskId));
      expect(summary[0]).to.have.keys('task_id', 'tool_name', 'status', 'created_at');
      seen.push(...page.tasks.map((t) => t.taskId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).to.deep.equal(ids);
    await call(client.cancelTask, client, { taskId: ids[0], userId: 'lister' });
    const running = await call(client.listTasks, client, {
      userId: 'lister',
      status: TaskStatus.TASK_STATUS_RUNNING,
      toolName: 'sleep',
      pageSize: 0,
      pageToken: '',
    });
    expect(running.tasks.map((t) => t.taskId)).to.deep.equal(ids.slice(1));
    for (const id of ids.slice(1)) await call(client.cancelTask, client, { taskId: id, userId: '' });
  });

  it('ListTools shows every tool with its schema, limits and source', async () => {
    const { tools } = await call(client.listTools, client, {});
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()]).to.include.members([
      'echo',
      'sleep',
      'fail',
      'check_task',
      'cancel_task',
      'redirect_task',
    ]);
    expect(JSON.parse(byName.get('sleep')!.parametersJsonSchema).required).to.deep.equal(['seconds']);
    expect(byName.get('sleep')!.defaultTimeoutSeconds).to.equal(10);
    expect(byName.get('sleep')!.source).to.equal('example');
    expect(byName.get('check_task')).to.include({ noBackground: true, source: 'meta' });
  });

  it('GetServerInfo names the release (the VERSION file) and the API package it serves', async () => {
    const info = await call(client.getServerInfo, client, {});
    const release = readFileSync(new URL('../../VERSION', import.meta.url), 'utf8').trim();
    expect(info).to.deep.equal({ version: release, apiPackages: ['taskmanager.v1'] });
  });

  it("routes the model's meta-tools through Execute: check_task, cancel_task", async () => {
    const res = await execute({
      toolName: 'sleep',
      argumentsJson: '{"seconds":30}',
      timeoutSeconds: 0.01,
      userId: 'model-user',
    });
    const id = res.task!.taskId;
    const check = await execute({
      toolName: 'check_task',
      argumentsJson: JSON.stringify({ task_id: id }),
      userId: 'model-user',
    });
    expect(check.backgrounded).to.equal(false);
    expect(JSON.parse(check.text)).to.include({ task_id: id, status: 'running' });
    const stranger = await execute({
      toolName: 'check_task',
      argumentsJson: JSON.stringify({ task_id: id }),
      userId: 'someone-else',
    });
    expect(stranger.text).to.equal(`Error: task ${id} not found`);
    const cancel = await execute({
      toolName: 'cancel_task',
      argumentsJson: JSON.stringify({ task_id: id }),
      userId: 'model-user',
    });
    expect(JSON.parse(cancel.text)).to.include({ task_id: id, status: 'failed', failure_reason: 'cancelled' });
  });

  it("returns the envelope before the caller's gRPC deadline even when the budget is longer", async () => {
    // The 700 ms deadline is the bound: grpc-js fails the call with DEADLINE_EXCEEDED once it passes,
    // so an answer at all is an answer in time.
    const res = await execute({ toolName: 'sleep', argumentsJson: '{"seconds":30}', timeoutSeconds: 20 }, 700);
    expect(res.backgrounded).to.equal(true);
    await call(client.cancelTask, client, { taskId: res.task!.taskId, userId: '' });
  });

  it("stores the outcome of a background task that finishes long after its caller's deadline", async () => {
    const res = await execute(
      { toolName: 'sleep', argumentsJson: '{"seconds":0.8}', timeoutSeconds: 0.05, requestId: `late-${Date.now()}` },
      300,
    );
    expect(res.backgrounded).to.equal(true);
    const result = () => call(client.getResult, client, { taskId: res.task!.taskId, userId: '' });
    await eventually(async () => (await result()).task?.status !== TaskStatus.TASK_STATUS_RUNNING);
    const done = await result();
    expect(done.task?.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
    expect(done.text).to.equal('slept 0.8 s');
  });

  it('answers a retried Execute with the same request_id from the first run', async () => {
    const req = {
      toolName: 'sleep',
      argumentsJson: '{"seconds":0.3}',
      timeoutSeconds: 0.05,
      userId: 'retry',
      requestId: 'rq-1',
    };
    const first = await execute(req);
    const second = await execute({ ...req, timeoutSeconds: 2 });
    expect(second.task!.taskId).to.equal(first.task!.taskId);
    expect(second.backgrounded).to.equal(false);
    expect(second.text).to.equal('slept 0.3 s');
  });

  it(
    'refuses a request_id reused for another tool (FAILED_PRECONDITION), ' + 'instead of answering with the other task',
    async () => {
      const requestId = `rq-reuse-${Date.now()}`;
      await execute({ toolName: 'echo', argumentsJson: '{"text":"a"}', userId: 'reuse', requestId });
      const err = await expectCode(
        execute({ toolName: 'sleep', argumentsJson: '{"seconds":0.01}', userId: 'reuse', requestId }),
        status.FAILED_PRECONDITION,
      );
      expect(err.details).to.include(`request_id "${requestId}" was already used for tool "echo"`);
    },
  );
});
