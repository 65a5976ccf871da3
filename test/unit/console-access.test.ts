import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect } from 'chai';
import { TokenBook } from '../../src/auth/tokens.js';
import { OperatorConsole } from '../../src/console/console.js';
import { silentLogger } from '../../src/core/logger.js';
import { eventually } from '../helpers/eventually.js';

/**
 * Who may use the console without tokens. The suites' clients all come from loopback, so the other side of the
 * rule (a client elsewhere on the network) is played here with a request whose socket says where it came from.
 */
function request(remoteAddress: string, host: string): IncomingMessage {
  return {
    method: 'GET',
    url: '/console/',
    headers: { host },
    socket: { remoteAddress },
  } as unknown as IncomingMessage;
}

/** A response that keeps its status and body. */
function response() {
  const res = {
    status: 0,
    body: '',
    ended: false,
    headersSent: false,
    writeHead(status: number) {
      res.status = status;
      res.headersSent = true;
      return res;
    },
    end(chunk?: Buffer | string) {
      if (chunk) res.body += chunk.toString();
      res.ended = true;
      return res;
    },
  };
  return res;
}

async function get(console_: OperatorConsole, remoteAddress: string, host = '127.0.0.1:9464') {
  const res = response();
  expect(console_.handle(request(remoteAddress, host), res as unknown as ServerResponse, '/console/')).to.equal(true);
  await eventually(() => res.ended);
  return res;
}

describe('OperatorConsole without tokens: who may use it', () => {
  const make = (open: boolean) => new OperatorConsole({} as never, new TokenBook([]), { open }, silentLogger);

  it('answers a loopback client (IPv4, IPv6 and IPv4-mapped) with a local host name', async () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      expect((await get(make(false), address)).status, address).to.equal(200);
    }
  });

  it('refuses a client elsewhere on the network with 403 and what to configure', async () => {
    const res = await get(make(false), '10.1.2.3');
    expect(res.status).to.equal(403);
    expect(JSON.parse(res.body).error).to.contain('TASKSERVICE_AUTH_TOKENS').and.contain('TASKSERVICE_CONSOLE=open');
  });

  it('answers any client when told to be open (TASKSERVICE_CONSOLE=open)', async () => {
    expect((await get(make(true), '10.1.2.3', 'console.example:9464')).status).to.equal(200);
  });
});
