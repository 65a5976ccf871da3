/** The bench commands' arguments: `--name` flags, `--name=value` options, and `--only=a,b` picks. */

const value = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/** `--name` was given. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** `--name=text`, or undefined. */
export function stringOption(name: string): string | undefined {
  return value(name);
}

/** `--name=N`, or `fallback`. */
export function numberOption(name: string, fallback: number): number {
  return Number(value(name) ?? fallback);
}

/** With `--only=a,b`, only the parts named there are wanted; without it, every part. */
export function wanted(part: string): boolean {
  const only = value('only')?.split(',');
  return !only || only.includes(part);
}
