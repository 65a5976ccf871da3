import { type Setting, type SettingKind, SETTINGS } from './settings.js';

/** What a kind accepts when its entry says nothing more (README Markdown). */
const ACCEPTS: Partial<Record<SettingKind, string>> = {
  bool: 'true/false',
  addr: '`host:port`',
  hosts: '`host:port,…`',
  text: 'text',
  paths: 'comma-separated paths',
  path: 'path',
  json: 'JSON object',
};

/** A setting's default as the README shows it (without backticks); undefined: none. */
export function shownDefault(s: Setting): string | undefined {
  if (s.default === undefined) return undefined;
  return typeof s.default === 'object' ? s.default.shown : String(s.default);
}

/** What a setting accepts, as the README's "Accepts" column says it (Markdown). */
export function shownAccepts(s: Setting): string {
  if (s.accepts) return s.accepts;
  if (s.min !== undefined) return `${s.min}–${s.max}`;
  if (s.values) return s.values.join(', ');
  return ACCEPTS[s.kind]!;
}

/**
 * `taskservice serve --help`: every setting with its default, what it
 * accepts and what it does, in SETTINGS' order (the README's).
 */
export function settingsHelp(): string {
  const heads = SETTINGS.map((s: Setting) => {
    const shown = shownDefault(s);
    return `${s.name}${shown === undefined ? ' (no default)' : `=${shown}`}`;
  });
  const width = Math.max(...heads.map((h) => h.length));
  const lines = SETTINGS.map((s: Setting, i) => [
    `  ${heads[i]!.padEnd(width)}  ${text(shownAccepts(s))}${s.kind === 'seconds' ? ' s' : ''}`,
    `      ${text(s.meaning)}`,
    ...(s.deprecatedNames ?? []).map((old) => `      (old name, still read: ${old})`),
  ]);
  return [
    'Settings: environment variables, checked at start (a bad one stops the start with exit code 2).',
    'An empty variable counts as unset. README.md, "Configuration", says more.',
    '',
    ...lines.flat(),
    '',
  ].join('\n');
}

/** README Markdown as plain text: `code` and [links](#anchor) lose their marks. */
function text(markdown: string): string {
  return markdown.replace(/`([^`]*)`/g, '$1').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
}
