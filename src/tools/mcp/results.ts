import type { ToolResult } from '../../core/tool.js';

/** The parts of an MCP CallToolResult that TaskService reads (the SDK's type, loosely). */
export interface McpCallResult {
  content?: readonly McpContent[];
  structuredContent?: unknown;
  isError?: boolean;
}

type McpContent = { type: string; [key: string]: unknown };

/** Thrown for `isError: true`: the task fails TOOL_ERROR with the tool's own text. */
export class McpToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McpToolError';
  }
}

/**
 * A CallToolResult as a task's result. `structuredContent`, when present, is
 * the result (as JSON): it is what the tool meant for programs. Otherwise
 * the content parts, text as is and anything else described in brackets
 * (an image is no use to a model reading text, but it must know one was
 * there), one part per line. `isError: true` throws McpToolError with the
 * same text.
 */
export function taskResult(result: McpCallResult): ToolResult {
  const text = (result.content ?? []).map(describe).join('\n');
  if (result.isError) throw new McpToolError(text || 'the MCP tool reported an error without text');
  if (result.structuredContent !== undefined) return result.structuredContent as ToolResult;
  return text;
}

function describe(part: McpContent): string {
  switch (part.type) {
    case 'text':
      return String(part.text ?? '');
    case 'image':
    case 'audio':
      return `[${part.type}: ${String(part.mimeType ?? 'unknown type')}, ${base64Bytes(part.data)} bytes, not shown]`;
    case 'resource_link':
      return `[resource link: ${String(part.name ?? '')} ${String(part.uri ?? '')}]`.replace('  ', ' ');
    case 'resource': {
      const resource = (part.resource ?? {}) as Record<string, unknown>;
      const uri = String(resource.uri ?? '');
      if (typeof resource.text === 'string') return `[resource ${uri}]\n${resource.text}`;
      const type = String(resource.mimeType ?? 'binary');
      return `[resource ${uri}: ${type}, ${base64Bytes(resource.blob)} bytes, not shown]`;
    }
    default:
      return `[${part.type} content, not shown]`;
  }
}

/** The decoded size of base64 text, without decoding it. */
function base64Bytes(data: unknown): number {
  if (typeof data !== 'string') return 0;
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((data.length * 3) / 4) - padding);
}
