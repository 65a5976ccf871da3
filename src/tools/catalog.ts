import type { Tool, ToolCatalog } from '../core/tool.js';

/**
 * Several catalogs as one: the registry of in-process tools first, then the
 * worker tools. A worker may not take a name the registry has, so the order
 * only matters for speed.
 */
export class CombinedCatalog implements ToolCatalog {
  constructor(private readonly parts: readonly ToolCatalog[]) {}

  get(name: string): Tool | undefined {
    for (const part of this.parts) {
      const tool = part.get(name);
      if (tool) return tool;
    }
    return undefined;
  }

  /** Sorted by name, so listings are stable. */
  list(): Tool[] {
    return this.parts.flatMap((part) => part.list()).sort((a, b) => a.name.localeCompare(b.name));
  }
}
