import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway PKI made with the real openssl: a CA, a server certificate for 127.0.0.1, a client certificate. */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  read(path: string): Buffer;
  remove(): void;
}

async function issue(
  dir: string,
  name: string,
  ca: { cert: string; key: string } | undefined,
  ext: string,
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  if (!ca) {
    await run('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
      '-out',
      cert,
      '-extensions',
      'v3',
      '-config',
      extFile,
    ]);
  } else {
    const csr = join(dir, `${name}.csr`);
    await run('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      cert,
      '-extfile',
      extFile,
      '-extensions',
      'v3',
    ]);
  }
  return { cert, key };
}

const CA_EXT =
  '[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\n' +
  'keyUsage=critical,keyCertSign,cRLSign\n';
const SERVER_EXT =
  '[v3]\nbasicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXT = '[v3]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n';

export async function makePki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'taskservice-pki-'));
  const ca = await issue(dir, 'ca', undefined, CA_EXT);
  const server = await issue(dir, 'server', ca, SERVER_EXT);
  const client = await issue(dir, 'client', ca, CLIENT_EXT);
  return {
    dir,
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    read: (path) => readFileSync(path),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A second, unrelated CA with a client certificate of its own (for "wrong CA" checks). */
export async function makeStrangerClient(dir: string): Promise<{ cert: string; key: string }> {
  const ca = await issue(dir, 'stranger-ca', undefined, CA_EXT);
  return issue(dir, 'stranger', ca, CLIENT_EXT);
}
