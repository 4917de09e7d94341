// A member that lies about membership: it gossips fake "alive" members (Node-IDs nobody holds, at
// made-up or borrowed addresses) and false death claims about honest peers. Honest peers take a
// member second-hand only as a candidate (it enters the ring once it contacted them directly) and
// act on a death claim only when their own probe fails; the liar is named in a false-claim event.
import { describe, expect, it } from 'vitest';
import type { GossipEvent, OverlayMessage } from '../../src/core/overlay/messages.ts';
import type { OverlayEvent } from '../../src/core/overlay/node.ts';
import { growOverlay } from './sim-helpers.ts';
import { SimNetwork, type SimPeer, seededRandom, successorIndex } from './sim-network.ts';

const hexId = (rng: () => number) =>
  Array.from({ length: 32 }, () => Math.floor(rng() * 16).toString(16)).join('');

function gossipPing(liar: SimPeer, g: GossipEvent[]): OverlayMessage {
  return { t: 'ping', from: liar.node.me, g, nb: [], wantPong: false };
}

type FalseClaim = Extract<OverlayEvent, { type: 'false-claim' }>;

describe('overlay simulation: a member lying about membership', () => {
  it('fake alive members never enter an honest ring, are never routed to, and the liar is named', () => {
    const rng = seededRandom(301);
    const net = new SimNetwork({ seed: 300 });
    growOverlay(net, 20, 10, 5000, rng);
    const liar = net.peers[0];
    const honest = net.peers.slice(1);
    const claims: FalseClaim[] = [];
    net.onEvent = (_p, e) => {
      if (e.type === 'false-claim') claims.push(e);
    };
    // 40 fakes: half at addresses nobody listens on, half at honest peers' addresses (wrong Node-ID).
    const fakes = Array.from({ length: 40 }, (_, i) => ({
      id: hexId(rng),
      address:
        i % 2 === 0
          ? { transport: 'TLS' as const, host: `10.250.0.${i}`, port: 9 }
          : honest[i % honest.length].address,
      inc: net.now + 1e6,
    }));
    const events: GossipEvent[] = fakes.map((peer) => ({ peer, status: 'alive' }));
    // Gossip piggybacks at most 8 events per message; the liar sends them all, to everyone, twice.
    for (let round = 0; round < 2; round++) {
      for (const h of honest)
        for (let i = 0; i < events.length; i += 8)
          net.inject(0, h.index, gossipPing(liar, events.slice(i, i + 8)));
      net.runFor(1000);
    }
    // ...and as a neighbour list and a view exchange (the other ways members are learned).
    for (const h of honest) {
      net.inject(0, h.index, { t: 'ping', from: liar.node.me, g: [], nb: fakes, wantPong: false });
      net.inject(0, h.index, {
        t: 'view',
        from: liar.node.me,
        buckets: [],
        members: events,
        wantReply: false,
      });
    }
    const fakeIds = new Set(fakes.map((f) => f.id));
    let everListed = 0;
    const end = net.now + 15_000;
    while (net.now < end) {
      net.runFor(250);
      for (const h of honest)
        for (const id of fakeIds) if (h.node.table.get(id)?.status === 'alive') everListed++;
    }
    expect(everListed).toBe(0);
    for (const h of honest) {
      expect(h.node.table.ring.toArray().some((id) => fakeIds.has(id))).toBe(false);
      expect(h.node.table.liveCount).toBe(19);
    }
    // Keys just below each fake id: an honest peer routes them to the true responsible peer.
    const ring = net.trueRing();
    for (const f of fakes.slice(0, 10)) {
      const key = f.id;
      const expected = ring[successorIndex(ring, key)].id;
      const asker = honest[Math.floor(rng() * honest.length)];
      expect(asker.node.table.nextHop(key) === asker.id ? asker.id : asker.node.table.nextHop(key)).toBe(
        expected,
      );
      const id = net.command(asker.index, (n, now) => n.lookup(now, key));
      net.runFor(500);
      const r = asker.results.get(id);
      expect(r?.ok && r.op === 'lookup' && r.responsible).toBe(expected);
    }
    // Each honest peer named the liar for the fakes it could not verify.
    const blamed = claims.filter((c) => c.claim === 'alive' && c.from === liar.id && fakeIds.has(c.about));
    console.log(`fake members: ${blamed.length} false-claim events naming the liar, never listed`);
    expect(new Set(blamed.map((c) => c.about)).size).toBe(fakes.length);
    // The honest peers did not spread the fakes: no honest peer blamed another honest peer.
    expect(claims.filter((c) => c.claim === 'alive' && c.from !== liar.id)).toEqual([]);
  });

  it('a false death claim drops nobody; the liar is named; a real crash is still detected', () => {
    const rng = seededRandom(311);
    const net = new SimNetwork({ seed: 310 });
    growOverlay(net, 20, 10, 5000, rng);
    const liar = net.peers[0];
    const victim = net.peers[7];
    const downs: string[] = [];
    const claims: FalseClaim[] = [];
    net.onEvent = (p, e) => {
      if (e.type === 'peer-down' && e.id === victim.id) downs.push(p.id);
      if (e.type === 'false-claim') claims.push(e);
    };
    // The claim at the victim's current and at a much higher incarnation, to every peer, 5 times.
    for (let round = 0; round < 5; round++) {
      for (const h of net.peers.slice(1)) {
        if (h === victim) continue;
        const g: GossipEvent[] = [
          { peer: victim.node.me, status: 'dead' },
          { peer: { ...victim.node.me, inc: victim.node.me.inc + 1e6 }, status: 'left' },
        ];
        net.inject(0, h.index, gossipPing(liar, g));
      }
      for (let t = 0; t < 8; t++) {
        net.runFor(250);
        for (const h of net.peers) {
          if (h !== victim) expect(h.node.table.get(victim.id)?.status).toBe('alive');
        }
      }
    }
    expect(downs).toEqual([]);
    const refuted = claims.filter((c) => c.from === liar.id && c.about === victim.id && c.claim !== 'alive');
    console.log(`false death claims: ${refuted.length} refuted by probes, naming the liar`);
    expect(new Set(refuted.map((c) => c.about))).toEqual(new Set([victim.id]));
    expect(refuted.length).toBeGreaterThanOrEqual(18);
    // A real crash: the probes fail and every live peer drops it within the detection goal.
    const dead = net.peers[11];
    net.crash(11);
    const t0 = net.now;
    const at = net.runUntilTrue(
      () => net.livePeers().every((q) => q.node.table.get(dead.id)?.status !== 'alive'),
      20_000,
      100,
    );
    expect(at).not.toBeNull();
    console.log(`a real crash is out of every view after ${at! - t0} ms`);
    expect(at! - t0).toBeLessThan(10_000);
  });
});
