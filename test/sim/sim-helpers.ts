// Shared helpers for the overlay simulations: values, growing an overlay, checking copies.
import { resourceIdFromName } from '../../src/core/overlay/ids.ts';
import type { StoredValue } from '../../src/core/records/types.ts';
import { type SimNetwork, type SimPeer, trueHolders } from './sim-network.ts';

export function testValue(
  name: string,
  data: string,
  storageTime: number,
  lifetime = 24 * 3600_000,
): StoredValue {
  return {
    resourceId: resourceIdFromName(name),
    resourceName: name,
    kind: 'TEST',
    model: 'single',
    key: '',
    value: new TextEncoder().encode(data),
    exists: true,
    storageTime,
    lifetime,
    signer: { nodeId: '0'.repeat(32), user: 'sim@office', certificate: '' },
    signature: new Uint8Array(0),
  };
}

/** Adds `n` peers, one every `spacingMs`, each joining through a random live peer; then settles. */
export function growOverlay(
  net: SimNetwork,
  n: number,
  spacingMs = 10,
  settleMs = 5000,
  rng = Math.random,
): void {
  if (net.peers.length === 0) net.addPeer();
  while (net.peers.length < n) {
    const live = net.peers.filter((p) => p.up);
    const boot = live[Math.floor(rng() * live.length)];
    net.addPeer(boot.index);
    net.runFor(spacingMs);
  }
  net.runFor(settleMs);
}

/** Records whose true holders do not all have them (with the value's storage time or newer). */
export function underReplicated(net: SimNetwork, values: StoredValue[]): StoredValue[] {
  const ring = net.trueRing();
  return values.filter((v) =>
    trueHolders(ring, v.resourceId).some(
      (h) => !h.store.get(v.resourceId, net.now, v.kind, v.key).some((x) => x.storageTime >= v.storageTime),
    ),
  );
}

/** Stores values from random live peers and runs until every store is answered. */
export function storeAll(
  net: SimNetwork,
  values: StoredValue[],
  rng: () => number,
): Map<StoredValue, { peer: SimPeer; requestId: number }> {
  const live = net.livePeers();
  const reqs = new Map<StoredValue, { peer: SimPeer; requestId: number }>();
  for (const v of values) {
    const peer = live[Math.floor(rng() * live.length)];
    reqs.set(v, { peer, requestId: net.command(peer.index, (node, now) => node.storeValues(now, [v])) });
  }
  net.runUntilTrue(() => [...reqs.values()].every((r) => r.peer.results.has(r.requestId)), 30_000);
  return reqs;
}
