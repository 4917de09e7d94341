// The behaviour every RecordStore must show. Run against MemoryRecordStore and SqliteRecordStore.

import { describe, expect, it } from 'vitest';
import { resourceIdFromName } from '../../../src/core/records/ids.ts';
import type { RecordStore, StoredValue } from '../../../src/core/records/types.ts';

export function testValue(over: Partial<StoredValue> & { name?: string } = {}): StoredValue {
  const name = over.name ?? '101@office';
  const { name: _n, ...rest } = over;
  return {
    resourceId: resourceIdFromName(name),
    resourceName: name,
    kind: 'TEST',
    model: 'dictionary',
    key: 'k',
    value: new Uint8Array([1, 2, 3]),
    exists: true,
    storageTime: 1000,
    lifetime: 60_000,
    signer: { nodeId: 'ab'.repeat(16), user: '101@office', certificate: 'PEM' },
    signature: new Uint8Array([9, 9]),
    ...rest,
  };
}

/** A value at an explicit resource id (for ring-range tests). */
function at(resourceId: string, over: Partial<StoredValue> = {}): StoredValue {
  return testValue({ resourceId, ...over });
}

const id = (hexDigit: string) => hexDigit.repeat(32);

export function recordStoreContract(name: string, open: () => RecordStore): void {
  describe(`${name} (RecordStore contract)`, () => {
    it('stores and returns a value with all fields intact', () => {
      const s = open();
      const v = testValue({ value: new Uint8Array([0, 255, 7]), exists: false });
      expect(s.put(v)).toEqual({ ok: true, replaced: false });
      const [got] = s.get(v.resourceId, 2000);
      expect(got.resourceName).toBe('101@office');
      expect([...got.value]).toEqual([0, 255, 7]);
      expect(got.exists).toBe(false);
      expect(got.signer).toEqual(v.signer);
      expect([...got.signature]).toEqual([9, 9]);
      expect(got.model).toBe('dictionary');
      expect(s.count()).toBe(1);
    });

    it('newer storageTime wins per slot; older is refused as stale', () => {
      const s = open();
      expect(s.put(testValue({ storageTime: 2000, value: new Uint8Array([2]) })).ok).toBe(true);
      const older = s.put(testValue({ storageTime: 1500, value: new Uint8Array([1]) }));
      expect(older).toMatchObject({ ok: false, code: 'stale' });
      expect([...s.get(testValue().resourceId, 2000)[0].value]).toEqual([2]);
      expect(s.put(testValue({ storageTime: 3000, value: new Uint8Array([3]) }))).toEqual({
        ok: true,
        replaced: true,
      });
      expect([...s.get(testValue().resourceId, 3000)[0].value]).toEqual([3]);
      expect(s.count()).toBe(1);
    });

    it('breaks storageTime ties by the larger signature, whatever the arrival order', () => {
      const a = testValue({ signature: new Uint8Array([5, 1]), value: new Uint8Array([1]) });
      const b = testValue({ signature: new Uint8Array([5, 2]), value: new Uint8Array([2]) });
      for (const order of [
        [a, b],
        [b, a],
      ]) {
        const s = open();
        for (const v of order) s.put(v);
        expect([...s.get(a.resourceId, 1000)[0].value]).toEqual([2]);
      }
    });

    it('accepts the identical write again without replacing', () => {
      const s = open();
      s.put(testValue());
      expect(s.put(testValue())).toEqual({ ok: true, replaced: false });
      expect(s.count()).toBe(1);
    });

    it('keeps distinct slots by kind and key and filters get by them', () => {
      const s = open();
      s.put(testValue({ key: 'a' }));
      s.put(testValue({ key: 'b' }));
      s.put(testValue({ kind: 'PRESENCE', model: 'single', key: '' }));
      const rid = testValue().resourceId;
      expect(s.get(rid, 1000)).toHaveLength(3);
      expect(s.get(rid, 1000, 'TEST')).toHaveLength(2);
      expect(s.get(rid, 1000, 'TEST', 'b').map((v) => v.key)).toEqual(['b']);
      expect(s.get(rid, 1000, 'PRESENCE', 'a')).toHaveLength(0);
      expect(s.get(id('0'), 1000)).toHaveLength(0);
    });

    it('hides expired values and expire() removes them', () => {
      const s = open();
      s.put(testValue({ key: 'short', storageTime: 1000, lifetime: 100 }));
      s.put(testValue({ key: 'long', storageTime: 1000, lifetime: 10_000 }));
      const rid = testValue().resourceId;
      expect(s.get(rid, 1099)).toHaveLength(2);
      expect(s.get(rid, 1100).map((v) => v.key)).toEqual(['long']);
      expect(s.range(id('0'), id('0'), 1100)).toHaveLength(1);
      expect(s.count()).toBe(2);
      expect(s.expire(1100)).toBe(1);
      expect(s.count()).toBe(1);
      expect(s.expire(1100)).toBe(0);
    });

    it('range is (from, to] and wraps around the ring', () => {
      const s = open();
      for (const d of ['1', '4', '8', 'c', 'f']) s.put(at(id(d)));
      const ids = (from: string, to: string) =>
        s
          .range(id(from), id(to), 1000)
          .map((v) => v.resourceId[0])
          .sort();
      expect(ids('1', '8')).toEqual(['4', '8']);
      expect(ids('0', '1')).toEqual(['1']);
      expect(ids('c', '4')).toEqual(['1', '4', 'f']); // wraps past ff..ff
      expect(ids('8', '8')).toEqual(['1', '4', '8', 'c', 'f']); // from === to: the whole ring
      expect(s.resourceIds().sort()).toEqual(['1', '4', '8', 'c', 'f'].map(id));
    });

    it('dropRange deletes exactly the range', () => {
      const s = open();
      for (const d of ['1', '4', '8', 'c', 'f']) s.put(at(id(d)));
      s.put(at(id('4'), { key: 'second' }));
      expect(s.dropRange(id('c'), id('4'))).toBe(4); // f, 1, 4, 4'
      expect(s.count()).toBe(2);
      expect(s.resourceIds().sort()).toEqual([id('8'), id('c')]);
    });

    it('digest agrees between replicas with the same content, whatever the insertion order', () => {
      const values = ['1', '4', '8', 'c'].flatMap((d) => [
        at(id(d), { key: 'x' }),
        at(id(d), { key: 'y', storageTime: 1234 }),
      ]);
      const a = open();
      const b = open();
      for (const v of values) a.put(v);
      for (const v of [...values].reverse()) b.put(v);
      expect(a.digest(id('0'), id('9'), 1000)).toEqual(b.digest(id('0'), id('9'), 1000));
      expect(a.digest(id('0'), id('9'), 1000).count).toBe(6);
      // A newer write on one side changes its digest; the same write on the other makes them equal again.
      const newer = at(id('4'), { key: 'x', storageTime: 5000 });
      a.put(newer);
      expect(a.digest(id('0'), id('9'), 1000).hash).not.toBe(b.digest(id('0'), id('9'), 1000).hash);
      b.put(newer);
      expect(a.digest(id('0'), id('9'), 1000)).toEqual(b.digest(id('0'), id('9'), 1000));
      // Outside the range nothing counts.
      expect(a.digest(id('d'), id('f'), 1000)).toEqual({ count: 0, hash: expect.any(String) });
    });
  });
}
