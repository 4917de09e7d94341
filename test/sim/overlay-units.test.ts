import { encode } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, FrameReader } from '../../src/core/overlay/frame.ts';
import { GossipQueue } from '../../src/core/overlay/gossip.ts';
import {
  addPowerOfTwo,
  between,
  betweenOpen,
  distance,
  idBefore,
  idFromSeed,
  nodeIdFromPublicKey,
} from '../../src/core/overlay/ids.ts';
import type { OverlayMessage, PeerInfo } from '../../src/core/overlay/messages.ts';
import { RoutingTable } from '../../src/core/overlay/routing-table.ts';
import { SortedIds } from '../../src/core/overlay/sorted-ids.ts';
import { testValue } from './sim-helpers.ts';
import { seededRandom } from './sim-network.ts';

const id = (hexDigit: string) => hexDigit.repeat(32);
const addr = { transport: 'TCP' as const, host: '10.0.0.1', port: 6084 };
const peer = (i: string, inc = 1): PeerInfo => ({ id: i, address: addr, inc });

describe('ring arithmetic', () => {
  it('between is (a, b] and wraps past ff..ff', () => {
    expect(between(id('2'), id('3'), id('5'))).toBe(true);
    expect(between(id('2'), id('5'), id('5'))).toBe(true);
    expect(between(id('2'), id('2'), id('5'))).toBe(false);
    expect(between(id('e'), id('f'), id('1'))).toBe(true);
    expect(between(id('e'), id('0'), id('1'))).toBe(true);
    expect(between(id('e'), id('5'), id('1'))).toBe(false);
    expect(between(id('7'), id('3'), id('7'))).toBe(true); // a === b: whole ring
    expect(betweenOpen(id('2'), id('5'), id('5'))).toBe(false);
  });

  it('distance, powers of two and predecessor ids wrap mod 2^128', () => {
    expect(distance(id('f'), id('0'))).toBe(1n);
    expect(addPowerOfTwo(id('f'), 0)).toBe(id('0'));
    expect(addPowerOfTwo(id('0'), 127)).toBe(`8${'0'.repeat(31)}`);
    expect(idBefore(id('0'))).toBe(id('f'));
  });

  it('derives 128-bit Node-IDs from public keys', () => {
    const a = nodeIdFromPublicKey(new Uint8Array([1, 2, 3]));
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(nodeIdFromPublicKey(new Uint8Array([1, 2, 4]))).not.toBe(a);
  });
});

describe('SortedIds', () => {
  it('finds successors and predecessors with wrap', () => {
    const s = new SortedIds();
    for (const d of ['8', '2', 'c', '5']) s.insert(id(d));
    s.insert(id('5'));
    expect(s.size).toBe(4);
    expect(s.at(s.successorIndex(id('3')))).toBe(id('5'));
    expect(s.at(s.successorIndex(id('5')))).toBe(id('5'));
    expect(s.at(s.successorIndex(id('d')))).toBe(id('2'));
    expect(s.at(s.predecessorIndex(id('2')))).toBe(id('c'));
    expect(s.at(s.predecessorIndex(id('6')))).toBe(id('5'));
    s.remove(id('5'));
    expect(s.at(s.successorIndex(id('3')))).toBe(id('8'));
  });
});

describe('RoutingTable', () => {
  const make = (self: string, others: string[], maxView = 100) => {
    const t = new RoutingTable(id(self), { successors: 3, predecessors: 3, maxView }, seededRandom(1));
    for (const o of others) t.setAlive(peer(id(o)), 0);
    return t;
  };

  it('derives neighbours, responsibility and one-hop next hops from the view', () => {
    const t = make('5', ['1', '3', '7', '9', 'b', 'd']);
    expect(t.successors()).toEqual([id('7'), id('9'), id('b')]);
    expect(t.predecessors()).toEqual([id('3'), id('1'), id('d')]);
    expect(t.responsibleFor(id('4'))).toBe(true);
    expect(t.responsibleFor(id('6'))).toBe(false);
    expect(t.nextHop(id('4'))).toBe(id('5'));
    expect(t.nextHop(id('c'))).toBe(id('d'));
    expect(t.nextHop(id('e'))).toBe(id('1')); // wraps
    expect(t.nextHop(id('c'), new Set([id('d')]))).toBe(id('1'));
    expect(t.holds(id('2'), 2)).toBe(true);
    expect(t.holds(id('0'), 2)).toBe(true); // (d, 5] wraps: replica of 1's range
    expect(t.holds(id('c'), 2)).toBe(false);
  });

  it('goes greedy (closest preceding) once the view is partial', () => {
    const ids = Array.from({ length: 50 }, (_, i) => idFromSeed(`p${i}`));
    const t = new RoutingTable(ids[0], { successors: 3, predecessors: 3, maxView: 20 }, seededRandom(2));
    for (const o of ids.slice(1)) t.setAlive(peer(o), 0);
    expect(t.complete).toBe(false);
    expect(t.liveCount).toBeLessThanOrEqual(21);
    const key = idFromSeed('some key');
    const hop = t.nextHop(key);
    if (hop !== t.self && !between(t.self, key, t.successors()[2])) {
      expect(between(t.self, hop, key)).toBe(true);
    }
  });

  it('keeps dead peers out of the ring but remembers them', () => {
    const t = make('5', ['1', '3', '7']);
    t.setGone(peer(id('7')), 'dead', 10);
    expect(t.successors()).toEqual([id('1'), id('3')]);
    expect(t.randomGone()?.id).toBe(id('7'));
    t.setAlive(peer(id('7'), 2), 20);
    expect(t.randomGone()).toBeUndefined();
  });
});

describe('GossipQueue', () => {
  it('retires events after `limit` sends and caps events per message', () => {
    const q = new GossipQueue(2, 10);
    for (const d of ['1', '2', '3']) q.push({ peer: peer(id(d)), status: 'alive' });
    const seen = [q.take(2), q.take(2), q.take(2)].flat().map((e) => e.peer.id);
    expect(seen.length).toBe(6);
    expect(new Set(seen).size).toBe(3);
    expect(q.size).toBe(0);
  });
});

describe('frames', () => {
  const ping: OverlayMessage = {
    t: 'ping',
    from: peer(id('a')),
    g: [{ peer: peer(id('b')), status: 'dead' }],
    nb: [],
    wantPong: true,
  };

  it('round-trips messages, including stored values', () => {
    const r = decodeFrame(encodeFrame(ping));
    expect(r).toMatchObject({ ok: true, message: ping });
    const sync: OverlayMessage = {
      t: 'sync',
      from: peer(id('a')),
      range: [id('1'), id('2')],
      values: [testValue('101@office', 'x', 5)],
      wantReply: false,
    };
    const r2 = decodeFrame(encodeFrame(sync));
    expect(r2.ok && r2.message.t === 'sync' && new TextDecoder().decode(r2.message.values[0].value)).toBe(
      'x',
    );
  });

  it('reassembles frames split across stream chunks', () => {
    const bytes = new Uint8Array([...encodeFrame(ping), ...encodeFrame(ping)]);
    const reader = new FrameReader();
    expect(reader.push(bytes.subarray(0, 7)).messages.length).toBe(0);
    expect(reader.push(bytes.subarray(7)).messages.length).toBe(2);
  });

  it('returns typed errors for bad version, size, CBOR and shape', () => {
    const good = encodeFrame(ping);
    const badVersion = good.slice();
    badVersion[4] = 9;
    expect(decodeFrame(badVersion)).toMatchObject({ ok: false, error: { code: 'bad-version' } });
    expect(decodeFrame(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1]))).toMatchObject({
      ok: false,
      error: { code: 'too-large' },
    });
    expect(decodeFrame(good.subarray(0, 8))).toMatchObject({ ok: false, error: { code: 'incomplete' } });
    const body = encode({
      t: 'ping',
      from: { id: 'nothex', address: addr, inc: 1 },
      g: [],
      nb: [],
      wantPong: false,
    });
    const frame = new Uint8Array(5 + body.length);
    new DataView(frame.buffer).setUint32(0, body.length + 1);
    frame[4] = 1;
    frame.set(body, 5);
    expect(decodeFrame(frame)).toMatchObject({ ok: false, error: { code: 'bad-message' } });
    const garbage = new Uint8Array([0, 0, 0, 3, 1, 0xff, 0xfe]);
    expect(decodeFrame(garbage).ok).toBe(false);
  });

  it('never throws on random or mutated bytes', () => {
    const rnd = seededRandom(42);
    const good = encodeFrame(ping);
    for (let i = 0; i < 5000; i++) {
      const b = i % 2 === 0 ? good.slice() : new Uint8Array(Math.floor(rnd() * 64));
      if (i % 2 === 0) for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      else for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
      expect(() => decodeFrame(b)).not.toThrow();
    }
  });
});
