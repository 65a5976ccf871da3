import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('MCP tool sources: configuration, field by field', () => {
  const where = 'TASKSERVICE_MCP_SERVERS: MCP server "gh":';
  const stops = (value: unknown, message: string, env: Record<string, string> = {}) =>
    expect(refused(value, env)).to.equal(message);

  it('reads no servers when neither variable is set', () => {
    expect(loadConfig({}).mcpServers).to.deep.equal([]);
  });

  it('refuses an entry that is not an object, and a value that is not an object of servers', () => {
    stops({ gh: 'npx' }, `${where} must be an object with "command" (stdio) or "url" (Streamable HTTP)`);
    expect(() => loadConfig({ TASKSERVICE_MCP_SERVERS: '[{"command": "npx"}]' })).to.throw(
      ConfigError,
      'TASKSERVICE_MCP_SERVERS must be a JSON object of server name -> settings',
    );
  });

  it("lists the keys of the entry's own transport when a key is unknown", () => {
    stops(
      { gh: { command: 'npx', argz: ['x'] } },
      `${where} argz is not a known key (known: tool_prefix, include, exclude, concurrency, ` +
        'default_budget_seconds, hard_timeout_seconds, input_timeout_seconds, command, args, env, env_from, cwd)',
    );
    stops(
      { gh: { url: 'http://127.0.0.1:9/mcp', cwd: '/tmp' } },
      `${where} cwd is not a known key (known: tool_prefix, include, exclude, concurrency, ` +
        'default_budget_seconds, hard_timeout_seconds, input_timeout_seconds, url, url_env, headers, headers_env)',
    );
  });

  it('refuses every tool_prefix that would not start a tool name, and takes one of 32 characters', () => {
    const must = 'tool_prefix must be lowercase a-z 0-9 _ (a-z first, at most 32), e.g. "github_"';
    for (const prefix of ['GH_', 'gh-', '_gh', '', 'g'.repeat(33)]) {
      stops({ gh: { command: 'npx', tool_prefix: prefix } }, `${where} ${must}`);
    }
    expect(servers({ gh: { command: 'npx', tool_prefix: 'g'.repeat(32) } })[0]!.toolPrefix).to.equal('g'.repeat(32));
  });

  it('refuses include and exclude together on an HTTP server too, even an empty exclude', () => {
    stops(
      { gh: { url: 'http://127.0.0.1:9/mcp', include: ['a'], exclude: [] } },
      `${where} set include or exclude, not both`,
    );
  });

  it('counts a variable that env_from or headers_env names as unset when it is empty', () => {
    stops(
      { gh: { command: 'npx', env_from: { GITHUB_TOKEN: 'GH_TOKEN' } } },
      `${where} env_from.GITHUB_TOKEN names GH_TOKEN, which is not set`,
      { GH_TOKEN: '' },
    );
    stops(
      { gh: { url: 'http://127.0.0.1:9/mcp', headers_env: { authorization: 'GH_AUTH' } } },
      `${where} headers_env.authorization names GH_AUTH, which is not set`,
      { GH_AUTH: '' },
    );
  });

  it('reads the URL from the variable url_env names, checked like an inline one; not both', () => {
    const [server] = servers({ gh: { url_env: 'GH_MCP_URL' } }, { GH_MCP_URL: 'https://mcp.example/mcp' });
    expect(server).to.deep.equal({
      name: 'gh',
      toolPrefix: '',
      transport: 'http',
      url: 'https://mcp.example/mcp',
      headers: {},
    });
    stops({ gh: { url_env: 'GH_MCP_URL' } }, `${where} url_env names GH_MCP_URL, which is not set in the environment`);
    stops({ gh: { url_env: 'GH_MCP_URL' } }, `${where} url (from GH_MCP_URL) must be an http(s) URL`, {
      GH_MCP_URL: 'ftp://mcp.example',
    });
    stops(
      { gh: { url: 'http://127.0.0.1:9/mcp', url_env: 'GH_MCP_URL' } },
      `${where} set exactly one of url and url_env`,
      {
        GH_MCP_URL: 'http://x',
      },
    );
  });

  it('refuses a server name that is not lowercase a-z 0-9 _ - with a letter first, 32 at most', () => {
    const must = 'the name must be lowercase a-z 0-9 _ - (a-z first, at most 32)';
    for (const name of ['GitHub', '9lives', '-gh', 'g'.repeat(33)]) {
      stops({ [name]: { command: 'npx' } }, `TASKSERVICE_MCP_SERVERS: MCP server "${name}": ${must}`);
    }
    expect(servers({ 'git-hub_2': { command: 'npx' } })[0]!.name).to.equal('git-hub_2');
  });

  it('names the field of a value of the wrong type, saying what it must be', () => {
    stops({ gh: { command: 'npx', args: 'serve' } }, `${where} args must be an array of strings`);
    stops({ gh: { command: '' } }, `${where} command must be the program to start`);
    stops({ gh: { command: 'npx', env: { A: 1 } } }, `${where} env.A must be a string`);
    stops(
      { gh: { command: 'npx', hard_timeout_seconds: 0 } },
      `${where} hard_timeout_seconds must be a positive number of seconds`,
    );
    stops(
      { gh: { url: 'http://127.0.0.1:9/mcp', headers: { 'x-key': 5 } } },
      `${where} headers.x-key must be a string`,
    );
  });

  it('reads the file TASKSERVICE_MCP_SERVERS_FILE names, and names the file in its messages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskservice-mcp-'));
    try {
      const file = join(dir, 'servers.json');
      writeFileSync(file, JSON.stringify({ docs: { command: 'docs-mcp', include: ['search'] } }));
      expect(loadConfig({ TASKSERVICE_MCP_SERVERS_FILE: file }).mcpServers).to.deep.equal([
        {
          name: 'docs',
          toolPrefix: '',
          include: ['search'],
          transport: 'stdio',
          command: 'docs-mcp',
          args: [],
          env: {},
        },
      ]);
      writeFileSync(file, JSON.stringify({ docs: { url: 'http://127.0.0.1:9/mcp', tool_prefix: 'Docs' } }));
      expect(() => loadConfig({ TASKSERVICE_MCP_SERVERS_FILE: file })).to.throw(
        ConfigError,
        `TASKSERVICE_MCP_SERVERS_FILE (${file}): MCP server "docs": tool_prefix must be lowercase`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets env_from and headers_env win over env and headers of the same name', () => {
    const [stdio, http] = servers(
      {
        gh: {
          command: 'npx',
          env: { GITHUB_TOKEN: 'placeholder', LOG: 'info' },
          env_from: { GITHUB_TOKEN: 'GH_TOKEN' },
        },
        docs: {
          url: 'https://docs.example/mcp',
          headers: { authorization: 'placeholder', 'x-team': 'core' },
          headers_env: { authorization: 'DOCS_AUTH' },
        },
      },
      { GH_TOKEN: 'ghp_secret', DOCS_AUTH: 'Bearer docs-secret' },
    );
    expect(stdio).to.deep.include({ env: { GITHUB_TOKEN: 'ghp_secret', LOG: 'info' } });
    expect(http).to.deep.include({ headers: { authorization: 'Bearer docs-secret', 'x-team': 'core' } });
  });
});

describe('MCP tool sources: names, results, stderr in detail', () => {
  it('names the long-running operation of server-everything, and collapses runs of separators', () => {
    expect(taskServiceName('', 'trigger-long-running-operation')).to.equal('trigger_long_running_operation');
    expect(taskServiceName('gh_', 'list__Pull--Requests')).to.equal('gh_list_pull_requests');
    expect(taskServiceName('', '_private_')).to.equal('private');
    // A prefix makes a name that starts with a digit usable.
    expect(taskServiceName('x_', '9lives')).to.equal('x_9lives');
  });

  it('allows 64 characters, prefix included, and no more', () => {
    expect(taskServiceName('', 'a'.repeat(64))).to.equal('a'.repeat(64));
    expect(taskServiceName('', 'a'.repeat(65))).to.equal(undefined);
    expect(taskServiceName('ev_', 'a'.repeat(61))).to.equal(`ev_${'a'.repeat(61)}`);
    expect(taskServiceName('ev_', 'a'.repeat(62))).to.equal(undefined);
  });

  const base64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');

  it('describes an image with its type and its decoded size, whatever the base64 padding', () => {
    for (const bytes of [300, 301, 302, 0]) {
      expect(taskResult({ content: [{ type: 'image', data: base64(bytes), mimeType: 'image/png' }] })).to.equal(
        `[image: image/png, ${bytes} bytes, not shown]`,
      );
    }
    expect(taskResult({ content: [{ type: 'image', data: base64(3) }] })).to.equal(
      '[image: unknown type, 3 bytes, not shown]',
    );
  });

  it('describes resource links, with or without a name, among text', () => {
    const content = [
      { type: 'text', text: 'here you are' },
      { type: 'resource_link', uri: 'file:///tmp/report.txt', name: 'report' },
      { type: 'resource_link', uri: 'file:///tmp/anonymous.txt' },
      { type: 'resource', resource: { uri: 'file:///data.bin', blob: base64(4) } },
    ];
    expect(taskResult({ content })).to.equal(
      'here you are\n[resource link: report file:///tmp/report.txt]\n[resource link: file:///tmp/anonymous.txt]\n' +
        '[resource file:///data.bin: binary, 4 bytes, not shown]',
    );
  });

  it('fails isError with all its text even with structuredContent, and with the fallback for empty text', () => {
    const content = [
      { type: 'text', text: 'it broke:' },
      { type: 'text', text: 'the disk is full' },
    ];
    expect(() => taskResult({ content, isError: true, structuredContent: { ok: false } }))
      .to.throw(McpToolError)
      .with.property('message', 'it broke:\nthe disk is full');
    expect(() => taskResult({ content: [{ type: 'text', text: '' }], isError: true }))
      .to.throw(McpToolError)
      .with.property('message', 'the MCP tool reported an error without text');
    expect(taskResult({ content: [{ type: 'text', text: 'fine' }], isError: false })).to.equal('fine');
  });

  describe('StderrLog', () => {
    interface Line {
      level: string;
      fields: Record<string, unknown>;
      msg?: string;
    }
    function recordingLogger(lines: Line[]): Logger {
      const at = (level: string) => (fields: object, msg?: string) =>
        void lines.push({ level, fields: { ...fields }, msg });
      const logger: Logger = {
        debug: at('debug'),
        info: at('info'),
        warn: at('warn'),
        error: at('error'),
        child: () => logger,
      };
      return logger;
    }

    let lines: Line[];
    let now: number;
    let log: StderrLog;
    beforeEach(() => {
      lines = [];
      now = 1_000_000;
      log = new StderrLog(recordingLogger(lines), () => now);
    });
    const logged = () => lines.filter((l) => l.msg === 'MCP server stderr').map((l) => l.fields.stderr);
    const notices = () => lines.filter((l) => l.msg === 'MCP server stderr: lines dropped by the cap');

    it('logs at warn, without empty lines or trailing whitespace (\\r\\n too)', () => {
      log.write(Buffer.from('Starting server...\nlistening on stdio\r\n\n   \n'));
      expect(logged()).to.deep.equal(['Starting server...', 'listening on stdio']);
      expect(lines.map((l) => l.level)).to.deep.equal(['warn', 'warn']);
    });

    it('keeps a partial line over several chunks, and flush() logs it once', () => {
      log.write('hel');
      log.write('lo wor');
      expect(logged()).to.deep.equal([]);
      log.write('ld\nbye');
      expect(logged()).to.deep.equal(['hello world']);
      log.flush();
      log.flush();
      expect(logged()).to.deep.equal(['hello world', 'bye']);
    });

    it('keeps at most about 2000 characters of a long line that arrives in many chunks', () => {
      for (let i = 0; i < 100; i++) log.write('c'.repeat(1000));
      log.write('\n');
      const [line] = logged() as string[];
      expect(line!.startsWith('c'.repeat(2000))).to.equal(true);
      expect(line!.length).to.be.at.most(2001);
    });

    it('drops lines over 64 KiB a minute, then says how many bytes in one line when the minute is over', () => {
      const line = 'x'.repeat(2000);
      // 32 lines of 2000 fit in 64 KiB (65536); the 33rd and the rest of the minute do not.
      for (let i = 0; i < 40; i++) log.write(`${line}\n`);
      expect(logged()).to.have.length(32);
      now += 59_000;
      log.write(`${line}\n`);
      expect(logged()).to.have.length(32);
      expect(notices(), 'no notice before the minute is over').to.deep.equal([]);

      now += 1000;
      log.write('back again\nand more\n');
      expect(notices()).to.have.length(1);
      expect(notices()[0]).to.deep.include({ level: 'warn', fields: { droppedBytes: 9 * 2000 } });
      expect(logged().slice(32)).to.deep.equal(['back again', 'and more']);
      // The notice comes just before the first line of the new minute.
      expect(lines.indexOf(notices()[0]!)).to.equal(lines.findIndex((l) => l.fields.stderr === 'back again') - 1);

      now += 60_000; // a minute in which nothing was dropped: no notice
      log.write('quiet minute\n');
      expect(notices()).to.have.length(1);
      expect(logged().at(-1)).to.equal('quiet minute');
    });
  });
});

describe('StderrLog, edge cases', () => {
  const record = () => {
    const lines: { msg?: string; fields: Record<string, unknown> }[] = [];
    const logger = { warn: (fields: Record<string, unknown>, msg?: string) => lines.push({ fields, msg }) };
    return { lines, log: new StderrLog(logger as unknown as Logger, () => 0) };
  };

  it('marks a long line as cut even when it arrives in pieces', () => {
    const { lines, log } = record();
    log.write('z'.repeat(2500));
    log.write('\n');
    expect(lines[0]!.fields.stderr).to.equal(`${'z'.repeat(2000)}…`);
  });

  it('keeps a UTF-8 character split across chunks whole', () => {
    const { lines, log } = record();
    const bytes = Buffer.from('café\n');
    log.write(bytes.subarray(0, 4));
    log.write(bytes.subarray(4));
    expect(lines[0]!.fields.stderr).to.equal('café');
  });

  it('reports what the cap dropped when the child ends, not only when the next minute starts', () => {
    const { lines, log } = record();
    for (let i = 0; i < 40; i++) log.write(`${'y'.repeat(1999)}\n`);
    log.flush();
    expect(lines.at(-1)).to.deep.include({ msg: 'MCP server stderr: lines dropped by the cap' });
    expect(lines.at(-1)!.fields.droppedBytes).to.equal(8 * 1999);
  });
});
