import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/config/index.js';
import { httpTools } from '../../src/tools/http-tools.js';

const base = { name: 'weather', description: 'd', parameters: { type: 'object' }, url: 'https://weather.example/now' };
const file = (...entries: unknown[]) => JSON.stringify(entries);

describe('HTTP tools file (TASKSERVICE_HTTP_TOOLS_FILE)', () => {
  it('reads hard_timeout_seconds, and timeout_seconds as its deprecated name with a warning', () => {
    const warnings: string[] = [];
    const [current] = httpTools(file({ ...base, hard_timeout_seconds: 30 }), {}, 'tools.json', (w) => warnings.push(w));
    expect(current!.hardTimeout).to.equal(30);
    expect(warnings).to.deep.equal([]);
    const [old] = httpTools(file({ ...base, timeout_seconds: 30 }), {}, 'tools.json', (w) => warnings.push(w));
    expect(old!.hardTimeout).to.equal(30);
    expect(warnings).to.deep.equal([
      'tools.json: tool 0 (weather): timeout_seconds is deprecated; call it hard_timeout_seconds',
    ]);
  });

  it('refuses both names for the hard limit, naming both', () => {
    expect(() =>
      httpTools(file({ ...base, hard_timeout_seconds: 30, timeout_seconds: 30 }), {}, 'tools.json'),
    ).to.throw(
      ConfigError,
      'tools.json: tool 0 (weather): set hard_timeout_seconds or timeout_seconds, ' +
        'not both (timeout_seconds is its deprecated name)',
    );
  });

  for (const [entry, message] of [
    [{ ...base, method: 'FETCH' }, 'tool 0 (weather): method must be one of "GET", "POST", "PUT", "PATCH", "DELETE"'],
    [{ ...base, concurrency: 0 }, 'tool 0 (weather): concurrency must be a positive whole number'],
    [{ ...base, budget_seconds: -1 }, 'tool 0 (weather): budget_seconds must be a positive number of seconds'],
    [{ ...base, parameters: 'none' }, 'tool 0 (weather): parameters must be a JSON Schema object'],
    [{ ...base, headers: { authorization: 7 } }, 'tool 0 (weather): headers.authorization must be a string'],
    [{ ...base, url: 'ftp://weather.example' }, 'tool 0 (weather): url must be an http(s) URL'],
    [{ name: 'weather', description: 'd', parameters: {} }, 'tool 0 (weather): url is required'],
    ['weather', 'tool 0 (unnamed): must be an object'],
  ] as const) {
    it(`names the file, the tool and the field: ${message}`, () => {
      expect(() => httpTools(file(entry), {}, 'tools.json')).to.throw(ConfigError, `tools.json: ${message}`);
    });
  }

  it('refuses a key it does not know, naming it', () => {
    expect(() => httpTools(file(base, { ...base, name: 'forecast', budget_secs: 5 }), {}, 'tools.json')).to.throw(
      ConfigError,
      'tools.json: tool 1 (forecast): budget_secs is not a known key (known: name, description, parameters, url,',
    );
  });

  it('names the file when it is not a JSON array', () => {
    expect(() => httpTools('{"weather": {}}', {}, 'tools.json')).to.throw(
      ConfigError,
      'tools.json must be a JSON array of tools',
    );
    expect(() => httpTools('[{', {}, 'tools.json')).to.throw(ConfigError, 'tools.json is not valid JSON');
  });

  it('accepts the example of README.md', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = [...readme.matchAll(/```json\n(\[[\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .find((b) => b.includes('"parameters"'));
    const [tool] = httpTools(example!, { WEATHER_TOKEN: 't' }, 'http-tools.json');
    expect(tool).to.include({ name: 'weather', hardTimeout: 30, budget: 5 });
  });
});
