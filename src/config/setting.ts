/** How a variable's text is read (src/config/env-reader.ts). */
export type SettingKind =
  | 'seconds' // a number of seconds within min..max
  | 'integer' // a whole number within min..max
  | 'bool' // 1/true/yes/on or 0/false/no/off
  | 'enum' // one of `values`
  | 'addr' // host:port
  | 'hosts' // host:port,host:port,...
  | 'url' // matches `pattern`; never echoed in errors (it may hold a password)
  | 'text' // any text, or text matching `pattern`
  | 'paths' // comma-separated paths
  | 'path' // a file, read at start
  | 'json'; // a JSON object, read by src/config/platforms.ts or tokens.ts

/** A default worked out at start; the listing and the README show `shown`. */
export interface ComputedDefault {
  readonly shown: string;
  compute(): string;
}

/** One environment variable: the single place for its default, its range and its meaning. */
export interface Setting {
  readonly name: string;
  readonly kind: SettingKind;
  /** Used when the variable is unset or empty; absent: no default. */
  readonly default?: number | boolean | string | ComputedDefault;
  /** seconds, integer: the accepted range, both ends included. */
  readonly min?: number;
  readonly max?: number;
  /** enum: the accepted values. */
  readonly values?: readonly string[];
  /** url, text: what a value must match. */
  readonly pattern?: RegExp;
  /** What it accepts in the README's words, where min/max/values do not say it (Markdown). */
  readonly accepts?: string;
  /** What it does, in one line (Markdown). */
  readonly meaning: string;
  /** Old names, still read with a warning at start; setting an old and the new name stops the start. */
  readonly deprecatedNames?: readonly string[];
}
