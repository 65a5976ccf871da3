import type { Logger } from '../../src/core/logger.js';

/** A Logger that keeps every line as one flat object: level, its children's bindings, its fields, msg. */
export function captureLogger(lines: Record<string, unknown>[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, ...bindings, ...obj, msg });
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => captureLogger(lines, { ...bindings, ...more }),
  };
}
