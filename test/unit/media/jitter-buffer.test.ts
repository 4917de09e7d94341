import { describe, expect, it } from 'vitest';
import {
  JitterBuffer,
  type JitterBufferOptions,
  type JitterFrame,
} from '../../../src/core/media/jitter-buffer.ts';
import { seededRandom } from './seeded.ts';

interface SimPacket {
  sequence: number;
  timestamp: number;
  samples: Int16Array;
  arrival: number;
}

/** A stream of 20 ms frames whose samples all equal the frame number + 1 (so frames are identifiable). */
function stream(count: number, opts: { seq0?: number; ts0?: number; samples?: number } = {}): SimPacket[] {
  const n = opts.samples ?? 160;
  return Array.from({ length: count }, (_, k) => ({
    sequence: ((opts.seq0 ?? 1000) + k) & 0xffff,
    timestamp: ((opts.ts0 ?? 5000) + k * n) >>> 0,
    samples: new Int16Array(n).fill(k + 1),
    arrival: (k * n) / 8,
  }));
}

/** Runs a 1 ms clock: deliver arrivals, pop every 20 ms (offset 5 ms). Returns popped frames. */
function simulate(packets: SimPacket[], untilMs: number, opts?: JitterBufferOptions) {
  const jb = new JitterBuffer(opts);
  const frames: JitterFrame[] = [];
  const byTime = [...packets].sort((a, b) => a.arrival - b.arrival);
  let i = 0;
  for (let t = 0; t <= untilMs; t++) {
    while (i < byTime.length && byTime[i].arrival <= t) {
      const p = byTime[i++];
      jb.push({ sequence: p.sequence, timestamp: p.timestamp, samples: p.samples }, t);
    }
    if (t % 20 === 5) frames.push(jb.pop(t));
  }
  return { jb, frames };
}

/** The frame labels that were played as audio (first sample), in order. */
function audioLabels(frames: JitterFrame[]): number[] {
  return frames.filter((f) => f.kind === 'audio').map((f) => f.samples[0]);
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('JitterBuffer', () => {
  it('plays an in-order stream exactly, after the initial delay', () => {
    const { jb, frames } = simulate(stream(50), 1100);
    expect(audioLabels(frames)).toEqual(range(1, 50));
    // Nothing before the initial 60 ms delay.
    expect(frames.slice(0, 3).every((f) => f.kind === 'silence')).toBe(true);
    expect(
      frames.filter((f) => f.kind === 'audio').every((f) => f.samples.every((s) => s === f.samples[0])),
    ).toBe(true);
    const s = jb.stats();
    expect(s).toMatchObject({
      received: 50,
      lost: 0,
      late: 0,
      reordered: 0,
      duplicates: 0,
      droppedFrames: 0,
    });
  });

  it('absorbs reordering', () => {
    const packets = stream(60);
    for (let k = 10; k < 50; k += 4) {
      // swap arrival of k and k+1, and delay k+2 by 30 ms behind k+3
      [packets[k].arrival, packets[k + 1].arrival] = [packets[k + 1].arrival, packets[k].arrival];
      packets[k + 2].arrival += 30;
    }
    const { jb, frames } = simulate(packets, 1400);
    expect(audioLabels(frames)).toEqual(range(1, 60));
    const s = jb.stats();
    expect(s.reordered).toBeGreaterThanOrEqual(20);
    expect(s.lost).toBe(0);
    expect(s.late).toBe(0);
    expect(s.concealedFrames).toBe(0);
  });

  it('conceals a lost packet with a faded repeat and counts it', () => {
    const packets = stream(40).filter((p) => p.samples[0] !== 20);
    const { jb, frames } = simulate(packets, 900);
    const played = frames.filter((f) => f.kind !== 'silence');
    const idx = played.findIndex((f) => f.kind === 'concealed');
    expect(played[idx - 1].samples[0]).toBe(19);
    expect(played[idx].samples[0]).toBe(Math.round(19 * 0.7));
    expect(played[idx + 1]).toMatchObject({ kind: 'audio' });
    expect(played[idx + 1].samples[0]).toBe(21);
    expect(audioLabels(frames)).toEqual(range(1, 40).filter((x) => x !== 20));
    expect(jb.stats()).toMatchObject({ lost: 1, concealedFrames: 1 });
  });

  it('ignores duplicates', () => {
    const packets = stream(30).flatMap((p) => [p, { ...p, arrival: p.arrival + 7 }]);
    const { jb, frames } = simulate(packets, 700);
    expect(audioLabels(frames)).toEqual(range(1, 30));
    expect(jb.stats()).toMatchObject({ duplicates: 30, received: 30, lost: 0 });
  });

  it('drops packets that arrive after their playout time', () => {
    const packets = stream(40);
    packets[20].arrival += 500;
    const { jb, frames } = simulate(packets, 1200);
    expect(jb.stats().late).toBe(1);
    expect(jb.stats().lost).toBe(0); // late arrivals still count as received (RFC 3550)
    expect(audioLabels(frames)).toEqual(range(1, 40).filter((x) => x !== 21));
  });

  it('handles sequence and timestamp wrap-around', () => {
    const { jb, frames } = simulate(stream(40, { seq0: 65520, ts0: 4294967295 - 800 }), 900);
    expect(audioLabels(frames)).toEqual(range(1, 40));
    expect(jb.stats().lost).toBe(0);
  });

  it('works with 30 ms packets popped as 20 ms frames', () => {
    const packets = stream(20, { samples: 240 });
    const { frames } = simulate(packets, 700);
    const audio = frames.filter((f) => f.kind === 'audio');
    const all = audio.flatMap((f) => [...f.samples]);
    const expected = range(1, 20).flatMap((k) => new Array(240).fill(k));
    expect(all).toEqual(expected);
  });

  it('adapts its depth to jitter, within bounds', () => {
    const rnd = seededRandom(42);
    const calm = simulate(stream(300), 6500).jb.stats();
    const jittery = stream(300).map((p) => ({ ...p, arrival: p.arrival + Math.floor(rnd() * 80) }));
    const { jb, frames } = simulate(jittery, 6500, { maxDelayMs: 200 });
    const s = jb.stats();
    expect(calm.targetDelayMs).toBe(40);
    expect(s.targetDelayMs).toBeGreaterThan(calm.targetDelayMs);
    expect(s.targetDelayMs).toBeLessThanOrEqual(200);
    expect(s.jitterMs).toBeGreaterThan(10);
    // Most audio survives despite 0-80 ms of random delay (reordering included).
    expect(audioLabels(frames).length).toBeGreaterThan(270);
    // Played frames are in increasing order: never plays old audio after newer audio.
    const labels = audioLabels(frames);
    expect(labels.every((x, i) => i === 0 || x > labels[i - 1])).toBe(true);
  });

  it('re-buffers after the sender pauses and resumes with a timestamp jump', () => {
    const first = stream(20);
    const second = stream(20, { seq0: 1020, ts0: 5000 + 160 * 20 + 8000 * 3 }).map((p) => ({
      ...p,
      samples: p.samples.map((x) => x + 100),
      arrival: p.arrival + 1000,
    }));
    const { jb, frames } = simulate([...first, ...second], 2000);
    expect(audioLabels(frames)).toEqual([...range(1, 20), ...range(101, 120)]);
    expect(jb.stats().lost).toBe(0);
    // During the pause it faded out to silence rather than repeating audio forever.
    const pause = frames.slice(30, 45);
    expect(pause.every((f) => f.kind !== 'audio')).toBe(true);
    expect(pause.at(-1)?.samples.every((x) => x === 0)).toBe(true);
  });

  it('trims excess latency after a burst', () => {
    const packets = stream(100);
    // 200 ms of packets held up then delivered at once (a burst after a network stall).
    for (let k = 30; k < 40; k++) packets[k].arrival = 39 * 20 + 1;
    const { jb } = simulate(packets, 2500);
    const s = jb.stats();
    expect(s.droppedFrames).toBeGreaterThan(0);
    expect(s.bufferedMs).toBeLessThanOrEqual(s.targetDelayMs + 40);
  });

  it('bounds memory when nobody pops', () => {
    const jb = new JitterBuffer({ maxPackets: 50 });
    for (const p of stream(400)) jb.push(p, p.arrival);
    const s = jb.stats();
    expect(s.overflowDropped).toBe(350);
    expect(s.bufferedMs).toBeLessThanOrEqual(50 * 20);
    // What remains is the newest audio.
    let last = 0;
    for (let t = 0; t < 60; t++) {
      const f = jb.pop(10_000 + t * 20);
      if (f.kind === 'audio') last = f.samples[0];
    }
    expect(last).toBe(400);
  });
});
