import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { FailureReason, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import { type ExecuteRequest, UpdateKind } from '../../gen/ts/taskmanager/v1/task_service.js';
import { defineTool } from '../../src/tools/define.js';
import { call, expectCode, startTestServer, type TestServer, watchTask } from '../helpers/server.js';

const USER = 'asker';

/** Asks with a short input timeout, so that the timeout can be seen in a test. */
const impatient = defineTool<Record<string, never>>({
  name: 'impatient',
  description: 'Asks for a number, waits 0.3 s for it',
  parameters: { type: 'object' },
  inputTimeout: 0.3,
  async handler(_, ctx) {
    const { n } = await ctx.requestInput({
      message: 'A number?',
      schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
    });
    return `got ${String(n)}`;
  },
});

/** Runs a little first, then asks: a watcher sees the task enter INPUT_REQUIRED. */
const laterAsker = defineTool<Record<string, never>>({
  name: 'later_asker',
  description: 'Waits 0.3 s, then asks to continue',
  parameters: { type: 'object' },
  async handler(_, ctx) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { ok } = await ctx.requestInput({
      message: 'Continue?',
      schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
    });
    return `ok: ${String(ok)}`;
  },
});

/**
 * Human in the loop: a tool asks a question (the example tool `ask`), the
 * task waits in INPUT_REQUIRED, and ProvideInput (or the provide_input
 * meta-tool) answers it, once, checked against the question's schema.
 */
describe('input-required: a tool asks, ProvideInput answers', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({}, { tools: [impatient, laterAsker] });
  });
  after(() => server.close());

  const execute = (req: Partial<ExecuteRequest>) =>
    call(server.client.execute, server.client, {
      toolName: '',
      argumentsJson: '',
      userId: USER,
      channelId: '',
      platform: '',
      requestId: '',
      ...req,
    });
  const provide = (taskId: string, inputRequestId: string, responseJson: string, userId = USER) =>
    call(server.client.provideInput, server.client, { taskId, userId, inputRequestId, responseJson });
  const getResult = (taskId: string) => call(server.client.getResult, server.client, { taskId, userId: USER });
  /** An `ask` call: backgrounded at once with its question. */
  const asked = async (question = 'Deploy now?', extra: Partial<ExecuteRequest> = {}) => {
    const started = Date.now();
    const res = await execute({
      toolName: 'ask',
      argumentsJson: JSON.stringify({ question }),
      timeoutSeconds: 10,
      ...extra,
    });
    expect(res.backgrounded).to.equal(true);
    expect(Date.now() - started, 'backgrounded at the question, not at the 10 s budget').to.be.below(5000);
    return res;
  };

  it('backgrounds an inline call at its question; the envelope and GetResult carry the question', async () => {
    const res = await asked();
    expect(res.task?.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    const envelope = JSON.parse(res.text);
    expect(envelope).to.include({
      task_id: res.task!.taskId,
      status: 'input_required',
      tool_name: 'ask',
      question: 'Deploy now?',
      input_request_id: res.task!.inputRequest!.id,
    });
    expect(envelope.answer_schema.required).to.deep.equal(['answer']);
    expect(envelope.message).to.contain('provide_input');
    const { task, text } = await getResult(res.task!.taskId);
    expect(task?.inputRequest).to.include({ message: 'Deploy now?', id: res.task!.inputRequest!.id });
    expect(JSON.parse(task!.inputRequest!.schemaJson).properties.answer.type).to.equal('string');
    expect(task?.inputRequest?.requestedAt).to.be.instanceOf(Date);
    expect(JSON.parse(text).status).to.equal('input_required');
  });

  it('resumes the tool with the answer; AwaitResult marks status changes in between UPDATE_KIND_INPUT', async () => {
    const res = await asked('Which region?');
    const taskId = res.task!.taskId;
    const watch = watchTask(server.client, taskId, USER);
    const answered = await provide(taskId, res.task!.inputRequest!.id, '{"answer":"eu-west-1"}');
    expect(answered.task?.status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
    expect(answered.task?.inputRequest).to.equal(undefined);
    const updates = await watch.done;
    const last = updates.at(-1)!;
    expect(last.task?.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
    expect(last.text).to.equal('answer: eu-west-1');
    expect(updates[0]!.task?.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    // Left INPUT_REQUIRED: an update of its own (unless the tool finished before the stream saw it running).
    const kinds = updates.map((u) => u.kind);
    expect(kinds[0]).to.equal(UpdateKind.UPDATE_KIND_SNAPSHOT);
    expect(kinds.at(-1)).to.equal(UpdateKind.UPDATE_KIND_TERMINAL);
    expect(kinds.slice(1, -1).every((k) => k === UpdateKind.UPDATE_KIND_INPUT)).to.equal(true);
  });

  it('sends UPDATE_KIND_INPUT when a watched running task enters INPUT_REQUIRED', async () => {
    const res = await execute({ toolName: 'later_asker', argumentsJson: '{}', timeoutSeconds: 0.05 });
    expect(res.task?.status).to.equal(TaskStatus.TASK_STATUS_RUNNING);
    const watch = watchTask(server.client, res.task!.taskId, USER);
    let entered;
    while (!(entered = watch.updates.find((u) => u.kind === UpdateKind.UPDATE_KIND_INPUT))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(entered.task?.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    expect(entered.task?.inputRequest?.message).to.equal('Continue?');
    await provide(res.task!.taskId, entered.task!.inputRequest!.id, '{"ok":true}');
    const updates = await watch.done;
    expect(updates.at(-1)!.text).to.equal('ok: true');
  });

  it('refuses an answer that does not match the schema, naming the field, and keeps waiting', async () => {
    const res = await asked();
    const { taskId, inputRequest } = res.task!;
    const missing = await expectCode(provide(taskId, inputRequest!.id, '{"reply":"yes"}'), status.INVALID_ARGUMENT);
    expect(missing.details).to.contain('response_json').and.contain('"answer" is required');
    const wrongType = await expectCode(provide(taskId, inputRequest!.id, '{"answer":42}'), status.INVALID_ARGUMENT);
    expect(wrongType.details).to.contain('field "answer" must be string');
    const notJson = await expectCode(provide(taskId, inputRequest!.id, 'yes'), status.INVALID_ARGUMENT);
    expect(notJson.details).to.contain('response_json');
    expect((await getResult(taskId)).task?.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    await call(server.client.cancelTask, server.client, { taskId, userId: USER });
  });

  it("answers another user's task NOT_FOUND, a stale or answered question FAILED_PRECONDITION", async () => {
    const res = await asked();
    const { taskId, inputRequest } = res.task!;
    await expectCode(provide(taskId, inputRequest!.id, '{"answer":"x"}', 'someone-else'), status.NOT_FOUND);
    const stale = await expectCode(provide(taskId, 'input-99', '{"answer":"x"}'), status.FAILED_PRECONDITION);
    expect(stale.details).to.contain(`the open one is "${inputRequest!.id}"`);
    await provide(taskId, inputRequest!.id, '{"answer":"x"}');
    await expectCode(provide(taskId, inputRequest!.id, '{"answer":"x"}'), status.FAILED_PRECONDITION);
    await expectCode(provide(taskId, '', '{"answer":"x"}'), status.INVALID_ARGUMENT);
  });

  it('takes exactly one of two concurrent answers', async () => {
    const res = await asked();
    const { taskId, inputRequest } = res.task!;
    const results = await Promise.allSettled([
      provide(taskId, inputRequest!.id, '{"answer":"first"}'),
      provide(taskId, inputRequest!.id, '{"answer":"second"}'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.code).to.equal(status.FAILED_PRECONDITION);
    const last = (await watchTask(server.client, taskId, USER).done).at(-1)!;
    expect(['answer: first', 'answer: second']).to.include(last.text);
  });

  it('cancels a waiting task; its question can no longer be answered', async () => {
    const res = await asked();
    const { taskId, inputRequest } = res.task!;
    const cancelled = await call(server.client.cancelTask, server.client, { taskId, userId: USER });
    expect(cancelled.task?.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
    expect(cancelled.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_CANCELLED);
    expect(cancelled.task?.inputRequest).to.equal(undefined);
    await expectCode(provide(taskId, inputRequest!.id, '{"answer":"x"}'), status.FAILED_PRECONDITION);
  });

  it("fails the task INPUT_TIMEOUT when no answer comes within the tool's input timeout", async () => {
    const res = await execute({ toolName: 'impatient', argumentsJson: '{}', timeoutSeconds: 10 });
    expect(res.task?.status).to.equal(TaskStatus.TASK_STATUS_INPUT_REQUIRED);
    const last = (await watchTask(server.client, res.task!.taskId, USER).done).at(-1)!;
    expect(last.task?.status).to.equal(TaskStatus.TASK_STATUS_FAILED);
    expect(last.task?.failureReason).to.equal(FailureReason.FAILURE_REASON_INPUT_TIMEOUT);
    expect(last.task?.error).to.contain('input timeout of 0.3 s');
  });

  it('answers through the provide_input meta-tool, as an inference loop would', async () => {
    const res = await asked('Name?');
    const { taskId, inputRequest } = res.task!;
    const viaTool = await execute({
      toolName: 'provide_input',
      argumentsJson: JSON.stringify({ task_id: taskId, input_request_id: inputRequest!.id, answer: { answer: 'Ada' } }),
    });
    expect(viaTool.task?.status).to.equal(TaskStatus.TASK_STATUS_COMPLETED);
    expect(JSON.parse(viaTool.text)).to.include({ task_id: taskId, status: 'running' });
    const last = (await watchTask(server.client, taskId, USER).done).at(-1)!;
    expect(last.text).to.equal('answer: Ada');
  });

  it('lists waiting tasks with the INPUT_REQUIRED status filter', async () => {
    const res = await asked('Listed?');
    const { tasks } = await call(server.client.listTasks, server.client, {
      userId: USER,
      status: TaskStatus.TASK_STATUS_INPUT_REQUIRED,
      toolName: '',
      pageSize: 50,
      pageToken: '',
    });
    expect(tasks.map((t) => t.taskId)).to.include(res.task!.taskId);
    expect(tasks.every((t) => t.status === TaskStatus.TASK_STATUS_INPUT_REQUIRED)).to.equal(true);
    await call(server.client.cancelTask, server.client, { taskId: res.task!.taskId, userId: USER });
  });
});
