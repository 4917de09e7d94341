// The certificates this module issues must work for the overlay's mutual TLS in Node: SHA-256
// signatures, CA flags, key usages and EKUs all acceptable to OpenSSL.

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { makeOffice, type TestPeer } from './fixtures.ts';

const office = makeOffice();
const server = office.enroll('101@office');
const client = office.enroll('102@office');
const stranger = makeOffice('office').enroll('103@office');

const servers: tls.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function listen(): Promise<number> {
  const s = tls.createServer({
    key: server.keyPair.privateKeyPem,
    cert: server.certificatePem,
    ca: office.ca.certificatePem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
  });
  s.on('secureConnection', (sock) => sock.end('hello'));
  s.on('tlsClientError', () => {});
  servers.push(s);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as AddressInfo).port;
}

function connect(port: number, as: TestPeer): Promise<{ ok: boolean; san?: string; error?: string }> {
  return new Promise((resolve) => {
    const sock = tls.connect({
      host: '127.0.0.1',
      port,
      key: as.keyPair.privateKeyPem,
      cert: as.certificatePem,
      ca: office.ca.certificatePem,
      // Peers are named by Node-ID, not host name: identity is checked from the SAN URIs instead.
      checkServerIdentity: () => undefined,
    });
    sock.on('data', () => {
      resolve({ ok: true, san: sock.getPeerCertificate().subjectaltname });
      sock.destroy();
    });
    sock.on('error', (e) => resolve({ ok: false, error: e.message }));
    sock.on('close', () => resolve({ ok: false, error: 'closed' }));
  });
}

describe('office certificates in Node TLS', () => {
  it('two office peers complete mutual TLS and see each other’s identity', async () => {
    const port = await listen();
    const r = await connect(port, client);
    expect(r.ok).toBe(true);
    expect(r.san).toContain(`URI:urn:peerpbx:node:${server.nodeId}`);
  });

  it('a peer with another office’s certificate is refused at the handshake', async () => {
    const port = await listen();
    const r = await connect(port, stranger);
    expect(r.ok).toBe(false);
  });
});
