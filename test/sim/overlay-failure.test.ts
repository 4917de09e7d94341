import { describe, expect, it } from 'vitest';
import type { StoredValue } from '../../src/core/records/types.ts';
import { growOverlay, storeAll, testValue, underReplicated } from './sim-helpers.ts';
import { SimNetwork, seededRandom, trueHolders } from './sim-network.ts';

function converged(net: SimNetwork): boolean {
  const live = net.livePeers();
  return live.every((p) => p.node.table.liveCount === live.length - 1);
}

function makeValues(n: number, t: number, prefix = 'user'): StoredValue[] {
  return Array.from({ length: n }, (_, i) => testValue(`${prefix}${i}@office`, `contact-${i}`, t));
}

describe('overlay simulation: failures and replication', () => {
  it('10% of peers crash at once and every record is back at 3 copies within 30 simulated seconds', () => {
    const rng = seededRandom(31);
    const net = new SimNetwork({ seed: 30 });
    net.keepEvents = false;
    growOverlay(net, 500, 10, 5000, rng);
    expect(net.runUntilTrue(() => converged(net), 30_000, 1000)).not.toBeNull();
    const values = makeValues(300, net.now);
    const reqs = storeAll(net, values, rng);
    for (const { peer, requestId } of reqs.values()) {
      expect(peer.results.get(requestId)).toMatchObject({ ok: true, op: 'store', copies: 3 });
    }
    expect(underReplicated(net, values)).toEqual([]);

    const live = net.livePeers();
    const victims = new Set<number>();
    while (victims.size < 50) victims.add(live[Math.floor(rng() * live.length)].index);
    for (const v of victims) net.crash(v);
    const start = net.now;
    const restoredAt = net.runUntilTrue(() => underReplicated(net, values).length === 0, 30_000, 500);
    expect(restoredAt).not.toBeNull();
    expect(restoredAt! - start).toBeLessThanOrEqual(30_000);
  }, 120_000);

  it('any 2 of a record`s 3 holders crash at once and it is still fetchable', () => {
    for (const [a, b] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ]) {
      const rng = seededRandom(40 + a + b);
      const net = new SimNetwork({ seed: 40 + a * 3 + b });
      growOverlay(net, 60, 10, 8000, rng);
      const values = makeValues(20, net.now, `rec${a}${b}-`);
      storeAll(net, values, rng);
      const v = values[7];
      const holders = trueHolders(net.trueRing(), v.resourceId);
      net.crash(holders[a].index);
      net.crash(holders[b].index);
      const asker = net.livePeers().find((p) => !holders.includes(p))!;
      const id = net.command(asker.index, (n, now) => n.fetch(now, v.resourceId));
      net.runFor(10_000);
      const r = asker.results.get(id);
      expect(r?.ok && r.op === 'fetch' && new TextDecoder().decode(r.values[0]?.value)).toBe('contact-7');
      // And the survivors restore 3 copies.
      expect(net.runUntilTrue(() => underReplicated(net, values).length === 0, 30_000, 500)).not.toBeNull();
    }
  });

  it('still converges with 5% message loss', () => {
    const rng = seededRandom(51);
    const net = new SimNetwork({ seed: 50, loss: 0.05 });
    net.keepEvents = false;
    growOverlay(net, 200, 10, 5000, rng);
    expect(net.runUntilTrue(() => converged(net), 60_000, 1000)).not.toBeNull();
    const ring = net.trueRing();
    ring.forEach((p, i) => {
      expect(p.node.table.successors()[0]).toBe(ring[(i + 1) % ring.length].id);
    });
    const values = makeValues(100, net.now);
    const reqs = storeAll(net, values, rng);
    for (const { peer, requestId } of reqs.values()) expect(peer.results.get(requestId)?.ok).toBe(true);
    expect(net.runUntilTrue(() => underReplicated(net, values).length === 0, 30_000, 500)).not.toBeNull();
    const asks = values.slice(0, 50).map((v) => {
      const p = ring[Math.floor(rng() * ring.length)];
      return { v, p, id: net.command(p.index, (n, now) => n.fetch(now, v.resourceId)) };
    });
    net.runFor(10_000);
    for (const a of asks) {
      const r = a.p.results.get(a.id);
      expect(r?.ok && r.op === 'fetch' && r.values.length).toBe(1);
    }
  }, 120_000);
});
