// What a watcher makes of PRESENCE values: the newest live one, offline when tombstoned, expired or
// malformed; when the view changes by time alone; and the MWI counts of VOICEMAIL metadata.
import { describe, expect, it } from 'vitest';
import { encodeJson } from '../../src/core/records/kinds.ts';
import type { StoredValue } from '../../src/core/records/types.ts';
import { mailboxCounts } from '../../src/main/pbx/event-server.ts';
import { presenceExpiry, presenceViewOf, samePresence } from '../../src/main/presence/presence-view.ts';

function value(o: Partial<StoredValue> & { json?: unknown; raw?: Uint8Array }): StoredValue {
  return {
    kind: 'PRESENCE',
    key: '',
    exists: true,
    storageTime: 1000,
    lifetime: 12_000,
    value: o.raw ?? encodeJson(o.json ?? { state: 'available' }),
    ...o,
  } as StoredValue;
}

describe('presenceViewOf', () => {
  it('reads the live record with its note and since', () => {
    const v = presenceViewOf([value({ json: { state: 'dnd', note: 'lunch', since: 900 } })], 5000);
    expect(v).toEqual({ state: 'dnd', note: 'lunch', since: 900 });
    expect(presenceViewOf([value({ json: { state: 'on-call' } })], 5000)).toEqual({
      state: 'on-call',
      since: 1000,
    });
  });

  it('is offline with no record, a tombstone, an expired record or a malformed one', () => {
    expect(presenceViewOf([], 5000)).toEqual({ state: 'offline', since: 0 });
    expect(presenceViewOf([value({ exists: false, storageTime: 4000 })], 5000)).toEqual({
      state: 'offline',
      since: 4000,
    });
    expect(presenceViewOf([value({})], 13_000)).toEqual({ state: 'offline', since: 13_000 });
    for (const bad of [
      value({ json: { state: 'sleeping' } }),
      value({ json: [1, 2] }),
      value({ raw: encodeJson(null) }),
      value({ raw: new Uint8Array([0xff, 0xfe]) }),
    ])
      expect(presenceViewOf([bad], 5000).state).toBe('offline');
  });

  it('ignores other kinds and picks the newest live value', () => {
    const v = presenceViewOf(
      [
        value({ json: { state: 'away' }, storageTime: 2000 }),
        value({ json: { state: 'ringing' }, storageTime: 3000 }),
        value({ kind: 'SIP-REGISTRATION', json: { state: 'dnd' }, storageTime: 4000 }),
      ],
      5000,
    );
    expect(v.state).toBe('ringing');
  });

  it('tells when time alone changes the view', () => {
    expect(presenceExpiry([value({})], 5000)).toBe(13_000);
    expect(presenceExpiry([value({})], 13_000)).toBeNull();
    expect(presenceExpiry([value({ exists: false })], 5000)).toBeNull();
    expect(samePresence(null, { state: 'available', since: 1 })).toBe(false);
    expect(samePresence({ state: 'dnd', since: 1 }, { state: 'dnd', since: 2 })).toBe(true);
    expect(samePresence({ state: 'dnd', since: 1 }, { state: 'dnd', note: 'x', since: 1 })).toBe(false);
  });
});

describe('mailboxCounts (MWI from VOICEMAIL metadata)', () => {
  it('counts live entries by heard, skipping tombstones, expired and malformed ones', () => {
    const vm = (o: Partial<StoredValue> & { json?: unknown; raw?: Uint8Array }) =>
      value({ kind: 'VOICEMAIL', ...o });
    const counts = mailboxCounts(
      [
        vm({ key: 'a', json: { heard: false } }),
        vm({ key: 'b', json: { heard: false } }),
        vm({ key: 'c', json: { heard: true } }),
        vm({ key: 'd', json: { heard: false }, exists: false }),
        vm({ key: 'e', json: { heard: false }, lifetime: 10 }),
        vm({ key: 'f', json: { heard: 'no' } }),
        vm({ key: 'g', raw: new Uint8Array([1, 2, 3]) }),
        value({ json: { heard: false } }), // a PRESENCE value at the same resource
      ],
      'sip:201@office',
      5000,
    );
    expect(counts).toEqual({ account: 'sip:201@office', newMessages: 2, oldMessages: 1 });
  });
});
