import { describe, expect, it } from 'vitest';
import type { StoredValue } from '../../src/core/records/types.ts';
import { growOverlay, storeAll, testValue, underReplicated } from './sim-helpers.ts';
import { SimNetwork, seededRandom, trueHolders } from './sim-network.ts';

describe('overlay simulation: partition and heal', () => {
  it('a split into two halves and a heal converge with no acknowledged record lost', () => {
    const rng = seededRandom(71);
    const net = new SimNetwork({ seed: 70 });
    net.keepEvents = false;
    const N = 200;
    growOverlay(net, N, 10, 8000, rng);
    const before = Array.from({ length: 60 }, (_, i) => testValue(`pre${i}@office`, `p${i}`, net.now));
    storeAll(net, before, rng);

    const half = new Set(net.peers.map((p) => p.index).filter(() => rng() < 0.5));
    net.partition([[...half], net.peers.map((p) => p.index).filter((i) => !half.has(i))]);
    // Both halves detect the split (neighbours in seconds, whole views by gossip) and form own rings.
    const inA = (i: number) => half.has(i);
    const split = net.runUntilTrue(
      () =>
        net
          .livePeers()
          .every(
            (p) =>
              p.node.table.liveCount ===
              net.livePeers().filter((q) => inA(q.index) === inA(p.index)).length - 1,
          ),
      40_000,
      1000,
    );
    expect(split).not.toBeNull();

    // Each half keeps working: new records and conflicting writes of the same slot on both sides.
    const acked: StoredValue[] = [];
    const sideA = net.livePeers().filter((p) => half.has(p.index));
    const sideB = net.livePeers().filter((p) => !half.has(p.index));
    const writes: { peer: (typeof sideA)[number]; v: StoredValue; id: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const side = i % 2 === 0 ? sideA : sideB;
      const peer = side[Math.floor(rng() * side.length)];
      const v = testValue(`split${i}@office`, `s${i}`, net.now + i);
      writes.push({ peer, v, id: net.command(peer.index, (n, now) => n.storeValues(now, [v])) });
    }
    const older = testValue('conflict@office', 'older', net.now + 100);
    const newer = testValue('conflict@office', 'newer', net.now + 200);
    writes.push({
      peer: sideA[0],
      v: older,
      id: net.command(sideA[0].index, (n, now) => n.storeValues(now, [older])),
    });
    writes.push({
      peer: sideB[0],
      v: newer,
      id: net.command(sideB[0].index, (n, now) => n.storeValues(now, [newer])),
    });
    net.runFor(5000);
    for (const w of writes) {
      const r = w.peer.results.get(w.id);
      if (r?.ok && r.op === 'store' && r.outcomes[0].ok) acked.push(w.v);
    }
    expect(acked.length).toBeGreaterThanOrEqual(40);

    net.heal();
    const all = [...before, ...acked.filter((v) => v !== older)];
    const healed = net.runUntilTrue(
      () =>
        net.livePeers().every((p) => p.node.table.liveCount === N - 1) &&
        underReplicated(net, all).length === 0,
      120_000,
      1000,
    );
    expect(healed).not.toBeNull();
    // The newer write of the conflicting slot won everywhere it is held.
    for (const h of trueHolders(net.trueRing(), newer.resourceId)) {
      expect(new TextDecoder().decode(h.store.get(newer.resourceId, net.now)[0].value)).toBe('newer');
    }
  }, 120_000);
});
