// Bootstrap by address: host:port parsing and the identity probe over mutual TLS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostPort, probeNodeId } from '../../../src/main/overlay/address-probe.ts';
import { issuePeerCert, makeCa, type TestCa, type TestPeerCert } from '../../helpers/certs.ts';
import { freePort } from '../../helpers/ports.ts';
import { type Peer, startPeer } from '../overlay-link/fixtures.ts';

describe('parseHostPort', () => {
  it('accepts host:port and [v6]:port', () => {
    expect(parseHostPort('127.0.0.1:5070')).toEqual({ host: '127.0.0.1', port: 5070 });
    expect(parseHostPort(' pc-7.local:1 ')).toEqual({ host: 'pc-7.local', port: 1 });
    expect(parseHostPort('[fe80::1]:6084')).toEqual({ host: 'fe80::1', port: 6084 });
  });
  it('refuses what is not an address', () => {
    for (const s of ['', '127.0.0.1', ':5070', 'host:0', 'host:65536', 'host:12ab', 'fe80::1:6084', 'a:b:1'])
      expect(parseHostPort(s), s).toBeNull();
  });
});

describe('probeNodeId', () => {
  let ca: TestCa;
  let me: TestPeerCert;
  let server: Peer;
  beforeAll(async () => {
    ca = makeCa('Probe Office');
    me = issuePeerCert(ca, { user: '101@office' });
    server = await startPeer(ca, issuePeerCert(ca, { user: '102@office' }));
  });
  afterAll(() => server.mgr.stop());

  const probe = (port: number, cert = me, extra: { signal?: AbortSignal } = {}) =>
    probeNodeId({
      host: '127.0.0.1',
      port,
      keyPem: cert.keyPem,
      certPem: cert.certPem,
      caPem: ca.certPem,
      ...extra,
    });

  it('learns the Node-ID and user of an office peer at an address', async () => {
    const r = await probe(server.mgr.port);
    expect(r).toEqual({ ok: true, identity: { nodeId: server.cert.nodeId, user: '102@office' } });
  });

  it('fails with a reason when nothing listens', async () => {
    const r = await probe(await freePort());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/ECONNREFUSED/);
  });

  it('fails when the peer refuses our certificate (another CA)', async () => {
    const other = issuePeerCert(makeCa('Elsewhere'), { user: '101@office' });
    const r = await probe(server.mgr.port, other);
    expect(r.ok).toBe(false);
  });

  it('ends at once when aborted', async () => {
    const ac = new AbortController();
    const p = probe(server.mgr.port, me, { signal: ac.signal });
    ac.abort();
    expect(await p).toEqual({ ok: false, reason: 'aborted' });
  });
});
