import { App } from './app.js';
import { ConfigError, loadConfig } from './config/index.js';
import { createLogger } from './logging.js';
import { httpTools } from './tools/http-tools.js';
import { loadToolModules } from './tools/modules.js';

/**
 * Runs the server until SIGTERM or SIGINT: `npm start` and `taskservice serve`.
 * Configuration comes from the environment (README: Configuration).
 */
export async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`taskservice: configuration error: ${err.message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config);
  for (const { name, use } of config.deprecatedVariables) {
    logger.warn({ variable: name, use }, `${name} is deprecated and still read: set ${use} instead`);
  }
  let app: App;
  try {
    const modules = await loadToolModules(config.toolModules);
    app = new App(config, logger, {
      tools: modules.flatMap((m) => m.tools),
      httpTools: config.httpTools
        ? httpTools(config.httpTools.text, process.env, config.httpTools.path, (message) => logger.warn({}, message))
        : [],
    });
  } catch (err) {
    // Tool modules, HTTP tools, duplicate names: say what to fix, on stderr too.
    process.stderr.write(`taskservice: cannot start: ${(err as Error).message}\n`);
    logger.fatal({ err }, 'cannot start');
    process.exit(1);
  }

  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    app.close().then(
      () => {
        logger.info({}, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  app.start().then(
    (port) =>
      logger.info(
        {
          address: `${config.addr.host}:${port}`,
          tools: app.tools.list().length,
          ...(app.mcpTools && { mcpTools: app.mcpTools.list().length }),
          ...(config.mcp.addr && {
            mcp: `${config.tls ? 'https' : 'http'}://${config.mcp.addr.host}:${app.mcpPort}/mcp`,
          }),
        },
        'listening',
      ),
    (err: unknown) => {
      // A port in use, or an MCP tool whose name clashes: say what to fix, on stderr too.
      process.stderr.write(`taskservice: cannot start: ${(err as Error).message}\n`);
      logger.fatal({ err, addr: `${config.addr.host}:${config.addr.port}` }, 'cannot start');
      process.exit(1);
    },
  );
}
