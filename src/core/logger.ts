/** The slice of a pino logger the core uses, so the core does not import pino. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /**
   * A logger with more fields bound. `redact` replaces the redacted paths:
   * `[]` for lines built only from known, secret-free fields, where the
   * redaction walk would cost more than the line (pino's child options).
   */
  child(bindings: Record<string, unknown>, options?: { redact?: string[] }): Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
