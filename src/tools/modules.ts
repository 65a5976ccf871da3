import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AnyToolSpec, isToolSpec, toolOrigins } from './define.js';

/**
 * Loads the tools of TypeScript/JavaScript modules (paths relative to the
 * working directory). A module exports tools made with defineTool(): as named
 * exports, as its default export, or as an array in either. Throws an Error
 * naming the module when it cannot be loaded or exports no tool.
 */
export async function loadToolModules(paths: readonly string[]): Promise<{ path: string; tools: AnyToolSpec[] }[]> {
  const loaded = [];
  for (const path of paths) {
    let exports: Record<string, unknown>;
    try {
      if (/\.[cm]?ts$/.test(path)) await loadTypeScript();
      exports = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`tool module ${path} failed to load: ${(err as Error).message}`, { cause: err });
    }
    const tools = Object.values(exports)
      .flatMap((value) => (Array.isArray(value) ? value : [value]))
      .filter(isToolSpec);
    const unique = [...new Set(tools)]; // a default export may repeat a named one
    if (unique.length === 0) throw new Error(`tool module ${path} exports no tool (export what defineTool() returns)`);
    for (const tool of unique) toolOrigins.set(tool, path);
    loaded.push({ path, tools: unique });
  }
  return loaded;
}

let typeScript: Promise<void> | undefined;

/**
 * Lets `import()` load TypeScript. Under tsx (tests, `npm run dev`) it already
 * can; the bundle `npm start` runs (dist/main.mjs) starts without tsx, which
 * halves start-up time, and registers it only when a .ts tool module needs it.
 */
function loadTypeScript(): Promise<void> {
  if (import.meta.url.endsWith('.ts')) return Promise.resolve();
  typeScript ??= import('tsx/esm/api').then(({ register }) => void register());
  return typeScript;
}
