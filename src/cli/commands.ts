import { Task, TaskStatus } from '../../gen/ts/taskmanager/v1/task.js';
import {
  AwaitResultResponse,
  GetServerInfoResponse,
  ToolInfo,
  UpdateKind,
} from '../../gen/ts/taskmanager/v1/task_service.js';
import { Client, type StreamEvent } from '../client/client.js';
import type { Logger } from '../core/logger.js';
import { VERSION } from '../client/version.js';
import { QuestionPrompt } from './prompt.js';
import { common, parse, positional, seconds, UsageError } from './options.js';
import { duration, oneLine, progressLine, statusName, table } from './render.js';

/** Where a command writes; stdout's isTTY decides between a live progress bar and plain lines. */
export interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** A terminal's input, for prompts (`await` asks a waiting task's question); absent when not one. */
  in?: NodeJS.ReadStream;
}

/** Exit codes: 0 done, 1 the task failed (or is still running after the wait), 2 usage, 3 the call failed. */
export const EXIT = { ok: 0, taskFailed: 1, usage: 2, callFailed: 3 } as const;

type Command = (args: string[], io: Io) => Promise<number>;

const STATUS_FLAG: Record<string, TaskStatus> = {
  running: TaskStatus.TASK_STATUS_RUNNING,
  input_required: TaskStatus.TASK_STATUS_INPUT_REQUIRED,
  completed: TaskStatus.TASK_STATUS_COMPLETED,
  failed: TaskStatus.TASK_STATUS_FAILED,
};

function json(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs `body` with a client for the command's flags, and closes it. */
async function withClient(
  values: Record<string, unknown>,
  io: Io,
  body: (client: Client, asJson: boolean) => Promise<number>,
) {
  const { addr, json: asJson, client: options } = common(values, io.env);
  const client = new Client(addr, options);
  try {
    return await body(client, asJson);
  } finally {
    client.close();
  }
}

function exitFor(task: Task): number {
  return task.status === TaskStatus.TASK_STATUS_COMPLETED ? EXIT.ok : EXIT.taskFailed;
}

/**
 * Follows a task to its end: its output as it is written, a live bar in a
 * terminal (one line per update when piped), then the outcome. `updates`
 * defaults to AwaitResult with output from the start.
 */
async function follow(
  client: Client,
  taskId: string,
  io: Io,
  asJson: boolean,
  updates: AsyncIterable<AwaitResultResponse> = client.updates(taskId, { outputOffset: 0 }),
): Promise<number> {
  const started = Date.now();
  // Output that ends mid-line would be wiped by the bar: the bar waits for the line to end.
  let atLineStart = true;
  const live = io.out.isTTY === true && !asJson;
  let last: AwaitResultResponse | undefined;
  // In a terminal a question is asked at a prompt (answered with ProvideInput); the bar waits meanwhile.
  const prompt =
    live && io.in?.isTTY
      ? new QuestionPrompt(io.in, io.out, (id, value) => client.provideInput(taskId, id, value))
      : undefined;
  const tick = live ? setInterval(() => last && !prompt?.open && draw(last), 250) : undefined;
  const draw = (update: AwaitResultResponse) => {
    if (!atLineStart) return;
    const progress = update.task?.progress;
    io.out.write(
      `\r\x1b[2K${progressLine(progress?.fraction ?? 0, Date.now() - started, oneLine(progress?.message ?? '', 60))}`,
    );
  };
  try {
    for await (const update of updates) {
      if (asJson) {
        io.out.write(`${JSON.stringify(AwaitResultResponse.toJSON(update))}\n`);
        last = update;
        continue;
      }
      if (update.kind === UpdateKind.UPDATE_KIND_OUTPUT) {
        const text = update.output?.text ?? '';
        io.out.write(live && atLineStart ? `\r\x1b[2K${text}` : text);
        atLineStart = text.endsWith('\n');
        continue;
      }
      last = update;
      const question = update.task?.inputRequest;
      if (question && update.kind !== UpdateKind.UPDATE_KIND_TERMINAL) {
        if (prompt) {
          io.out.write(`\r\x1b[2Kwaiting for input: ${question.message}\n  schema: ${question.schemaJson}\n`);
          prompt.show(question);
          continue;
        }
        if (live) io.out.write('\r\x1b[2K');
        io.out.write(
          `waiting for input: ${question.message}\n  answer with: taskservice answer ${taskId} '<json>' ` +
            `--input-request ${question.id}\n  schema: ${question.schemaJson}\n`,
        );
        continue;
      }
      prompt?.close();
      if (live) draw(update);
      else if (update.kind !== UpdateKind.UPDATE_KIND_TERMINAL) {
        const p = update.task?.progress;
        const kind = UpdateKind[update.kind].replace(/^UPDATE_KIND_/, '').toLowerCase();
        io.out.write(
          `${kind} ${Math.round((p?.fraction ?? 0) * 100)}% ${duration(Date.now() - started)}` +
            `${p?.message ? ` ${p.message}` : ''}\n`,
        );
      }
    }
  } finally {
    clearInterval(tick);
    prompt?.close();
    if (live && atLineStart) io.out.write('\r\x1b[2K');
    if (!atLineStart) io.out.write('\n');
  }
  if (!last?.task) throw new Error(`AwaitResult for ${taskId} ended without an update`);
  if (!asJson) {
    if (last.waitTimedOut) io.out.write(`still running after ${duration(Date.now() - started)}\n`);
    io.out.write(`${last.text}\n`);
  }
  return last.waitTimedOut ? EXIT.taskFailed : exitFor(last.task);
}

const exec: Command = async (args, io) => {
  const { values, positionals } = parse(args, {
    budget: { type: 'string' },
    // The old name of --budget, still accepted.
    timeout: { type: 'string' },
    wait: { type: 'boolean', default: false },
    'request-id': { type: 'string' },
    channel: { type: 'string' },
    platform: { type: 'string' },
  });
  const tool = positional(positionals, 0, 'tool');
  const argsJson = positionals[1] ?? '{}';
  const budgetSeconds =
    values.budget === undefined ? seconds(values.timeout, 'timeout') : seconds(values.budget, 'budget');
  return withClient(values, io, async (client, asJson) => {
    const options = {
      ...(budgetSeconds !== undefined && { budgetSeconds }),
      ...(values['request-id'] && { requestId: values['request-id'] }),
      ...(values.channel && { channelId: values.channel }),
      ...(values.platform && { platform: values.platform }),
    };
    if (values.wait) return execAndFollow(client, client.executeStream(tool, argsJson, options), io, asJson);
    const run = await client.execute(tool, argsJson, options);
    if (asJson) json(io, { backgrounded: run.backgrounded, text: run.text, task: Task.toJSON(run.task) });
    else io.out.write(`${run.text}\n`);
    return run.backgrounded ? EXIT.ok : exitFor(run.task);
  });
};

/** exec --wait: ExecuteStream, its inline output printed as it comes, then follow() if it is backgrounded. */
async function execAndFollow(client: Client, events: AsyncGenerator<StreamEvent>, io: Io, asJson: boolean) {
  for (;;) {
    const next = await events.next();
    if (next.done) throw new Error('ExecuteStream ended without an answer');
    const event = next.value;
    if (event.$case === 'output') {
      if (asJson) json(io, { output: event.value });
      else io.out.write(event.value.text);
    }
    if (event.$case !== 'answer') continue;
    const run = event.value;
    if (run.backgrounded) return follow(client, run.task!.taskId, io, asJson, updatesOf(events));
    if (asJson) json(io, { backgrounded: false, text: run.text, task: Task.toJSON(run.task!) });
    else io.out.write(`${run.text}\n`);
    return exitFor(run.task!);
  }
}

async function* updatesOf(events: AsyncGenerator<StreamEvent>): AsyncGenerator<AwaitResultResponse> {
  for await (const event of events) if (event.$case === 'update') yield event.value;
}

const get: Command = async (args, io) => {
  const { values, positionals } = parse(args, {});
  const taskId = positional(positionals, 0, 'task-id');
  return withClient(values, io, async (client, asJson) => {
    const { task, text } = await client.get(taskId);
    if (asJson) json(io, { text, task: Task.toJSON(task) });
    else io.out.write(`${text}\n`);
    return EXIT.ok;
  });
};

const awaitTask: Command = async (args, io) => {
  const { values, positionals } = parse(args, { timeout: { type: 'string' } });
  const taskId = positional(positionals, 0, 'task-id');
  const timeoutSeconds = seconds(values.timeout, 'timeout');
  return withClient(values, io, (client, asJson) =>
    follow(
      client,
      taskId,
      io,
      asJson,
      client.updates(taskId, { outputOffset: 0, ...(timeoutSeconds && { timeoutSeconds }) }),
    ),
  );
};

const ls: Command = async (args, io) => {
  const { values } = parse(args, {
    status: { type: 'string' },
    tool: { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean', default: false },
  });
  const status = values.status === undefined ? undefined : STATUS_FLAG[values.status];
  if (values.status !== undefined && status === undefined) {
    throw new UsageError(`--status must be one of ${Object.keys(STATUS_FLAG).join(', ')}, not "${values.status}"`);
  }
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive integer, not "${values.limit}"`);
  return withClient(values, io, async (client, asJson) => {
    const filter = { ...(status !== undefined && { status }), ...(values.tool && { toolName: values.tool }) };
    const tasks: Task[] = [];
    if (values.all)
      for await (const task of client.listAll({ ...filter, pageSize: Math.min(limit, 500) })) tasks.push(task);
    else tasks.push(...(await client.list({ ...filter, pageSize: limit })).tasks);
    if (asJson) {
      json(
        io,
        tasks.map((t) => Task.toJSON(t)),
      );
      return EXIT.ok;
    }
    if (tasks.length === 0) {
      io.out.write('no tasks\n');
      return EXIT.ok;
    }
    const now = Date.now();
    const rows = tasks.map((t) => [
      t.taskId,
      t.toolName,
      statusName(t),
      t.status === TaskStatus.TASK_STATUS_RUNNING ? `${Math.round((t.progress?.fraction ?? 0) * 100)}%` : '',
      duration(now - (t.createdAt?.getTime() ?? now)),
      oneLine(t.status === TaskStatus.TASK_STATUS_RUNNING ? (t.progress?.message ?? '') : t.error || t.result, 50),
    ]);
    io.out.write(table(['TASK ID', 'TOOL', 'STATUS', 'PROGRESS', 'AGE', 'OUTPUT'], rows));
    return EXIT.ok;
  });
};

const cancel: Command = async (args, io) => {
  const { values, positionals } = parse(args, {});
  const taskId = positional(positionals, 0, 'task-id');
  return withClient(values, io, async (client, asJson) => {
    const task = await client.cancel(taskId);
    if (asJson) json(io, Task.toJSON(task));
    else io.out.write(`${task.taskId} ${statusName(task)}${task.error ? `: ${task.error}` : ''}\n`);
    return EXIT.ok;
  });
};

const tools: Command = async (args, io) => {
  const { values } = parse(args, {});
  return withClient(values, io, async (client, asJson) => {
    const list = await client.tools();
    if (asJson) {
      json(
        io,
        list.map((t) => ToolInfo.toJSON(t)),
      );
      return EXIT.ok;
    }
    const rows = list.map((t) => [
      t.name,
      t.source,
      t.source === 'worker' ? String(t.workers) : '',
      t.noBackground ? 'no' : 'yes',
      `${t.defaultTimeoutSeconds}s`,
      t.unavailableReason ? 'no' : 'yes',
      oneLine(t.unavailableReason || t.description, 60),
    ]);
    io.out.write(table(['NAME', 'SOURCE', 'WORKERS', 'BACKGROUND', 'BUDGET', 'AVAILABLE', 'DESCRIPTION'], rows));
    return EXIT.ok;
  });
};

const answer: Command = async (args, io) => {
  const { values, positionals } = parse(args, { 'input-request': { type: 'string' } });
  const taskId = positional(positionals, 0, 'task-id');
  const answerJson = positional(positionals, 1, 'answer-json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(answerJson);
  } catch {
    throw new UsageError(`the answer must be a JSON object, like '{"answer": "yes"}', not ${answerJson}`);
  }
  return withClient(values, io, async (client, asJson) => {
    // Without --input-request, the open question: the one a person sees with `get` or `await`.
    const inputRequestId = values['input-request'] ?? (await client.get(taskId)).task.inputRequest?.id;
    if (!inputRequestId) throw new UsageError(`task ${taskId} is not waiting for input`);
    const task = await client.provideInput(taskId, inputRequestId, parsed as object);
    if (asJson) json(io, Task.toJSON(task));
    else io.out.write(`${task.taskId} ${statusName(task)}\n`);
    return EXIT.ok;
  });
};

const version: Command = async (args, io) => {
  const { values } = parse(args, {});
  return withClient(values, io, async (client, asJson) => {
    const server = await client.serverInfo();
    if (asJson) json(io, { client: VERSION, server: GetServerInfoResponse.toJSON(server) });
    else io.out.write(`client ${VERSION}\nserver ${server.version} (${server.apiPackages.join(', ')})\n`);
    return EXIT.ok;
  });
};

/** Errors of the stdio MCP server, on stderr: stdout carries the protocol. */
function stderrLogger(io: Io): Logger {
  const line = (level: string) => (obj: object, msg?: string) =>
    void io.err.write(`${JSON.stringify({ level, msg, ...obj })}\n`);
  const logger: Logger = { debug() {}, info() {}, warn: line('warn'), error: line('error'), child: () => logger };
  return logger;
}

const mcp: Command = async (args, io) => {
  const { values } = parse(args, { 'retention-seconds': { type: 'string' } });
  const retentionSeconds = seconds(values['retention-seconds'], 'retention-seconds') ?? 86_400;
  const { addr, client: options } = common(values, io.env);
  const client = new Client(addr, options);
  // Loaded only here: the MCP SDK is not needed by the other commands.
  const { serveMcpOverStdio } = await import('../mcp/stdio.js');
  try {
    await serveMcpOverStdio(client, {
      retentionMs: retentionSeconds * 1000,
      version: VERSION,
      logger: stderrLogger(io),
    });
    return EXIT.ok;
  } finally {
    client.close();
  }
};

export const COMMANDS: Record<string, { run: Command; usage: string }> = {
  exec: {
    run: exec,
    usage: 'exec <tool> [arguments-json] [--budget S] [--wait] [--request-id K] [--channel C --platform P]',
  },
  get: { run: get, usage: 'get <task-id>' },
  await: { run: awaitTask, usage: 'await <task-id> [--timeout S]' },
  ls: { run: ls, usage: 'ls [--status running|input_required|completed|failed] [--tool NAME] [--limit N] [--all]' },
  cancel: { run: cancel, usage: 'cancel <task-id>' },
  tools: { run: tools, usage: 'tools' },
  answer: { run: answer, usage: "answer <task-id> '<json>' [--input-request ID]   answer a task waiting for input" },
  version: { run: version, usage: 'version' },
  mcp: {
    run: mcp,
    usage: 'mcp [--retention-seconds S]   an MCP server on stdin/stdout that forwards to --addr over gRPC',
  },
};
