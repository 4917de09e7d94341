import { describe, expect, it } from 'vitest';
import { textBody } from '../../../src/core/sip/message.ts';
import { Network } from './network.ts';

const sdp = { body: textBody('v=0\r\n'), contentType: 'application/sdp' };

/** Deterministic LCG so a failing seed can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('many calls over a lossy network', () => {
  for (const seed of [1, 2, 3]) {
    it(`every call is set up and torn down with 15% datagram loss, nothing leaks (seed ${seed})`, () => {
      const net = new Network();
      const a = net.add('alice');
      const b = net.add('bob');
      const rand = lcg(seed);
      net.drop = () => rand() < 0.15;
      const calls: string[] = [];
      const byeAt = new Map<string, number>();
      const seen = { a: 0, b: 0 };
      for (let t = 0; t <= 120_000; t += 10) {
        if (t < 3_000 && t % 100 === 0) net.act((now) => calls.push(a.ua.call(b.uri, sdp, now)));
        for (const [c, at] of byeAt) {
          if (at <= t) {
            byeAt.delete(c);
            net.act((now) => a.ua.bye(c, now));
          }
        }
        net.run(t);
        for (; seen.b < b.events.length; seen.b++) {
          const e = b.events[seen.b];
          if (e.type === 'incoming-call') {
            net.act((now) => {
              b.ua.ringing(e.call, now);
              b.ua.accept(e.call, sdp, now);
            });
          }
        }
        for (; seen.a < a.events.length; seen.a++) {
          const e = a.events[seen.a];
          if (e.type === 'call-answered') byeAt.set(e.call, t + 1_000);
        }
      }
      expect(calls).toHaveLength(30);
      expect(net.sent.filter((s) => s.dropped).length).toBeGreaterThan(20);
      const answered = net.of(a, 'call-answered').map((e) => e.call);
      expect(new Set(answered).size).toBe(answered.length);
      expect(answered.length).toBe(30);
      const endedA = net.of(a, 'call-ended');
      expect(endedA.map((e) => e.reason)).toEqual(Array(30).fill('local-bye'));
      expect(net.of(b, 'incoming-call')).toHaveLength(30);
      const endedB = net.of(b, 'call-ended');
      expect(endedB).toHaveLength(30);
      for (const e of endedB) expect(['remote-bye', 'no-ack']).toContain(e.reason);
      expect(a.ua.load).toEqual({ calls: 0, transactions: 0, timers: 0 });
      expect(b.ua.load).toEqual({ calls: 0, transactions: 0, timers: 0 });
    });
  }
});
