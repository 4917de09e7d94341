// An extension's presence merged from its own PRESENCE and its desk phones' DEVICE-STATE entries
// (written by their gateways), and the gateway's publisher of those entries.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeJson, encodeJson } from '../../src/core/records/kinds.ts';
import type { StoredValue } from '../../src/core/records/types.ts';
import type { PhoneActivity } from '../../src/core/sip/events/index.ts';
import { createLogger } from '../../src/main/log.ts';
import { DeviceStatePublisher } from '../../src/main/presence/device-state-publisher.ts';
import { mergedExpiry, mergedPresenceViewOf } from '../../src/main/presence/presence-view.ts';

const presence = (state: string, o: Partial<StoredValue> = {}) =>
  ({
    kind: 'PRESENCE',
    key: '',
    exists: true,
    storageTime: 1000,
    lifetime: 12_000,
    value: encodeJson({ state }),
    ...o,
  }) as StoredValue;
const device = (state: string, o: Partial<StoredValue> = {}) =>
  ({
    kind: 'DEVICE-STATE',
    key: 'gw1',
    exists: true,
    storageTime: 2000,
    lifetime: 12_000,
    value: encodeJson({ state, since: 1500 }),
    ...o,
  }) as StoredValue;

describe('mergedPresenceViewOf', () => {
  it('a desk phone ringing or on a call wins over available, dnd and away', () => {
    for (const own of ['available', 'dnd', 'away']) {
      expect(mergedPresenceViewOf([presence(own), device('on-call')], 5000)).toEqual({
        state: 'on-call',
        since: 1500,
      });
      expect(mergedPresenceViewOf([presence(own), device('ringing')], 5000).state).toBe('ringing');
    }
    expect(mergedPresenceViewOf([device('ringing', { key: 'gw2' }), device('on-call')], 5000).state).toBe(
      'on-call',
    );
    // The user's own on-call is not downgraded by a ringing desk phone.
    expect(mergedPresenceViewOf([presence('on-call'), device('ringing')], 5000).state).toBe('on-call');
  });

  it("an idle desk phone keeps the user's choice, and alone makes the extension available", () => {
    expect(mergedPresenceViewOf([presence('dnd'), device('available')], 5000).state).toBe('dnd');
    expect(mergedPresenceViewOf([device('available')], 5000)).toEqual({ state: 'available', since: 1500 });
    expect(mergedPresenceViewOf([presence('away')], 5000).state).toBe('away');
  });

  it('ignores expired, tombstoned and malformed device states', () => {
    expect(mergedPresenceViewOf([device('on-call')], 14_000).state).toBe('offline');
    expect(
      mergedPresenceViewOf([presence('available'), device('on-call', { exists: false })], 5000).state,
    ).toBe('available');
    expect(
      mergedPresenceViewOf(
        [presence('available'), device('x', { value: encodeJson({ state: 'dnd' }) })],
        5000,
      ).state,
    ).toBe('available');
  });

  it('expires at the first live record end of either kind', () => {
    expect(mergedExpiry([presence('available'), device('on-call')], 5000)).toBe(13_000);
    expect(mergedExpiry([device('on-call')], 13_500)).toBe(14_000);
    expect(mergedExpiry([presence('available', { exists: false })], 5000)).toBeNull();
  });
});

describe('DeviceStatePublisher', () => {
  let pub: DeviceStatePublisher | null = null;
  afterEach(async () => {
    await pub?.close();
    pub = null;
  });

  it('publishes changes under its own Node-ID, refreshes, tombstones on unregister and on close', async () => {
    const stored: StoredValue[] = [];
    let t = 0;
    const overlay = {
      nodeId: 'gw-node',
      sign: (resourceName: string, kind: StoredValue['kind'], value: Uint8Array, lifetime: number, o = {}) =>
        ({
          resourceName,
          kind,
          value,
          lifetime,
          key: '',
          exists: true,
          storageTime: ++t,
          ...o,
        }) as StoredValue,
      store: async (vs: StoredValue[]) => {
        stored.push(...vs);
        return { copies: 1 };
      },
    };
    const registered = new Set(['202']);
    let activity: PhoneActivity = null;
    pub = new DeviceStatePublisher({
      overlay,
      office: 'office',
      log: createLogger({ test: 'device-state' }),
      registered: (ext) => registered.has(ext),
      activity: () => activity,
      lifetimeMs: 12_000,
      refreshMs: 60,
    });
    const states = () =>
      stored.map((v) => {
        const d = decodeJson<{ state: string }>(v.value);
        return v.exists && d.ok ? d.value.state : 'tombstone';
      });
    pub.touch('202');
    pub.touch('303'); // not registered here: nothing published
    activity = 'ringing';
    pub.touch('202');
    pub.touch('202'); // unchanged: not stored again
    activity = 'on-call';
    pub.touch('202');
    await vi.waitFor(() => expect(stored.length).toBeGreaterThanOrEqual(3));
    expect(states().slice(0, 3)).toEqual(['available', 'ringing', 'on-call']);
    expect(stored.every((v) => v.key === 'gw-node' && v.resourceName === '202@office')).toBe(true);
    expect(stored.every((v) => v.kind === 'DEVICE-STATE' && v.lifetime === 12_000)).toBe(true);
    await vi.waitFor(() => expect(stored.length).toBeGreaterThanOrEqual(5)); // refreshes
    expect(states().slice(3, 5)).toEqual(['on-call', 'on-call']);
    registered.delete('202');
    await vi.waitFor(() => expect(states().at(-1)).toBe('tombstone'));
    const n = stored.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(stored.length).toBe(n); // gone: no more refreshes
    registered.add('202');
    activity = null;
    pub.touch('202');
    await vi.waitFor(() => expect(states().at(-1)).toBe('available'));
    await pub.close();
    expect(states().at(-1)).toBe('tombstone');
  });
});
