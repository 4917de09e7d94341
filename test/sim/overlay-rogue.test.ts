// Rogue writers against the real validator: an office of simulated peers whose storing and fetching
// peers check every value with OfficeValueValidator (certificates from a real office CA, RSA
// signatures through node:crypto). The links' mutual TLS, which keeps a certless peer from reading at
// all, is proven with real sockets in test/unit/overlay-link and test/overlay-processes.
import { describe, expect, it } from 'vitest';
import type { RequestResult } from '../../src/core/overlay/node.ts';
import type { StoredValue, ValueValidator } from '../../src/core/records/types.ts';
import { nodeSignatureProvider } from '../../src/core/security/signature-provider.ts';
import { ValueSigner } from '../../src/core/security/value-signing.ts';
import { OfficeValueValidator } from '../../src/core/security/value-validator.ts';
import { issuePeerCert, makeCa, selfSignedPeerCert, type TestPeerCert } from '../helpers/certs.ts';
import { growOverlay } from './sim-helpers.ts';
import { SimNetwork, seededRandom, trueHolders } from './sim-network.ts';

// The simulator's clock starts at 0; certificates are valid around the real date of the test run.
const EPOCH = Date.now();
const LIFETIME = 60_000;

function signer(c: TestPeerCert): ValueSigner {
  return new ValueSigner(
    { nodeId: c.nodeId, user: c.user, certificate: c.certPem },
    c.keyPem,
    nodeSignatureProvider(),
  );
}

function officeValidator(caPem: string): ValueValidator {
  const real = new OfficeValueValidator({ caCertificatePem: caPem, signatures: nodeSignatureProvider() });
  return { validate: (v, now, existing) => real.validate(v, EPOCH + now, existing) };
}

const presenceWrite = (s: ValueSigner, name: string, state: string, at: number): StoredValue =>
  s.sign({
    resourceName: name,
    kind: 'PRESENCE',
    value: new TextEncoder().encode(JSON.stringify({ state })),
    storageTime: EPOCH + at,
    lifetime: LIFETIME,
  });

function outcome(r: RequestResult | undefined) {
  return r?.ok && r.op === 'store' ? r.outcomes[0] : r;
}

describe('overlay simulation: rogue writers meet the real validator', () => {
  const ca = makeCa('office');
  const alice = issuePeerCert(ca, { user: '101@office' });
  const bob = issuePeerCert(ca, { user: '102@office' });
  const rogue = selfSignedPeerCert('101@office');
  const foreign = issuePeerCert(makeCa('other office'), { user: '101@office' });

  const net = new SimNetwork({ seed: 90, validator: officeValidator(ca.certPem) });
  growOverlay(net, 30, 10, 6000, seededRandom(91));

  function store(from: number, v: StoredValue) {
    const id = net.command(from, (n, now) => n.storeValues(now, [v]));
    net.runFor(1500);
    return outcome(net.peers[from].results.get(id));
  }
  const heldAnywhere = (v: StoredValue) =>
    net.peers.some((p) => p.store.get(v.resourceId, net.now).length > 0);

  it('stores a value signed by its owner on 3 peers', () => {
    const v = presenceWrite(signer(alice), '101@office', 'available', 1000);
    const o = store(3, v);
    expect(o, JSON.stringify(o)).toMatchObject({ ok: true });
    const holders = trueHolders(net.trueRing(), v.resourceId);
    for (const h of holders) expect(h.store.get(v.resourceId, net.now)).toHaveLength(1);
  });

  it('refuses a self-signed certificate, a foreign office, a forged signature and another user', () => {
    const cases: Array<[string, StoredValue, string]> = [
      ['self-signed', presenceWrite(signer(rogue), '101@office', 'away', 2000), 'forbidden|bad-signature'],
      ['foreign CA', presenceWrite(signer(foreign), '101@office', 'dnd', 2000), 'forbidden|bad-signature'],
      ['other user', presenceWrite(signer(bob), '101@office', 'away', 2000), 'forbidden'],
    ];
    const good = presenceWrite(signer(alice), '101@office', 'away', 2000);
    const forged = { ...good, value: new TextEncoder().encode(JSON.stringify({ state: 'dnd' })) };
    cases.push(['forged signature', forged, 'bad-signature']);
    for (const [label, value, codes] of cases) {
      const o = store(7, value) as { ok: boolean; code?: string; reason?: string };
      expect(o.ok, label).toBe(false);
      expect(o.code, label).toMatch(new RegExp(codes));
      expect(o.reason, label).toBeTruthy();
      console.log(`${label}: refused (${o.code}) ${o.reason}`);
      const holders = trueHolders(net.trueRing(), value.resourceId);
      for (const h of holders) {
        const held = h.store
          .get(value.resourceId, net.now)
          .map((x) => JSON.parse(new TextDecoder().decode(x.value)).state);
        expect(held, label).toEqual(['available']);
      }
    }
    expect(heldAnywhere(presenceWrite(signer(bob), '102@office', 'away', 1))).toBe(false);
  });

  it('a poisoned holder cannot make a fetching peer accept a forged value', () => {
    const v = presenceWrite(signer(rogue), '102@office', 'away', 3000);
    for (const h of trueHolders(net.trueRing(), v.resourceId)) h.store.put(v);
    const asker = net.peers.find((p) => !trueHolders(net.trueRing(), v.resourceId).includes(p))!;
    const id = net.command(asker.index, (n, now) => n.fetch(now, v.resourceId));
    net.runFor(1500);
    const r = asker.results.get(id);
    expect(r).toMatchObject({ ok: true, op: 'fetch', values: [] });
    expect(r?.ok && r.op === 'fetch' && r.rejected).toBeGreaterThan(0);
  });
});
