import { readFileSync } from 'node:fs';
import { parseJsonObject } from '../core/json.js';
import { type DefaultedName, type EnumValue, type SettingName, setting } from './setting-lookup.js';
import type { Setting } from './settings.js';
import { type Addr, ConfigError, type DeprecatedVariable, type Env } from './types.js';

/** What a setting with no default reads as when unset. */
type Maybe<N, T> = N extends DefaultedName ? T : T | undefined;

const ADDR = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * Reads the environment through SETTINGS: the default and the range of a
 * variable come from its entry there, never from the caller. An empty
 * variable counts as unset. Every error is a ConfigError naming the variable.
 */
export class EnvReader {
  /** Old names that were set, each with the name to use instead: serve warns about them at start. */
  readonly deprecated: DeprecatedVariable[] = [];

  constructor(readonly env: Env) {}

  /** The setting's text, trimmed, from its variable or an old name of it; undefined when unset or empty. */
  raw(name: SettingName): string | undefined {
    return this.lookup(name)?.value;
  }

  /** The variable that set a setting, an old name if that was the one set: what a message about it names. */
  variable(name: SettingName): string {
    return this.lookup(name)?.variable ?? name;
  }

  seconds(name: SettingName<'seconds'>): number {
    return this.number(name, 'a number of seconds', Number.isFinite);
  }

  integer(name: SettingName<'integer'>): number {
    return this.number(name, 'a whole number', Number.isInteger);
  }

  bool(name: SettingName<'bool'>): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return setting(name).default as boolean;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    throw new ConfigError(`${this.variable(name)}="${value}" must be true or false`);
  }

  oneOf<N extends SettingName<'enum'>>(name: N): EnumValue<N> {
    const { values, default: fallback } = setting(name);
    const value = this.raw(name);
    if (value === undefined) return fallback as EnumValue<N>;
    if (!values!.includes(value)) {
      throw new ConfigError(`${this.variable(name)}="${value}" must be one of ${values!.join(', ')}`);
    }
    return value as EnumValue<N>;
  }

  addr<N extends SettingName<'addr'>>(name: N): Maybe<N, Addr> {
    const value = this.raw(name) ?? (setting(name).default as string | undefined);
    if (value === undefined) return undefined as Maybe<N, Addr>;
    const match = ADDR.exec(value);
    const port = match ? Number(match[2]) : -1;
    if (!match || port > 65_535) {
      const example = 'e.g. 127.0.0.1:50051 (port 0 picks a free port)';
      throw new ConfigError(`${this.variable(name)}="${value}" must be host:port, ${example}`);
    }
    return { host: match[1]!, port };
  }

  /** A comma-separated list of host:port; empty when unset. */
  hosts(name: SettingName<'hosts'>): Addr[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    return value.split(',').map((item) => {
      const match = ADDR.exec(item.trim());
      if (!match) {
        throw new ConfigError(`${this.variable(name)}="${value}" must be a comma-separated list of host:port`);
      }
      return { host: match[1]!, port: Number(match[2]) };
    });
  }

  /** Text, checked against the setting's pattern; a URL is never echoed (it may hold a password). */
  text<N extends SettingName<'text' | 'url'>>(name: N): Maybe<N, string> {
    const s = setting(name);
    const value = this.raw(name) ?? fallback(s);
    if (value !== undefined && s.pattern && !s.pattern.test(value)) {
      const shown = s.kind === 'url' ? '' : `="${value}"`;
      throw new ConfigError(`${this.variable(name)}${shown} must be ${plain(s.accepts!)}`);
    }
    return value as Maybe<N, string>;
  }

  /** A comma-separated list of paths; empty when unset. */
  paths(name: SettingName<'paths'>): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
  }

  /** The file a variable names, read now; undefined when unset. */
  file(name: SettingName<'path'>): { path: string; data: Buffer } | undefined {
    const path = this.raw(name);
    if (path === undefined) return undefined;
    try {
      return { path, data: readFileSync(path) };
    } catch (err) {
      throw new ConfigError(`${this.variable(name)}: cannot read ${path} (${(err as Error).message})`);
    }
  }

  /** The text of the file a variable names, read now; undefined when unset. */
  textFile(name: SettingName<'path'>): { path: string; text: string } | undefined {
    const file = this.file(name);
    return file && { path: file.path, text: file.data.toString('utf8') };
  }

  /**
   * A JSON object given inline in one variable or as a file named by another
   * (not both); `source` names where it came from, for the messages about it.
   */
  jsonObject(inline: SettingName<'json'>, file: SettingName<'path'>, shape: string) {
    const text = this.raw(inline);
    if (text && this.raw(file)) throw new ConfigError(`set ${inline} or ${file}, not both`);
    const read = this.textFile(file);
    const source = read ? `${file} (${read.path})` : inline;
    const json = read ? read.text : text;
    if (!json) return undefined;
    const parsed = parseJsonObject(json, `a JSON object of ${shape}`);
    if (!parsed.ok) throw new ConfigError(`${source} ${parsed.problem}`);
    return { source, value: parsed.value };
  }

  private number(name: SettingName<'seconds' | 'integer'>, what: string, valid: (n: number) => boolean): number {
    const { default: fallback, min, max } = setting(name);
    const value = this.raw(name);
    if (value === undefined) return fallback as number;
    const n = Number(value);
    if (!valid(n) || n < min! || n > max!) {
      throw new ConfigError(`${this.variable(name)}="${value}" must be ${what} from ${min} to ${max}`);
    }
    return n;
  }

  private lookup(name: SettingName): { variable: string; value: string } | undefined {
    const set = [name, ...(setting(name).deprecatedNames ?? [])].flatMap((variable) => {
      const value = this.env[variable]?.trim();
      return value ? [{ variable, value }] : [];
    });
    if (set.length > 1) {
      const old = set.filter((v) => v.variable !== name).map((v) => v.variable);
      throw new ConfigError(`set ${name} or its deprecated name ${old.join(' or ')}, not both`);
    }
    const [found] = set;
    if (found && found.variable !== name && !this.deprecated.some((d) => d.name === found.variable)) {
      this.deprecated.push({ name: found.variable, use: name });
    }
    return found;
  }
}

function fallback(s: Setting): string | undefined {
  return typeof s.default === 'object' ? s.default.compute() : (s.default as string | undefined);
}

/** README Markdown in a plain-text message: `code` becomes "code". */
function plain(markdown: string): string {
  return markdown.replace(/`([^`]*)`/g, '"$1"');
}
