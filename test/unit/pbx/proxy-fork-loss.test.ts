// Forks under 15% datagram loss, seeded: answer / all busy / 6xx / ring timeout, some cancelled by
// the caller. Whatever happens, the caller's call ends and the proxy holds nothing afterwards.
import { describe, expect, it } from 'vitest';
import { PbxProxy } from '../../../src/core/pbx/proxy.ts';
import type { SipUri } from '../../../src/core/sip/message.ts';
import { Sim } from './sim.ts';

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
describe('proxy: forks under loss', () => {
  for (let seed = 1; seed <= 16; seed++) {
    it(`seed ${seed}: mode ${['answer', 'all busy', '6xx', 'ring timeout'][seed % 4]}${seed % 5 === 0 ? ' + caller CANCEL' : ''}`, () => {
      const sim = new Sim();
      let n = 0;
      const rnd = prng(seed);
      const proxy = new PbxProxy(
        { host: '10.0.0.1', port: 5060, transport: 'UDP', timerC: 181_000 },
        () => `p${++n}`,
      );
      const px = sim.add('proxy', proxy, { transport: 'UDP', host: '10.0.0.1', port: 5060 });
      const bs = [21, 22, 23].map((i) => sim.phone(`b${i}`, i));
      const mode = seed % 4;
      for (const [k, b] of bs.entries()) {
        b.onEvent = (e) => {
          if (e.type !== 'incoming-call') return;
          const call = e.call as string;
          b.machine.ringing(call, sim.now);
          sim.at(sim.now + 500 + k * 300, (now) => {
            if (mode === 0 && k === 1) b.machine.accept(call, null, now);
            else if (mode === 1) b.machine.reject(call, 486, now);
            else if (mode === 2 && k === 2) b.machine.reject(call, 603, now);
            sim.collect();
          });
        };
      }
      px.onEvent = (e) => {
        if (e.type === 'need-lookup')
          proxy.lookupResult(
            e.id as string,
            {
              type: 'fork',
              targets: bs.map((b) => ({ uri: b.uri })),
              timeoutMs: mode === 3 ? 5000 : undefined,
            },
            sim.now,
          );
      };
      const a = sim.phone('a', 10);
      sim.drop = () => rnd() < 0.15;
      const u: SipUri = {
        scheme: 'sip',
        user: '101',
        password: null,
        host: '10.0.0.1',
        port: 5060,
        params: {},
        headers: {},
      };
      let id = '';
      sim.act((now) => {
        id = a.machine.call(u, null, now);
      });
      if (seed % 5 === 0)
        sim.at(300, (now) => {
          a.machine.cancel(id, now);
          sim.collect();
        });
      sim.run(300_000);
      const c = sim.eventsOf(a, 'call-answered')[0];
      if (c) sim.act((now) => a.machine.bye(c.call as string, now));
      sim.run(800_000);
      expect(proxy.load).toEqual({ contexts: 0, transactions: 0 });
      expect(px.timers.size).toBe(0);
      expect(sim.eventsOf(a, 'call-ended').length).toBeGreaterThan(0);
    });
  }
});
