// Registration lifecycle with real processes: a peer keeps refreshing its user's SIP-REGISTRATION
// before the lifetime ends, and a peer that crashes (SIGKILL, no tombstone) drops out of lookups
// once its record's lifetime has passed.
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.ts';
import { newOffice, overlayAddress, type PbxPeer, startPbxPeer, waitForContacts } from './harness.ts';

describe('registration refresh and expiry', () => {
  const peers: PbxPeer[] = [];
  afterAll(async () => {
    await Promise.allSettled(peers.map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
  });

  it('a 3 s registration is refreshed for as long as the peer runs and expires after a crash', async () => {
    const office = newOffice();
    const a = await startPbxPeer({ name: 'a', extension: '101', office });
    peers.push(a);
    const b = await startPbxPeer({
      name: 'b',
      extension: '102',
      office,
      bootstrap: [overlayAddress(a)],
      registrationLifetimeMs: 3000,
    });
    await waitForContacts(a, '102', 1);
    // Two lifetimes later the contact is still there: it was refreshed (at half the lifetime).
    await new Promise((r) => setTimeout(r, 6500));
    expect(await waitForContacts(a, '102', 1)).toHaveLength(1);
    const registered = b.events.filter((e) => e.event === 'pbx' && e.type === 'registered');
    expect(registered.length).toBeGreaterThanOrEqual(4);

    await b.kill9();
    const t0 = Date.now();
    await waitForContacts(a, '102', 0);
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 60_000);
});
