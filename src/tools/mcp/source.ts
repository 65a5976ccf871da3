import type { Logger } from '../../core/logger.js';
import { HERE, type Placement, type Tool, type ToolCatalog } from '../../core/tool.js';
import type { McpServerConfig } from '../../config/types.js';
import type { ArgumentCheck, ArgumentSchemas } from '../schema.js';
import { McpConnection, type McpConnectionOptions, type McpToolDefinition } from './connection.js';
import { taskServiceName } from './names.js';

/** Start waits this long for each server's first connection; a slower one joins when it connects. */
const FIRST_CONNECT_WAIT_MS = 10_000;

/** Accepts any arguments object: for a server that never listed its tools, the server itself checks. */
const ANY_ARGUMENTS: ArgumentCheck = () => {};

/**
 * The tools of the configured MCP servers, as one catalog (source
 * `mcp:<server>`). Names are the server's `tool_prefix` plus the MCP name in
 * snake case (names.ts). A clash with another tool stops the start, naming
 * both; one that appears later (list_changed) is left out and logged. A
 * server that is down keeps its last known tools listed, unavailable; one
 * that never connected lists its `include` names, and any name with its
 * prefix answers UNAVAILABLE naming it.
 */
export class McpToolSource implements ToolCatalog {
  private readonly connections: McpConnection[];
  private tools = new Map<string, Tool>();
  private started = false;
  /** Compiled argument checks by schema text: list_changed rebuilds every tool, most unchanged. */
  private readonly checks = new Map<string, ArgumentCheck>();

  constructor(
    configs: readonly McpServerConfig[],
    private readonly schemas: ArgumentSchemas,
    options: McpConnectionOptions,
    private readonly logger: Logger,
    /** The source of a tool of that name elsewhere (registry, workers), for clash checks. */
    private readonly otherSource: (name: string) => string | undefined,
  ) {
    this.connections = configs.map(
      (config) =>
        new McpConnection(config, logger.child({ mcpServer: config.name }), options, () => {
          if (this.started) this.rebuild(false);
        }),
    );
  }

  /** Connects every server (in parallel); throws on a name clash among the tools of those that answered. */
  async start(waitMs = FIRST_CONNECT_WAIT_MS): Promise<void> {
    await Promise.all(this.connections.map((c) => c.start(waitMs)));
    this.rebuild(true);
    this.started = true;
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name) ?? this.notYetListed(name);
  }

  /** Sorted by name, so listings are stable. */
  list(): Tool[] {
    return [...this.tools.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The connection behind a server name (tests, diagnostics). */
  connection(server: string): McpConnection | undefined {
    return this.connections.find((c) => c.config.name === server);
  }

  async close(): Promise<void> {
    this.started = false;
    await Promise.all(this.connections.map((c) => c.close()));
  }

  /** Every server's tools afresh; `strict`: a clash throws (at start) instead of being logged. */
  private rebuild(strict: boolean): void {
    const tools = new Map<string, Tool>();
    for (const connection of this.connections) {
      for (const tool of this.toolsOf(connection)) {
        const clash = tools.get(tool.name)?.source ?? this.otherSource(tool.name);
        if (clash) {
          const problem =
            `tool "${tool.name}" of ${tool.source} clashes with tool "${tool.name}" (${clash}); ` + 'set a tool_prefix';
          if (strict) throw new Error(problem);
          this.logger.error({ tool: tool.name }, `${problem}: left out`);
          continue;
        }
        tools.set(tool.name, tool);
      }
    }
    this.tools = tools;
  }

  private toolsOf(connection: McpConnection): Tool[] {
    const { config } = connection;
    const listed = connection.tools;
    if (!listed) {
      return (config.include ?? []).flatMap((mcpName) => {
        const name = taskServiceName(config.toolPrefix, mcpName);
        return name ? [this.tool(connection, { name: mcpName, inputSchema: { type: 'object' } }, name, true)] : [];
      });
    }
    const chosen = listed.filter(
      (t) => (!config.include || config.include.includes(t.name)) && !config.exclude?.includes(t.name),
    );
    return chosen.flatMap((definition) => {
      const name = taskServiceName(config.toolPrefix, definition.name);
      if (!name) {
        this.logger.warn({ mcpServer: config.name, mcpTool: definition.name }, 'MCP tool left out: no usable name');
        return [];
      }
      return [this.tool(connection, definition, name, false)];
    });
  }

  private tool(connection: McpConnection, definition: McpToolDefinition, name: string, unlisted: boolean): Tool {
    const { config } = connection;
    return {
      name,
      description: definition.description ?? '',
      parameters: definition.inputSchema,
      noBackground: false,
      budgetSeconds: config.budgetSeconds,
      hardTimeoutSeconds: config.hardTimeoutSeconds,
      inputTimeoutSeconds: config.inputTimeoutSeconds,
      source: `mcp:${config.name}`,
      validate: unlisted ? ANY_ARGUMENTS : this.check(name, definition.inputSchema),
      place: (): Placement => (connection.connected ? HERE : { kind: 'nowhere', why: connection.unavailableWhy }),
      handler: (args, ctx) => connection.call(definition.name, args, ctx),
    };
  }

  /** A name with the prefix of a server that never listed its tools: UNAVAILABLE naming the server. */
  private notYetListed(name: string): Tool | undefined {
    const connection = this.connections.find(
      (c) => !c.tools && c.config.toolPrefix && name.startsWith(c.config.toolPrefix),
    );
    if (!connection) return undefined;
    const mcpName = name.slice(connection.config.toolPrefix.length);
    return this.tool(connection, { name: mcpName, inputSchema: { type: 'object' } }, name, true);
  }

  /**
   * The server's schema as an argument check. MCP schemas default to JSON
   * Schema 2020-12 and often say so in `$schema`, which this Ajv (draft-07)
   * would refuse; the keywords tools use mean the same in both. A schema
   * that still does not compile is left to the server to enforce.
   */
  private check(name: string, schema: object): ArgumentCheck {
    const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
    const key = JSON.stringify(rest);
    let check = this.checks.get(key);
    if (!check) {
      try {
        check = this.schemas.compile(name, rest);
      } catch (err) {
        this.logger.warn({ tool: name, err: (err as Error).message }, 'MCP tool schema not checked here');
        check = ANY_ARGUMENTS;
      }
      this.checks.set(key, check);
    }
    return check;
  }
}
