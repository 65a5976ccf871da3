import type { EnvReader } from './env-reader.js';
import { type Config, ConfigError } from './types.js';

/** Settings that are each valid alone but not together; throws ConfigError naming both variables. */
export function checkTogether(config: Config, r: EnvReader): void {
  if (config.defaultBudgetSeconds > config.maxBudgetSeconds) {
    // Named as set: an old name if that is the one in the environment.
    const fallback = r.variable('TASKSERVICE_DEFAULT_BUDGET_SECONDS');
    const max = r.variable('TASKSERVICE_MAX_BUDGET_SECONDS');
    throw new ConfigError(
      `${fallback} (${config.defaultBudgetSeconds}) must not exceed ${max} (${config.maxBudgetSeconds})`,
    );
  }
  if (!config.tls && !config.plaintext && !isLoopback(config.addr.host)) {
    throw new ConfigError(
      `TASKSERVICE_ADDR=${config.addr.host}:${config.addr.port} is not a loopback address: ` +
        'set TASKSERVICE_TLS_CERT_FILE and TASKSERVICE_TLS_KEY_FILE, ' +
        'or TASKSERVICE_PLAINTEXT=true to serve plaintext there on purpose',
    );
  }
  const mcp = config.mcp.addr;
  if (mcp && !config.tls && !config.plaintext && !isLoopback(mcp.host)) {
    throw new ConfigError(
      `TASKSERVICE_MCP_ADDR=${mcp.host}:${mcp.port} is not a loopback address: ` +
        'set TASKSERVICE_TLS_CERT_FILE and TASKSERVICE_TLS_KEY_FILE (MCP is then served over HTTPS), ' +
        'or TASKSERVICE_PLAINTEXT=true to serve plain HTTP there on purpose',
    );
  }
  if (config.workerTimeoutSeconds <= config.workerPingSeconds) {
    throw new ConfigError(
      `TASKSERVICE_WORKER_TIMEOUT_SECONDS (${config.workerTimeoutSeconds}) must exceed ` +
        `TASKSERVICE_WORKER_PING_SECONDS (${config.workerPingSeconds}), ` +
        'or every worker would be lost between two pings',
    );
  }
}

/** Plaintext is safe by default only where nothing else can listen in. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
