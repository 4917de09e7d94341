// The admin peer's enrollment endpoint under hostile input: garbage, oversized lines and forged
// answers never crash it, each gets a refusal or a closed socket, and it keeps serving; the joining
// side refuses an endpoint of another office before sending anything.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { requestEnrollment } from '../../src/main/enrollment/client.ts';
import { codeProof, parseAnswer, parseJoinRequest } from '../../src/main/enrollment/protocol.ts';
import { generatePeerKeys } from '../../src/main/identity/identity.ts';
import { inviteToOffice } from '../../src/main/office/office.ts';
import { startAdminEndpoint } from './admin-endpoint.ts';

process.env.PEERPBX_CA_KDF_ITERATIONS = '2000';
const root = mkdtempSync(join(tmpdir(), 'peerpbx-enroll-'));
const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe('enrollment protocol parsers', () => {
  it('never throw on hostile lines', () => {
    for (const line of [
      '',
      'null',
      '[]',
      '{"type":"join"}',
      '{"type":"join","extension":1,"csr":"x"}',
      '\u0000{',
      '{"type":"join","extension":"1","csr":"x","code":{}}',
    ]) {
      expect(parseJoinRequest(line).ok).toBe(false);
      expect(parseAnswer(line)).toBeNull();
    }
    expect(parseJoinRequest('{"type":"join","extension":"102","csr":"PEM"}')).toMatchObject({ ok: true });
  });

  it('the code proof binds the code, the office and the certificate', () => {
    const p = codeProof('7K3QF-X92MA', 'ab', 'cert');
    expect(codeProof('7k3qf x92ma', 'AB', 'cert')).toBe(p); // normalised, case-insensitive fingerprint
    expect(codeProof('7K3QF-X92MA', 'ac', 'cert')).not.toBe(p);
    expect(codeProof('7K3QF-X92MA', 'ab', 'cert2')).not.toBe(p);
    expect(codeProof('short', 'ab', 'cert')).toBeNull();
  });
});

const adminEndpoint = (name: string) => startAdminEndpoint(join(root, name), name, closers);

function raw(port: number, payload: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => s.write(payload));
    s.on('data', (d) => {
      got += d;
    });
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
  });
}

describe('the admin peer’s enrollment endpoint', () => {
  it('refuses garbage and oversized requests and keeps serving', async () => {
    const a = await adminEndpoint('hostile');
    expect(await raw(a.server.port, 'not json\n')).toMatch(/"refusal":"bad-request"/);
    expect(await raw(a.server.port, `{"type":"join","extension":"102","csr":"${'A'.repeat(70_000)}`)).toBe(
      '',
    );
    expect(
      await raw(a.server.port, '{"type":"join","extension":"102","csr":"garbage","code":"7K3QF-X92MA"}\n'),
    ).toMatch(/"refused"/);
    const { code } = inviteToOffice(a.dir, '102');
    const ok = await requestEnrollment({
      host: '127.0.0.1',
      port: a.server.port,
      extension: '102',
      code,
      keys: generatePeerKeys(),
      caFingerprint: a.identity.caFingerprint,
    });
    expect(ok).toMatchObject({ ok: true, office: 'hostile' });
  }, 30_000);

  it('a PC expecting one office will not enroll at another office’s admin', async () => {
    const mine = await adminEndpoint('mine');
    const other = await adminEndpoint('other');
    const { code } = inviteToOffice(other.dir, '102');
    const r = await requestEnrollment({
      host: '127.0.0.1',
      port: other.server.port,
      extension: '102',
      code,
      keys: generatePeerKeys(),
      caFingerprint: mine.identity.caFingerprint,
    });
    expect(r).toMatchObject({ ok: false, kind: 'wrong-office' });
    // Nothing was sent: the other admin still has the invite unused.
    const again = await requestEnrollment({
      host: '127.0.0.1',
      port: other.server.port,
      extension: '102',
      code,
      keys: generatePeerKeys(),
    });
    expect(again).toMatchObject({ ok: true, office: 'other' });
  }, 30_000);
});
