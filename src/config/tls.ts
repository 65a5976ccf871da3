import type { EnvReader } from './env-reader.js';
import { type Config, ConfigError } from './types.js';

/** TLS from PEM files: a certificate and its key (both or neither), and a client CA for mutual TLS. */
export function readTls(r: EnvReader): Config['tls'] {
  const cert = r.file('TASKSERVICE_TLS_CERT_FILE');
  const key = r.file('TASKSERVICE_TLS_KEY_FILE');
  const clientCa = r.file('TASKSERVICE_TLS_CLIENT_CA_FILE');
  if (!cert !== !key)
    throw new ConfigError('set both TASKSERVICE_TLS_CERT_FILE and TASKSERVICE_TLS_KEY_FILE, or neither');
  if (!cert || !key) {
    if (clientCa)
      throw new ConfigError(
        'TASKSERVICE_TLS_CLIENT_CA_FILE needs TASKSERVICE_TLS_CERT_FILE and TASKSERVICE_TLS_KEY_FILE',
      );
    return undefined;
  }
  for (const [name, file, marker] of [
    ['TASKSERVICE_TLS_CERT_FILE', cert, 'CERTIFICATE'],
    ['TASKSERVICE_TLS_KEY_FILE', key, 'PRIVATE KEY'],
    ['TASKSERVICE_TLS_CLIENT_CA_FILE', clientCa, 'CERTIFICATE'],
  ] as const) {
    if (file && !file.data.toString('latin1').includes(`-----BEGIN`))
      throw new ConfigError(`${name}: ${file.path} is not a PEM file`);
    if (file && !file.data.toString('latin1').includes(marker))
      throw new ConfigError(`${name}: ${file.path} holds no ${marker}`);
  }
  return {
    certPath: cert.path,
    cert: cert.data,
    key: key.data,
    ...(clientCa && { clientCaPath: clientCa.path, clientCa: clientCa.data }),
  };
}
