import { describe, expect, it } from 'vitest';
import {
  decodeTelephoneEvent,
  digitToEvent,
  encodeTelephoneEvent,
  eventToDigit,
  planTelephoneEvent,
  TelephoneEventReceiver,
} from '../../../src/core/media/telephone-event.ts';

describe('RFC 4733 telephone-event', () => {
  it('payload encoding matches the RFC layout', () => {
    // Event 5 ('5'), E=1, volume 10, duration 800.
    expect(encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 800 })).toEqual(
      new Uint8Array([5, 0x8a, 0x03, 0x20]),
    );
    expect(decodeTelephoneEvent(new Uint8Array([11, 0x0a, 0x00, 0xa0]))).toEqual({
      ok: true,
      value: { event: 11, end: false, volume: 10, duration: 160 },
    });
    expect(decodeTelephoneEvent(new Uint8Array([1, 2])).ok).toBe(false);
  });

  it('maps digits', () => {
    expect([...'0123456789*#ABCD'].map(digitToEvent)).toEqual([...Array(16).keys()]);
    expect(digitToEvent('x')).toBeNull();
    expect(eventToDigit(10)).toBe('*');
    expect(eventToDigit(16)).toBe('!');
    expect(eventToDigit(99)).toBeNull();
  });

  it('plans updates with growing duration then three end packets', () => {
    const plan = planTelephoneEvent(1, { durationMs: 100 });
    const decoded = plan.map((p) => {
      const d = decodeTelephoneEvent(p.payload);
      if (!d.ok) throw new Error('bad');
      return [p.offsetMs, p.marker, d.value.end, d.value.duration];
    });
    expect(decoded).toEqual([
      [0, true, false, 160],
      [20, false, false, 320],
      [40, false, false, 480],
      [60, false, false, 640],
      [80, false, true, 800],
      [100, false, true, 800],
      [120, false, true, 800],
    ]);
  });

  it('receiver reports each digit once despite redundancy, reordering and repeats', () => {
    const rx = new TelephoneEventReceiver();
    const digits: string[] = [];
    const send = (ts: number, digit: string) => {
      const ev = digitToEvent(digit);
      if (ev === null) throw new Error('bad digit');
      const plan = planTelephoneEvent(ev);
      // Deliver every packet twice and the end packets out of order.
      for (const p of [...plan, ...plan.slice().reverse()]) {
        const r = rx.receive(ts, p.payload);
        if (r) digits.push(r.digit);
      }
    };
    send(1000, '1');
    send(2600, '1'); // same digit pressed again: a new event (new timestamp)
    send(4200, '#');
    // Late straggler of the first event after others: still not reported again.
    expect(
      rx.receive(1000, encodeTelephoneEvent({ event: 1, end: true, volume: 10, duration: 800 })),
    ).toBeNull();
    expect(digits).toEqual(['1', '1', '#']);
    expect(rx.receive(5000, new Uint8Array([200, 0, 0, 0]))).toBeNull();
  });
});
