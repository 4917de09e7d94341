import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Beacon,
  decodeBeacon,
  encodeBeacon,
  MAX_BEACON_BYTES,
} from '../../../src/main/discovery/beacon.ts';

const beacon: Beacon = {
  nodeId: '0123456789abcdef0123456789abcdef',
  office: 'Acme Dental',
  caFingerprint: 'sha256:AB:CD:EF',
  port: 7000,
  sipPort: 5060,
  version: '0.1.0',
};

function withBody(body: string): Buffer {
  return Buffer.concat([Buffer.from('PPXB'), Buffer.from([1]), Buffer.from(body)]);
}

describe('beacon codec', () => {
  it('round-trips, and stays small', () => {
    const bytes = encodeBeacon(beacon);
    expect(bytes.length).toBeLessThan(200);
    expect(decodeBeacon(bytes)).toEqual({ ok: true, beacon });
  });

  it('decodes from a Uint8Array view into a larger buffer', () => {
    const bytes = encodeBeacon(beacon);
    const big = Buffer.concat([Buffer.from('xxxx'), bytes]);
    expect(decodeBeacon(new Uint8Array(big.buffer, big.byteOffset + 4, bytes.length))).toEqual({
      ok: true,
      beacon,
    });
  });

  it('refuses to encode a beacon that would not fit', () => {
    expect(() => encodeBeacon({ ...beacon, office: 'x'.repeat(2000) })).toThrow(RangeError);
  });

  it.each([
    ['empty', Buffer.alloc(0), 'too-short'],
    ['too long', Buffer.concat([withBody('{}'), Buffer.alloc(MAX_BEACON_BYTES)]), 'too-long'],
    ['foreign magic', Buffer.from('HTTP/1.1 200 OK\r\n'), 'bad-magic'],
    [
      'future version',
      Buffer.concat([Buffer.from('PPXB'), Buffer.from([2]), Buffer.from('{}')]),
      'unsupported-version',
    ],
    ['not JSON', withBody('{"id":'), 'bad-json'],
    ['JSON array', withBody('[1,2,3]'), 'bad-json'],
    ['JSON null', withBody('null'), 'bad-json'],
  ])('rejects %s as %s', (_name, bytes, error) => {
    const r = decodeBeacon(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe(error);
  });

  const WIRE_TO_FIELD: Record<string, string> = {
    id: 'nodeId',
    o: 'office',
    ca: 'caFingerprint',
    p: 'port',
    s: 'sipPort',
    v: 'version',
  };
  const good = { id: 'n1', o: 'Acme', ca: 'ab', p: 7000, s: 5060, v: '1' };
  it.each([
    ['id', { id: '' }],
    ['id', { id: 42 }],
    ['o', { o: 'A\u0000cme' }],
    ['o', { o: 'x'.repeat(129) }],
    ['ca', { ca: null }],
    ['p', { p: 0 }],
    ['p', { p: 65536 }],
    ['p', { p: 70.5 }],
    ['p', { p: '7000' }],
    ['s', { s: -1 }],
    ['v', { v: ['1'] }],
  ])('rejects a bad field %s (%j)', (field, patch) => {
    const r = decodeBeacon(withBody(JSON.stringify({ ...good, ...patch })));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBe('bad-field');
      expect(r.detail).toBe(WIRE_TO_FIELD[field]);
    }
  });

  it('ignores unknown extra fields (forward compatible within version 1)', () => {
    const body = JSON.stringify({ ...good, future: { x: 1 } }).replace(
      /}$/,
      ',"__proto__":{"polluted":true}}',
    );
    const r = decodeBeacon(withBody(body));
    expect(r).toEqual({
      ok: true,
      beacon: { nodeId: 'n1', office: 'Acme', caFingerprint: 'ab', port: 7000, sipPort: 5060, version: '1' },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never throws on hostile bytes: random, truncated, bit-flipped, deeply nested', () => {
    const valid = encodeBeacon(beacon);
    const inputs: Buffer[] = [withBody('['.repeat(MAX_BEACON_BYTES - 5)), withBody('"\\ud800"')];
    for (let i = 0; i < 2000; i++) inputs.push(randomBytes(i % 300));
    for (let n = 0; n <= valid.length; n++) inputs.push(valid.subarray(0, n));
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(valid);
      b[i % b.length] ^= 1 << (i % 8);
      inputs.push(b);
    }
    let accepted = 0;
    for (const input of inputs) {
      const r = decodeBeacon(input);
      expect(typeof r.ok).toBe('boolean');
      if (r.ok) accepted++;
    }
    // Truncations and random bytes must not all be "accepted": the decoder really decides.
    expect(accepted).toBeLessThan(inputs.length / 2);
  });
});
