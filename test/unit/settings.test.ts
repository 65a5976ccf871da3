import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { cli } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/commands.js';
import { settingsHelp, shownAccepts, shownDefault } from '../../src/config/describe.js';
import { type Setting, SETTINGS } from '../../src/config/settings.js';

interface Row {
  name: string;
  /** Without backticks; undefined for "none". */
  default: string | undefined;
  accepts: string;
  meaning: string;
}

/** The rows of README.md's configuration table (the one table of its "## Configuration" section). */
function readmeRows(): Row[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Configuration\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [name, fallback, accepts, meaning] = line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim());
      return {
        name: unquote(name!),
        default: fallback === 'none' ? undefined : unquote(fallback!),
        accepts: accepts!,
        meaning: meaning!,
      };
    });
}

describe('SETTINGS and README.md', () => {
  const rows = readmeRows();
  const settings: readonly Setting[] = SETTINGS;

  it("lists every setting in the README's configuration table, in the same order, and nothing else", () => {
    const documented = rows.map((r) => r.name);
    const defined = settings.map((s) => s.name);
    expect(
      documented.filter((n) => !defined.includes(n)),
      'README rows with no SETTINGS entry',
    ).to.deep.equal([]);
    expect(
      defined.filter((n) => !documented.includes(n)),
      'SETTINGS entries with no README row',
    ).to.deep.equal([]);
    expect(documented, 'README order').to.deep.equal(defined);
  });

  it('gives each variable the same default and accepted values in the README as in SETTINGS', () => {
    const differences = settings.flatMap((s) => {
      const row = rows.find((r) => r.name === s.name);
      if (!row) return [];
      return [
        ...(row.default === shownDefault(s)
          ? []
          : [`${s.name}: README default ${row.default}, SETTINGS ${shownDefault(s)}`]),
        ...(row.accepts === shownAccepts(s)
          ? []
          : [`${s.name}: README accepts "${row.accepts}", SETTINGS "${shownAccepts(s)}"`]),
      ];
    });
    expect(differences).to.deep.equal([]);
  });

  it('names each old name of a setting in its README row', () => {
    const missing = settings.flatMap((s) =>
      (s.deprecatedNames ?? []).filter((old) => !rows.find((r) => r.name === s.name)?.meaning.includes(`\`${old}\``)),
    );
    expect(missing).to.deep.equal([]);
  });

  it('keeps each default inside its own range, and names each variable once', () => {
    for (const s of settings) {
      if (s.min !== undefined) expect(s.default as number, s.name).to.be.within(s.min, s.max!);
      if (s.values) expect(s.values, s.name).to.include(s.default);
      if (s.pattern && typeof s.default === 'string') expect(s.default, s.name).to.match(s.pattern);
    }
    const names = settings.flatMap((s) => [s.name, ...(s.deprecatedNames ?? [])]);
    expect(new Set(names).size).to.equal(names.length);
  });
});

describe('taskservice serve --help', () => {
  it('lists every setting with its default and what it accepts, and starts nothing', async () => {
    let out = '';
    const sink = new Writable({ write: (chunk, _encoding, done) => ((out += chunk), done()) });
    const io = { out: sink, err: sink, env: {} } as unknown as Io;
    expect(await cli(['serve', '--help'], io)).to.equal(0);
    expect(out).to.equal(`Usage: taskservice serve\n\n${settingsHelp()}`);
    const lines = out.split('\n');
    for (const s of SETTINGS as readonly Setting[]) {
      const shown = shownDefault(s);
      const head = lines.find((l) => l.startsWith(`  ${s.name}${shown === undefined ? ' ' : `=${shown} `}`));
      expect(head, s.name).to.be.a('string');
      expect(head!.replace(/`/g, ''), s.name).to.contain(shownAccepts(s).replace(/`/g, ''));
    }
    expect(out).to.contain('  TASKSERVICE_HTTP_ADDR (no default)');
    expect(out).to.contain('      (old name, still read: TASKSERVICE_METRICS_ADDR)');
    expect(out).to.contain('      (old name, still read: TASKSERVICE_DEFAULT_TIMEOUT_SECONDS)');
  });
});
