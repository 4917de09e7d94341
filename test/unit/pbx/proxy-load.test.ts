import { describe, expect, it } from 'vitest';
import type { Address } from '../../../src/core/net.ts';
import { PbxProxy } from '../../../src/core/pbx/proxy.ts';
import type { SipUri } from '../../../src/core/sip/message.ts';
import type { UserAgentCore } from '../../../src/core/sip/ua/core.ts';
import { Sim, type SimNode } from './sim.ts';

type Phone = SimNode<UserAgentCore> & { uri: SipUri };
const PROXY: Address = { transport: 'UDP', host: '10.0.0.1', port: 5060 };

/** Deterministic PRNG (mulberry32) so a lossy run is reproducible from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function office(calls: number) {
  const sim = new Sim();
  let n = 0;
  const proxy = new PbxProxy({ host: '10.0.0.1', port: 5060, transport: 'UDP' }, () => `p${++n}`);
  const px = sim.add('proxy', proxy, PROXY);
  const callers: Phone[] = [];
  const callees: Phone[] = [];
  for (let i = 0; i < calls; i++) {
    callers.push(sim.phone(`a${i}`, 10 + i) as Phone);
    const b = sim.phone(`b${i}`, 150 + i) as Phone;
    b.onEvent = (e) => {
      if (e.type !== 'incoming-call') return;
      const call = e.call as string;
      b.machine.ringing(call, sim.now);
      sim.at(sim.now + 300, (now) => {
        b.machine.accept(call, null, now);
        sim.collect();
      });
    };
    callees.push(b);
  }
  px.onEvent = (e) => {
    if (e.type !== 'need-lookup') return;
    const i = Number((e.user as string).slice(1));
    proxy.lookupResult(e.id as string, { type: 'fork', targets: [{ uri: callees[i].uri }] }, sim.now);
  };
  const target = (i: number): SipUri => ({
    scheme: 'sip',
    user: `u${i}`,
    password: null,
    host: '10.0.0.1',
    port: 5060,
    params: {},
    headers: {},
  });
  return { sim, proxy, callers, callees, target };
}

describe('proxy under load', () => {
  it('100 simultaneous calls through one gateway: all connect, all hang up, nothing leaks', () => {
    const { sim, proxy, callers, callees, target } = office(100);
    sim.act((now) => {
      for (const [i, a] of callers.entries()) a.machine.call(target(i), null, now);
    });
    sim.run(5_000);
    for (const a of callers) expect(sim.eventsOf(a, 'call-answered')).toHaveLength(1);
    sim.act((now) => {
      for (const a of callers) a.machine.bye(sim.eventsOf(a, 'call-answered')[0].call as string, now);
    });
    sim.run(10_000);
    for (const b of callees) expect(sim.eventsOf(b, 'call-ended')[0]).toMatchObject({ reason: 'remote-bye' });
    sim.run(200_000);
    expect(proxy.load).toEqual({ contexts: 0, transactions: 0 });
    expect(sim.nodes.get('UDP:10.0.0.1:5060')?.timers.size).toBe(0);
  });

  for (const seed of [1, 2, 3]) {
    it(`10% datagram loss (seed ${seed}): every call ends answered or failed, and the proxy forgets it`, () => {
      const { sim, proxy, callers, target } = office(20);
      const rnd = prng(seed);
      sim.drop = () => rnd() < 0.1;
      sim.act((now) => {
        for (const [i, a] of callers.entries()) a.machine.call(target(i), null, now);
      });
      sim.run(60_000);
      let answered = 0;
      for (const a of callers) {
        const ok = sim.eventsOf(a, 'call-answered').length > 0;
        const ended = sim.eventsOf(a, 'call-ended').length > 0;
        expect(ok || ended).toBe(true);
        if (ok) answered++;
      }
      // Retransmissions carry almost every call through 10% loss.
      expect(answered).toBeGreaterThanOrEqual(18);
      sim.act((now) => {
        for (const a of callers) {
          const c = sim.eventsOf(a, 'call-answered')[0];
          if (c) a.machine.bye(c.call as string, now);
        }
      });
      sim.run(400_000);
      expect(proxy.load).toEqual({ contexts: 0, transactions: 0 });
      expect(sim.nodes.get('UDP:10.0.0.1:5060')?.timers.size).toBe(0);
    });
  }
});
