import { type ChannelCredentials, credentials, Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { TaskServiceClient } from '../../gen/ts/taskmanager/v1/task_service.js';
import { makePki, makeStrangerClient, type TestPki } from '../helpers/certs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

function listTools(client: TaskServiceClient): Promise<{ code: number; details?: string }> {
  return new Promise((resolve) => {
    client.listTools({}, new Metadata(), { deadline: Date.now() + 3000 }, (err) => {
      resolve(err ? { code: err.code, details: err.details } : { code: status.OK });
      client.close();
    });
  });
}

/**
 * A client for `address` that checks the server's name as "localhost" (in its certificate; an IP as TLS server
 * name is deprecated).
 */
const clientFor = (address: string, creds: ChannelCredentials) =>
  new TaskServiceClient(address, creds, { 'grpc.ssl_target_name_override': 'localhost' });

/** TLS and mutual TLS with certificates made by the real openssl for this run. */
describe('TLS', function () {
  this.timeout(20_000);
  let pki: TestPki;
  let stranger: { cert: string; key: string };

  before(async () => {
    pki = await makePki();
    stranger = await makeStrangerClient(pki.dir);
  });
  after(() => pki.remove());

  describe('server TLS', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        TASKSERVICE_TLS_CERT_FILE: pki.serverCert,
        TASKSERVICE_TLS_KEY_FILE: pki.serverKey,
      });
    });
    after(() => server.close());

    it('serves a client that trusts the CA', async () => {
      const client = clientFor(server.address, credentials.createSsl(pki.read(pki.caCert)));
      expect((await listTools(client)).code).to.equal(status.OK);
    });

    it('does not answer a plaintext client, nor one that does not trust the CA', async () => {
      expect((await listTools(clientFor(server.address, credentials.createInsecure()))).code).to.equal(
        status.UNAVAILABLE,
      );
      expect((await listTools(clientFor(server.address, credentials.createSsl()))).code).to.equal(status.UNAVAILABLE);
    });
  });

  describe('mutual TLS', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        TASKSERVICE_TLS_CERT_FILE: pki.serverCert,
        TASKSERVICE_TLS_KEY_FILE: pki.serverKey,
        TASKSERVICE_TLS_CLIENT_CA_FILE: pki.caCert,
      });
    });
    after(() => server.close());

    it('serves a client with a certificate the client CA signed', async () => {
      const creds = credentials.createSsl(pki.read(pki.caCert), pki.read(pki.clientKey), pki.read(pki.clientCert));
      expect((await listTools(clientFor(server.address, creds))).code).to.equal(status.OK);
    });

    it('refuses a client without a certificate, or with one from another CA', async () => {
      const none = credentials.createSsl(pki.read(pki.caCert));
      expect((await listTools(clientFor(server.address, none))).code).to.equal(status.UNAVAILABLE);
      const foreign = credentials.createSsl(pki.read(pki.caCert), pki.read(stranger.key), pki.read(stranger.cert));
      expect((await listTools(clientFor(server.address, foreign))).code).to.equal(status.UNAVAILABLE);
    });
  });

  describe('configuration', () => {
    const stops = (env: Record<string, string>, text: string) =>
      expect(() => loadConfig(env))
        .to.throw(ConfigError)
        .with.property('message')
        .that.contains(text);

    it('refuses plaintext on a non-loopback address unless asked for on purpose', () => {
      stops({ TASKSERVICE_ADDR: '0.0.0.0:50051' }, 'TASKSERVICE_PLAINTEXT=true');
      expect(loadConfig({ TASKSERVICE_ADDR: '0.0.0.0:50051', TASKSERVICE_PLAINTEXT: 'true' }).tls).to.equal(undefined);
      expect(loadConfig({ TASKSERVICE_ADDR: '127.0.0.2:50051' }).plaintext).to.equal(false);
      const withTls = loadConfig({
        TASKSERVICE_ADDR: '0.0.0.0:50051',
        TASKSERVICE_TLS_CERT_FILE: pki.serverCert,
        TASKSERVICE_TLS_KEY_FILE: pki.serverKey,
      });
      expect(withTls.tls?.certPath).to.equal(pki.serverCert);
    });

    it('names the variable for a missing, half or wrong TLS setting', () => {
      stops(
        { TASKSERVICE_TLS_CERT_FILE: pki.serverCert },
        'set both TASKSERVICE_TLS_CERT_FILE and TASKSERVICE_TLS_KEY_FILE',
      );
      stops(
        { TASKSERVICE_TLS_CERT_FILE: '/nonexistent.crt', TASKSERVICE_TLS_KEY_FILE: pki.serverKey },
        'TASKSERVICE_TLS_CERT_FILE: cannot read',
      );
      stops(
        { TASKSERVICE_TLS_CERT_FILE: pki.serverKey, TASKSERVICE_TLS_KEY_FILE: pki.serverKey },
        'holds no CERTIFICATE',
      );
      stops({ TASKSERVICE_TLS_CLIENT_CA_FILE: pki.caCert }, 'needs TASKSERVICE_TLS_CERT_FILE');
    });
  });
});
