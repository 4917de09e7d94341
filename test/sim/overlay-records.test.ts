import { describe, expect, it } from 'vitest';
import type { OverlayEvent, RequestResult } from '../../src/core/overlay/node.ts';
import type { ValueValidator } from '../../src/core/records/types.ts';
import { growOverlay, storeAll, testValue, underReplicated } from './sim-helpers.ts';
import { acceptAllValidator, SimNetwork, seededRandom, trueHolders } from './sim-network.ts';

const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

function small(seed: number, n = 20, validator: ValueValidator = acceptAllValidator): SimNetwork {
  const net = new SimNetwork({ seed, validator });
  growOverlay(net, n, 10, 6000, seededRandom(seed + 1));
  return net;
}

function result(net: SimNetwork, peer: number, id: number): RequestResult | undefined {
  return net.peers[peer].results.get(id);
}

describe('overlay simulation: records', () => {
  it('stores, fetches and stats through the responsible peer; newer storage time wins', () => {
    const net = small(60);
    const v1 = testValue('101@office', 'old', 1000);
    const v2 = testValue('101@office', 'new', 2000);
    const s1 = net.command(3, (n, now) => n.storeValues(now, [v2]));
    net.runFor(1000);
    expect(result(net, 3, s1)).toMatchObject({ ok: true, op: 'store', copies: 3, outcomes: [{ ok: true }] });
    const s2 = net.command(5, (n, now) => n.storeValues(now, [v1]));
    net.runFor(1000);
    expect(result(net, 5, s2)).toMatchObject({
      ok: true,
      op: 'store',
      outcomes: [{ ok: false, code: 'stale' }],
    });
    const f = net.command(9, (n, now) => n.fetch(now, v1.resourceId));
    const st = net.command(9, (n, now) => n.stat(now, v1.resourceId, 'TEST'));
    net.runFor(1000);
    const fr = result(net, 9, f);
    expect(fr?.ok && fr.op === 'fetch' && fr.values.map((v) => text(v.value))).toEqual(['new']);
    expect(result(net, 9, st)).toMatchObject({
      ok: true,
      op: 'stat',
      meta: [{ kind: 'TEST', storageTime: 2000, size: 3 }],
    });
    const holders = trueHolders(net.trueRing(), v1.resourceId);
    for (const h of holders) expect(text(h.store.get(v1.resourceId, net.now)[0]?.value)).toBe('new');
  });

  it('refuses values the validator refuses, on store and on fetch', () => {
    const refuseForged: ValueValidator = {
      validate: (v) =>
        v.key === 'forged' ? { ok: false, code: 'bad-signature', reason: 'forged signature' } : { ok: true },
    };
    const net = small(61, 20, refuseForged);
    const forged = { ...testValue('102@office', 'evil', 1000), model: 'dictionary' as const, key: 'forged' };
    const s = net.command(2, (n, now) => n.storeValues(now, [forged]));
    net.runFor(1000);
    expect(result(net, 2, s)).toMatchObject({
      ok: true,
      op: 'store',
      copies: 0,
      outcomes: [{ ok: false, code: 'bad-signature' }],
    });
    for (const p of net.peers) expect(p.store.get(forged.resourceId, net.now)).toEqual([]);
    // A holder that was poisoned behind the overlay's back: the fetching peer still refuses the value.
    const responsible = trueHolders(net.trueRing(), forged.resourceId)[0];
    responsible.store.put(forged);
    const asker = net.peers.find((p) => p !== responsible)!;
    const f = net.command(asker.index, (n, now) => n.fetch(now, forged.resourceId));
    net.runFor(1000);
    expect(result(net, asker.index, f)).toMatchObject({ ok: true, op: 'fetch', values: [], rejected: 1 });
    expect(asker.events.some((e) => e.type === 'invalid-value')).toBe(true);
  });

  it('notifies watchers on change, also after the responsible peer crashed', () => {
    const net = small(62);
    const name = '103@office';
    const first = testValue(name, 'available', 1000);
    const watcher = 4;
    const w = net.peers[watcher].node.watch(net.now, first.resourceId, 60_000);
    net.command(watcher, () => ({ requestId: w.requestId, effects: w.effects }));
    net.runFor(500);
    expect(result(net, watcher, w.requestId)).toMatchObject({ ok: true, op: 'watch' });
    const notes = () =>
      net.peers[watcher].events.filter(
        (e): e is Extract<OverlayEvent, { type: 'watch-notify' }> => e.type === 'watch-notify',
      );
    net.command(7, (n, now) => n.storeValues(now, [first]));
    net.runFor(1000);
    expect(notes().map((e) => text(e.values[0]?.value))).toEqual(['available']);

    const responsible = trueHolders(net.trueRing(), first.resourceId)[0];
    expect(responsible.index).not.toBe(watcher);
    net.crash(responsible.index);
    net.runFor(6000);
    const storer = net.livePeers().find((p) => p.index !== watcher)!;
    net.command(storer.index, (n, now) => n.storeValues(now, [testValue(name, 'on-a-call', 2000)]));
    net.runFor(3000);
    expect(notes().map((e) => text(e.values[0]?.value))).toEqual(['available', 'on-a-call']);
  });

  it('hands records to a joining peer and to the successor of a leaving peer', () => {
    const rng = seededRandom(64);
    const net = small(63, 30);
    const values = Array.from({ length: 60 }, (_, i) => testValue(`u${i}@office`, `c${i}`, 1000));
    storeAll(net, values, rng);
    for (let i = 0; i < 5; i++) net.addPeer(0);
    net.runFor(200);
    // Right after admission, each newcomer already holds the records of the range it took.
    for (const p of net.peers.slice(30)) {
      expect(p.node.joined).toBe(true);
      for (const v of values) {
        if (p.node.table.responsibleFor(v.resourceId))
          expect(p.store.get(v.resourceId, net.now).length).toBe(1);
      }
    }
    net.runFor(5000);
    expect(underReplicated(net, values)).toEqual([]);
    const leaver = net.peers[10];
    net.leave(10);
    // Its neighbours know at once (Leave), everyone soon after (gossip).
    net.runFor(100);
    for (const id of leaver.node.table.successors().slice(0, 3))
      expect(net.peers.find((q) => q.id === id)!.node.table.get(leaver.id)?.status).toBe('left');
    expect(
      net.runUntilTrue(
        () => net.livePeers().every((q) => q.node.table.get(leaver.id)?.status !== 'alive'),
        10_000,
      ),
    ).not.toBeNull();
    expect(net.runUntilTrue(() => underReplicated(net, values).length === 0, 10_000)).not.toBeNull();
  });

  it('drops looping and expired requests with a logged reason, and closes links on malformed frames', () => {
    const net = small(65, 10);
    const p = net.peers[3];
    const other = net.peers[5];
    const req = {
      t: 'req' as const,
      from: other.node.me,
      tx: 1,
      origin: other.node.me,
      key: '0'.repeat(32),
      ttl: 5,
      via: [other.id, p.id],
      body: { op: 'lookup' as const },
    };
    const loop = p.node.receive(net.now, other.address, req);
    expect(loop).toContainEqual({
      type: 'event',
      event: expect.objectContaining({ type: 'dropped', reason: 'loop' }),
    });
    const ttl = p.node.receive(net.now, other.address, { ...req, via: [other.id], ttl: 0 });
    expect(ttl).toContainEqual({
      type: 'event',
      event: expect.objectContaining({ type: 'dropped', reason: 'ttl' }),
    });
    const bad = p.node.receiveFrame(
      net.now,
      other.address,
      new Uint8Array([0, 0, 0, 4, 1, 0xa1, 0xff, 0x00]),
    );
    expect(bad).toContainEqual(expect.objectContaining({ type: 'close-link', peer: other.address }));
  });
});
