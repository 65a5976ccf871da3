import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const buf = join(root, 'node_modules/.bin/buf');
const SERVICE = 'taskmanager/v1/task_service.proto';
const TASK = 'taskmanager/v1/task.proto';

/**
 * Runs the test command's API check (`buf breaking` against proto-baseline/, the API of the last
 * release) on a copy of proto/ changed by `edit`; resolves with buf's complaints, empty if none.
 */
async function breakingAfter(edit: (file: string, change: (from: string, to: string) => void) => void) {
  const workspace = mkdtempSync(join(tmpdir(), 'api-compat-'));
  try {
    cpSync(join(root, 'proto'), join(workspace, 'proto'), { recursive: true });
    cpSync(join(root, 'buf.yaml'), join(workspace, 'buf.yaml'));
    const change = (file: string) => (from: string, to: string) => {
      const path = join(workspace, 'proto', file);
      const text = readFileSync(path, 'utf8');
      if (!text.includes(from)) throw new Error(`${file} has no "${from}" to change`);
      writeFileSync(path, text.replace(from, to));
    };
    edit(SERVICE, change(SERVICE));
    edit(TASK, change(TASK));
    const outcome = await run(buf, ['breaking', workspace, '--against', join(root, 'proto-baseline')]).then(
      () => '',
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    return outcome;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

describe('API compatibility check (buf breaking against proto-baseline/)', function () {
  this.timeout(60_000);

  it('fails when a field is renumbered', async () => {
    const complaints = await breakingAfter((file, change) => {
      if (file === SERVICE) change('  string tool_name = 1;', '  string tool_name = 9;');
    });
    expect(complaints).to.match(/Previously present field "1" with name "tool_name" on message "ExecuteRequest"/);
  });

  it('fails when an RPC is removed', async () => {
    const complaints = await breakingAfter((file, change) => {
      if (file === SERVICE) change('  rpc CancelTask(CancelTaskRequest) returns (CancelTaskResponse);\n', '');
    });
    expect(complaints).to.match(/CancelTask/);
  });

  it('passes additive changes: a new RPC, a new field, a new enum value', async () => {
    const complaints = await breakingAfter((file, change) => {
      if (file === SERVICE) {
        change(
          'service TaskService {\n',
          'service TaskService {\n  rpc Ping(GetServerInfoRequest) returns (GetServerInfoResponse);\n',
        );
        change('  repeated string api_packages = 2;', '  repeated string api_packages = 2;\n  string motto = 3;');
      }
      if (file === TASK)
        change('  TASK_STATUS_INPUT_REQUIRED = 4;', '  TASK_STATUS_INPUT_REQUIRED = 4;\n  TASK_STATUS_PAUSED = 5;');
    });
    expect(complaints).to.equal('');
  });
});
