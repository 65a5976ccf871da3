import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import type { Logger } from '../../src/core/logger.js';
import { taskServiceName } from '../../src/tools/mcp/names.js';
import { McpToolError, taskResult } from '../../src/tools/mcp/results.js';
import { StderrLog } from '../../src/tools/mcp/stderr-log.js';

const servers = (value: unknown, env: Record<string, string> = {}) =>
  loadConfig({ TASKSERVICE_MCP_SERVERS: JSON.stringify(value), ...env }).mcpServers;

function refused(value: unknown, env: Record<string, string> = {}): string {
  try {
    servers(value, env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('MCP tool sources: configuration', () => {
  it('reads a stdio and an HTTP server, secrets from the environment', () => {
    const parsed = servers(
      {
        local: { command: 'npx', args: ['-y', 'x'], env: { A: '1' }, env_from: { TOKEN: 'MY_TOKEN' }, cwd: '/tmp' },
        remote: {
          url_env: 'REMOTE_URL',
          headers: { 'x-team': 'infra' },
          headers_env: { authorization: 'REMOTE_AUTH' },
          tool_prefix: 'remote_',
          exclude: ['dangerous'],
          concurrency: 2,
          default_budget_seconds: 5,
          hard_timeout_seconds: 60,
        },
      },
      { MY_TOKEN: 't0ken', REMOTE_URL: 'https://mcp.example/mcp', REMOTE_AUTH: 'Bearer abc' },
    );
    expect(parsed).to.deep.equal([
      {
        name: 'local',
        toolPrefix: '',
        transport: 'stdio',
        command: 'npx',
        args: ['-y', 'x'],
        env: { A: '1', TOKEN: 't0ken' },
        cwd: '/tmp',
      },
      {
        name: 'remote',
        toolPrefix: 'remote_',
        exclude: ['dangerous'],
        concurrency: 2,
        budgetSeconds: 5,
        hardTimeoutSeconds: 60,
        transport: 'http',
        url: 'https://mcp.example/mcp',
        headers: { 'x-team': 'infra', authorization: 'Bearer abc' },
      },
    ]);
  });

  it('refuses mistakes with a message naming the variable, the server and the key', () => {
    const at = 'TASKSERVICE_MCP_SERVERS: MCP server';
    expect(refused({ s: { args: [] } })).to.equal(
      `${at} "s": set "command" (a stdio server) or "url" / "url_env" (a Streamable HTTP server)`,
    );
    expect(refused({ s: { command: 'x', comand: 'y' } })).to.match(
      /^.*"s": comand is not a known key \(known: .*command/,
    );
    expect(refused({ s: { command: 'x', tool_prefix: 'Bad-' } })).to.contain(
      `${at} "s": tool_prefix must be lowercase`,
    );
    expect(refused({ s: { command: 'x', include: ['a'], exclude: ['b'] } })).to.equal(
      `${at} "s": set include or exclude, not both`,
    );
    expect(refused({ s: { command: 'x', env_from: { T: 'UNSET_VAR' } } })).to.equal(
      `${at} "s": env_from.T names UNSET_VAR, which is not set`,
    );
    expect(refused({ s: { url: 'http://x/mcp', headers_env: { authorization: 'NOPE' } } })).to.equal(
      `${at} "s": headers_env.authorization names NOPE, which is not set`,
    );
    expect(refused({ s: { url: 'ftp://x' } })).to.equal(`${at} "s": url must be an http(s) URL`);
    expect(refused({ 'Bad Name': { command: 'x' } })).to.contain('"Bad Name": the name must be lowercase');
    expect(refused({ s: { command: 'x', concurrency: 0 } })).to.contain('concurrency must be a positive whole number');
  });

  it('refuses both the inline variable and the file', () => {
    expect(() =>
      loadConfig({ TASKSERVICE_MCP_SERVERS: '{}', TASKSERVICE_MCP_SERVERS_FILE: '/nonexistent.json' }),
    ).to.throw(ConfigError, 'set TASKSERVICE_MCP_SERVERS or TASKSERVICE_MCP_SERVERS_FILE, not both');
  });

  it("accepts README's example", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /### Tools from MCP servers[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)![1]!;
    const parsed = servers(JSON.parse(block), { EVERYTHING_TOKEN: 'x', SEARCH_MCP_AUTHORIZATION: 'Bearer y' });
    expect(parsed.map((s) => `${s.name}:${s.transport}`)).to.deep.equal(['everything:stdio', 'search:http']);
  });
});

describe('MCP tool sources: names, results, stderr', () => {
  it('names a tool with the prefix and the MCP name in snake case', () => {
    expect(taskServiceName('ev_', 'get-sum')).to.equal('ev_get_sum');
    expect(taskServiceName('', 'searchIssues')).to.equal('search_issues');
    expect(taskServiceName('', 'files.read')).to.equal('files_read');
    expect(taskServiceName('', 'HTTPGet')).to.equal('httpget');
    expect(taskServiceName('', '---')).to.equal(undefined);
    expect(taskServiceName('', '9lives')).to.equal(undefined);
    expect(taskServiceName('p_', 'x'.repeat(63))).to.equal(undefined);
  });

  it('turns a CallToolResult into a result: structuredContent, text lines, other content described', () => {
    expect(
      taskResult({
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      }),
    ).to.equal('a\nb');
    expect(taskResult({ content: [{ type: 'text', text: '{}' }], structuredContent: { n: 1 } })).to.deep.equal({
      n: 1,
    });
    const described = taskResult({
      content: [
        { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' },
        { type: 'resource', resource: { uri: 'file:///a.txt', text: 'hello' } },
        { type: 'resource', resource: { uri: 'file:///b.bin', blob: 'AAA=', mimeType: 'application/x' } },
        { type: 'hologram' },
      ],
    });
    expect(described).to.equal(
      '[audio: audio/wav, 3 bytes, not shown]\n[resource file:///a.txt]\nhello\n' +
        '[resource file:///b.bin: application/x, 2 bytes, not shown]\n[hologram content, not shown]',
    );
  });

  it('throws McpToolError with the text for isError', () => {
    expect(() => taskResult({ isError: true, content: [{ type: 'text', text: 'no such repo' }] })).to.throw(
      McpToolError,
      'no such repo',
    );
    expect(() => taskResult({ isError: true })).to.throw(McpToolError, 'without text');
  });

  it('logs stderr line by line, cut per line and capped per minute', () => {
    const lines: { msg?: string; fields: Record<string, unknown> }[] = [];
    const logger = {
      warn: (fields: Record<string, unknown>, msg?: string) => lines.push({ fields, msg }),
    } as unknown as Logger;
    let now = 0;
    const log = new StderrLog(logger, () => now);
    log.write('one\ntw');
    log.write('o\n');
    log.write('x'.repeat(3000) + '\npartial');
    expect(lines.map((l) => (l.fields.stderr as string).length)).to.deep.equal([3, 3, 2001]);
    log.flush();
    expect(lines.at(-1)!.fields.stderr).to.equal('partial');
    for (let i = 0; i < 100; i++) log.write('y'.repeat(1000) + '\n');
    const logged = lines.length;
    expect(logged).to.be.below(80);
    now = 61_000;
    log.write('after the minute\n');
    expect(lines[logged]).to.deep.include({ msg: 'MCP server stderr: lines dropped by the cap' });
    expect(lines[logged]!.fields.droppedBytes).to.be.above(30_000);
    expect(lines.at(-1)!.fields.stderr).to.equal('after the minute');
  });
});
