import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../../src/main/overlay-link/frame-codec.ts';
import { decodeLinkControl, encodeLinkControl } from '../../../src/main/overlay-link/link-control.ts';

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function payloads(): Uint8Array[] {
  const big = new Uint8Array(20_000).map((_, i) => (i * 7) & 0xff);
  return [new Uint8Array([1, 2, 3]), new Uint8Array(0), big, new TextEncoder().encode('hello')];
}

describe('FrameDecoder', () => {
  it('decodes frames however the stream is cut', () => {
    const input = payloads();
    const wire = concat(input.flatMap((p) => encodeFrame(p)));
    for (const step of [1, 2, 3, 5, 4096, wire.length]) {
      const d = new FrameDecoder(1 << 20);
      const out: Uint8Array[] = [];
      for (let i = 0; i < wire.length; i += step) {
        const r = d.push(wire.subarray(i, i + step));
        expect(r.ok).toBe(true);
        if (r.ok) out.push(...r.frames);
      }
      expect(out.map((f) => Buffer.from(f).toString('hex'))).toEqual(
        input.map((f) => Buffer.from(f).toString('hex')),
      );
      expect(d.pendingBytes).toBe(0);
    }
  });

  it('keeps a partial frame until the rest arrives', () => {
    const d = new FrameDecoder(100);
    const wire = concat(encodeFrame(new Uint8Array([9, 8, 7, 6])));
    const r1 = d.push(wire.subarray(0, 6));
    expect(r1).toEqual({ ok: true, frames: [] });
    const r2 = d.push(wire.subarray(6));
    expect(r2.ok && Array.from(r2.frames[0])).toEqual([9, 8, 7, 6]);
  });

  it('refuses a length above the maximum as soon as the header arrives, and stays failed', () => {
    const d = new FrameDecoder(1024);
    const r = d.push(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect(r).toEqual({ ok: false, error: { kind: 'too-large', length: 0xffffffff, max: 1024 } });
    expect(d.push(concat(encodeFrame(new Uint8Array(3)))).ok).toBe(false);
    const atLimit = new FrameDecoder(1024).push(concat(encodeFrame(new Uint8Array(1024))));
    expect(atLimit.ok && atLimit.frames[0].length).toBe(1024);
  });
});

describe('link control preface', () => {
  it('round-trips accept and reject, and refuses garbage', () => {
    expect(decodeLinkControl(encodeLinkControl({ type: 'accept' }))).toEqual({
      ok: true,
      control: { type: 'accept' },
    });
    expect(decodeLinkControl(encodeLinkControl({ type: 'reject', reason: 'duplicate' }))).toEqual({
      ok: true,
      control: { type: 'reject', reason: 'duplicate' },
    });
    expect(decodeLinkControl(new Uint8Array([1, 2])).ok).toBe(false);
    expect(decodeLinkControl(new Uint8Array([0x50, 0x4c, 9, 1])).ok).toBe(false);
    expect(decodeLinkControl(new Uint8Array([0x50, 0x4c, 1, 7])).ok).toBe(false);
  });
});
