import { describe, expect, it } from 'vitest';
import {
  decodeRegistration,
  encodeRegistration,
  liveContacts,
  type RegistrationContact,
  RegistrationPublisher,
  refreshAt,
  registrationRemoval,
  registrationWrite,
} from '../../../src/core/pbx/registration-record.ts';
import { KINDS } from '../../../src/core/records/kinds.ts';
import type { StoredValue } from '../../../src/core/records/types.ts';
import { unsignedValue, type ValueWrite } from '../../../src/core/security/value-signing.ts';

const NODE_A = 'a'.repeat(32);
const NODE_B = 'b'.repeat(32);

function contact(nodeId: string, extra: Partial<RegistrationContact> = {}): RegistrationContact {
  return {
    uri: 'sip:101@10.0.0.5:5060',
    transport: 'UDP',
    expires: 200_000,
    nodeId,
    deskPhone: false,
    ...extra,
  };
}

/** A fake signer: the value ValueSigner would build, with a dummy signature (no crypto). */
function sign(w: ValueWrite): StoredValue {
  const signer = { nodeId: NODE_A, user: '101@office', certificate: '' };
  return { ...unsignedValue(w, signer), signature: new Uint8Array([1]) };
}

describe('SIP-REGISTRATION value', () => {
  it('round-trips and passes the kind check', () => {
    const v = {
      contacts: [
        contact(NODE_A, {
          q: 0.7,
          instance: '<urn:uuid:1>',
          deskPhone: true,
          gatewaySipAddress: 'sip:10.0.0.1:5060',
        }),
      ],
      displayName: 'Alice',
    };
    const bytes = encodeRegistration(v);
    expect(decodeRegistration(bytes)).toEqual({ ok: true, value: v });
    expect(KINDS['SIP-REGISTRATION'].check(bytes)).toBeNull();
  });

  it('refuses hostile shapes without throwing', () => {
    const bad = [
      'not json',
      '[]',
      '{"contacts":{}}',
      '{"contacts":[{"uri":"http://x","expires":1,"nodeId":"a","deskPhone":false}]}',
      '{"contacts":[{"uri":"sip:x","expires":"1","nodeId":"a","deskPhone":false}]}',
      '{"contacts":[{"uri":"sip:x","expires":1,"nodeId":"a","deskPhone":false,"q":7}]}',
      '{"contacts":[{"uri":"sip:x","expires":1,"nodeId":"a","deskPhone":false,"transport":"SCTP"}]}',
      '{"contacts":[null]}',
    ];
    for (const b of bad) expect(decodeRegistration(new TextEncoder().encode(b)).ok).toBe(false);
    expect(decodeRegistration(new Uint8Array([0xff, 0xfe])).ok).toBe(false);
  });

  it('builds the write (dictionary key = Node-ID, lifetime) and the tombstone', () => {
    const w = registrationWrite({
      extension: '101',
      office: 'office',
      nodeId: NODE_A,
      contacts: [contact(NODE_A)],
      now: 5,
    });
    expect(w).toMatchObject({
      resourceName: '101@office',
      kind: 'SIP-REGISTRATION',
      key: NODE_A,
      exists: true,
      storageTime: 5,
      lifetime: 120_000,
    });
    const r = registrationRemoval({ extension: '101', office: 'office', nodeId: NODE_A, now: 9 });
    expect(r).toMatchObject({ key: NODE_A, exists: false, storageTime: 9 });
    expect(refreshAt(1000)).toBe(61_000);
  });

  it('liveContacts drops tombstones, expired values and contacts, foreign contacts; sorts by q', () => {
    const now = 100_000;
    const good = sign(
      registrationWrite({
        extension: '101',
        office: 'office',
        nodeId: NODE_A,
        contacts: [
          contact(NODE_A, { q: 0.2 }),
          contact(NODE_A, { uri: 'sip:101@10.0.0.9', q: 0.9 }),
          contact(NODE_A, { expires: now }),
        ],
        now: 50_000,
      }),
    );
    const forged = sign(
      registrationWrite({
        extension: '101',
        office: 'office',
        nodeId: NODE_B,
        contacts: [contact(NODE_A)],
        now: 50_000,
      }),
    );
    const expired = sign(
      registrationWrite({
        extension: '101',
        office: 'office',
        nodeId: NODE_B,
        contacts: [contact(NODE_B)],
        now: 0,
        lifetime: 1000,
      }),
    );
    const tomb = sign(
      registrationRemoval({ extension: '101', office: 'office', nodeId: NODE_B, now: 60_000 }),
    );
    const garbage = { ...good, key: NODE_B, value: new TextEncoder().encode('{') };
    const bad: string[] = [];
    const out = liveContacts([good, forged, expired, tomb, garbage], now, (_v, e) => bad.push(e));
    expect(out.map((c) => [c.uri, c.q])).toEqual([
      ['sip:101@10.0.0.9', 0.9],
      ['sip:101@10.0.0.5:5060', 0.2],
    ]);
    expect(bad).toHaveLength(1);
  });
});

describe('RegistrationPublisher', () => {
  it('publishes, refreshes at 50%, drops expired contacts and tombstones on shutdown', () => {
    const pub = new RegistrationPublisher({ office: 'office', nodeId: NODE_A }, sign);
    pub.set(
      '101',
      [contact(NODE_A, { expires: 100_000 }), contact(NODE_A, { uri: 'sip:101@10.0.0.7', expires: 1e12 })],
      0,
      'Alice',
    );
    let e = pub.drain();
    expect(e.map((x) => x.type)).toEqual(['store', 'set-timer']);
    expect(e[1]).toEqual({ type: 'set-timer', id: 'reg-pub/101', at: 60_000 });
    const first = e[0].type === 'store' ? decodeRegistration(e[0].value.value) : null;
    expect(first?.ok && first.value.contacts).toHaveLength(2);

    pub.timerFired('reg-pub/101', 60_000);
    e = pub.drain();
    expect(e.map((x) => x.type)).toEqual(['store', 'set-timer']);
    pub.timerFired('reg-pub/101', 120_000);
    e = pub.drain();
    const refreshed = e[0].type === 'store' ? e[0].value : null;
    expect(refreshed?.storageTime).toBe(120_000);
    const dec = refreshed ? decodeRegistration(refreshed.value) : null;
    expect(dec?.ok && dec.value.contacts.map((c) => c.uri)).toEqual(['sip:101@10.0.0.7']);

    pub.removeAll(130_000);
    e = pub.drain();
    expect(e[0]).toEqual({ type: 'cancel-timer', id: 'reg-pub/101' });
    expect(e[1].type === 'store' && e[1].value.exists).toBe(false);
    expect(pub.size).toBe(0);
    pub.timerFired('reg-pub/101', 180_000);
    expect(pub.drain()).toEqual([]);
  });

  it('republishAll writes every registration again at once and restarts its refresh timer', () => {
    const pub = new RegistrationPublisher({ office: 'office', nodeId: NODE_A }, sign);
    pub.set('101', [contact(NODE_A)], 0);
    pub.set('201', [contact(NODE_A, { uri: 'sip:201@10.0.0.9' })], 0);
    pub.drain();
    pub.republishAll(5_000);
    const e = pub.drain();
    const stores = e.filter((x) => x.type === 'store');
    expect(stores.map((x) => x.type === 'store' && x.aor).sort()).toEqual(['101', '201']);
    expect(stores.every((x) => x.type === 'store' && x.value.exists && x.value.storageTime === 5_000)).toBe(
      true,
    );
    expect(e.filter((x) => x.type === 'set-timer').map((x) => x.type === 'set-timer' && x.at)).toEqual([
      65_000, 65_000,
    ]);
  });

  it('setting an empty contact list removes; a refresh with every contact expired tombstones', () => {
    const pub = new RegistrationPublisher({ office: 'office', nodeId: NODE_A }, sign);
    pub.set('101', [contact(NODE_A, { expires: 10_000 })], 0);
    pub.drain();
    pub.timerFired('reg-pub/101', 60_000);
    const e = pub.drain();
    expect(e.find((x) => x.type === 'store' && !x.value.exists)).toBeDefined();
    pub.set('102', [contact(NODE_A)], 0);
    pub.set('102', [], 1);
    expect(
      pub
        .drain()
        .filter((x) => x.type === 'store')
        .map((x) => x.type === 'store' && x.value.exists),
    ).toEqual([true, false]);
  });
});
