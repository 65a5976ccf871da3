/**
 * The layer rules of docs/ARCHITECTURE.md, checked on every import by
 * dependency-cruiser (`npm run lint:layers`, part of the test command).
 * A rule names what may NOT happen; a deliberate departure is allowed by
 * name in the rule itself, and the architecture doc says why.
 */

/** Imports of code: relative files (`local`) and packages (`npm`); Node's own modules are always allowed. */
const CODE = [
  'local',
  'npm',
  'npm-dev',
  'npm-optional',
  'npm-peer',
  'npm-no-pkg',
  'npm-unknown',
  'unknown',
  'undetermined',
];

module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment:
        'src/core is the heart: task model, TaskManager, ports. It knows nothing of gRPC, Redis, HTTP or config.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { pathNot: '^src/core/', dependencyTypes: CODE },
    },
    {
      name: 'client-imports-only-client-and-gen',
      comment:
        'src/client is shipped to users: it may import only its own files, gen/ts and its two runtime packages ' +
        '(issue 14 packages it on its own).',
      severity: 'error',
      from: { path: '^src/client/' },
      to: {
        pathNot: ['^src/client/', '^gen/ts/', 'node_modules/@grpc/grpc-js/', 'node_modules/@bufbuild/protobuf/'],
        dependencyTypes: CODE,
      },
    },
    {
      name: 'config-imports-no-store',
      comment: 'Configuration is read before any store exists; stores may read config types, not the other way round.',
      severity: 'error',
      from: { path: '^src/config' },
      to: { path: '^src/store/' },
    },
    {
      name: 'redis-store-imports-no-workers',
      comment: 'The Redis backend serves the worker hub through ports in src/core, not by knowing the hub.',
      severity: 'error',
      from: { path: '^src/store/redis/' },
      to: { path: '^src/workers/' },
    },
    {
      name: 'stores-know-no-front-door-or-tools',
      comment: 'A store keeps task state; it does not know who calls it or which tools exist.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/(grpc|cli|client|tools|redirect|metrics|app\\.ts)' },
    },
    {
      name: 'grpc-translates-only',
      comment:
        'src/grpc maps protocol to core calls; it never reaches a store, a tool source or the redirect adapters.',
      severity: 'error',
      from: { path: '^src/grpc/' },
      to: { path: '^src/(store|tools|redirect|cli|client)/' },
    },
    {
      name: 'mcp-translates-only',
      comment:
        'src/mcp is a front door like src/grpc: it maps MCP to core calls (or, for stdio, to the client) and ' +
        'reaches no store, tool source, redirect adapter or the gRPC layer.',
      severity: 'error',
      from: { path: '^src/mcp/' },
      to: { path: '^src/(store|tools|redirect|workers|grpc)/' },
    },
    {
      name: 'console-translates-only',
      comment:
        'src/console is a front door like src/grpc and src/mcp: HTTP and JSON to core calls; it reaches no store ' +
        '(the lease table comes through a core port), tool source, redirect adapter, gRPC or MCP layer.',
      severity: 'error',
      from: { path: '^src/console/' },
      to: { path: '^src/(store|tools|redirect|workers|grpc|mcp)/' },
    },
    {
      name: 'only-mcp-speaks-mcp',
      comment:
        'The MCP SDK stays in the MCP front door (the server SDK) and the MCP tool source (src/tools/mcp, ' +
        'the client SDK).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/mcp/', '^src/tools/mcp/'] },
      to: { path: 'node_modules/@modelcontextprotocol/' },
    },
    {
      name: 'mcp-tool-source-speaks-only-the-client-sdk',
      comment: 'A tool source is an MCP client: it has no business with the server SDK.',
      severity: 'error',
      from: { path: '^src/tools/mcp/' },
      to: { path: 'node_modules/@modelcontextprotocol/(server|node)/' },
    },
    {
      name: 'only-stores-speak-redis',
      comment:
        'The store is the only place that knows Redis. Deliberate departure: the redis-stream redirect adapter ' +
        "writes deliveries to a Redis stream of the operator's choosing (docs/ARCHITECTURE.md).",
      severity: 'error',
      from: { pathNot: ['^src/store/', '^src/redirect/redis-stream\\.ts$', '^test/', '^bench/'] },
      to: { path: 'node_modules/ioredis/' },
    },
    {
      name: 'only-grpc-and-client-speak-grpc',
      comment: 'gRPC types stay in the front door (src/grpc) and the client; everything else speaks core types.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/grpc/', '^src/client/'] },
      to: { path: 'node_modules/@grpc/' },
    },
    {
      name: 'composition-root-is-imported-by-process-entry-only',
      comment: 'src/app.ts wires everything; only the process entry points and the CLI build it.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(serve|main)\\.ts$', '^src/cli/'] },
      to: { path: '^src/app\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle means two modules are one; split the shared part out.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
