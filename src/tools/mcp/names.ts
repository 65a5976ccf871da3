import { TOOL_NAME } from '../schema.js';

/**
 * An MCP tool's name as TaskService calls it: MCP names may hold capitals,
 * dashes and dots ("get-sum", "searchIssues", "files.read"); TaskService's are
 * lowercase snake case, because models, Redis fields and log keys use them.
 * So: the server's prefix, then the name with camelCase and every other
 * character turned into `_`. Undefined when nothing usable is left.
 */
export function taskServiceName(prefix: string, mcpName: string): string | undefined {
  const snake = mcpName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  const name = `${prefix}${snake}`;
  return TOOL_NAME.test(name) ? name : undefined;
}
