import { describe, expect, it } from 'vitest';
import { growOverlay } from './sim-helpers.ts';
import { SimNetwork, seededRandom, successorIndex } from './sim-network.ts';

function randomKey(rng: () => number): string {
  let s = '';
  for (let i = 0; i < 4; i++)
    s += Math.floor(rng() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return s;
}

describe('overlay simulation: join and lookup', () => {
  it('1,000 peers join, views converge, and 10,000 random lookups all reach the responsible peer in one hop', () => {
    const net = new SimNetwork({ seed: 11 });
    net.keepEvents = false;
    growOverlay(net, 1000, 10, 5000, seededRandom(12));
    // Membership converges by gossip and view exchange: every peer knows every peer.
    const converged = net.runUntilTrue(
      () => net.livePeers().every((p) => p.node.table.liveCount === 999),
      30_000,
      1000,
    );
    expect(converged).not.toBeNull();
    const ring = net.trueRing();
    expect(ring.length).toBe(1000);
    // Every peer's successor and predecessor agree with the global truth.
    ring.forEach((p, i) => {
      expect(p.node.table.successors()[0]).toBe(ring[(i + 1) % ring.length].id);
      expect(p.node.table.predecessors()[0]).toBe(ring[(i + ring.length - 1) % ring.length].id);
    });

    const rng = seededRandom(13);
    const reqs = [];
    for (let i = 0; i < 10_000; i++) {
      const p = ring[Math.floor(rng() * ring.length)];
      const key = randomKey(rng);
      reqs.push({ p, key, id: net.command(p.index, (n, now) => n.lookup(now, key)) });
    }
    net.runFor(3000);
    let hops = 0;
    let remote = 0;
    for (const r of reqs) {
      const res = r.p.results.get(r.id);
      expect(res?.ok && res.op === 'lookup').toBe(true);
      if (!res?.ok || res.op !== 'lookup') continue;
      expect(res.responsible).toBe(ring[successorIndex(ring, r.key)].id);
      if (res.hops > 0) {
        hops += res.hops;
        remote++;
      }
    }
    // Lookups that leave the origin go straight to the responsible peer.
    expect(hops / remote).toBe(1);
  }, 150_000);

  it('is reproducible: the same seed gives the same trace hash, another seed another', () => {
    const run = (seed: number) => {
      const net = new SimNetwork({ seed, loss: 0.02 });
      growOverlay(net, 60, 10, 3000, seededRandom(seed + 1));
      return net.traceHash();
    };
    const a = run(5);
    expect(run(5)).toBe(a);
    expect(run(6)).not.toBe(a);
  });

  it('carries every message through the frame codec (wire mode) and still converges', () => {
    const net = new SimNetwork({ seed: 21, wire: true });
    growOverlay(net, 40, 10, 5000, seededRandom(22));
    const ring = net.trueRing();
    expect(ring.length).toBe(40);
    ring.forEach((p, i) => {
      expect(p.node.table.successors()[0]).toBe(ring[(i + 1) % ring.length].id);
    });
  });
});
