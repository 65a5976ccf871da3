import type { Setting, SettingKind } from './setting.js';
import { SETTINGS } from './settings.js';

/** Typed access to SETTINGS: names that do not exist do not compile. */

type Entry = (typeof SETTINGS)[number];

/** The names of the settings of one kind (all of them by default): a misspelt name does not compile. */
export type SettingName<K extends SettingKind = SettingKind> = Extract<Entry, { kind: K }>['name'];

/** The names of the settings with a default. */
export type DefaultedName = Extract<Entry, { default: unknown }>['name'];

/** The values an enum setting accepts. */
export type EnumValue<N extends SettingName<'enum'>> = Extract<Entry, { name: N }>['values'][number];

const BY_NAME = new Map<string, Setting>(SETTINGS.map((s) => [s.name, s]));

export function setting(name: SettingName): Setting {
  return BY_NAME.get(name)!;
}
