// RecordStore in memory: used by the simulator and by tests; the SQLite store mirrors its rules.

import { inRingInterval } from './ids.ts';
import { compareVersions, digestOf, isLive, slotKey } from './slot.ts';
import type { KindName, RangeDigest, RecordStore, ResourceId, StoredValue, StoreOutcome } from './types.ts';

export class MemoryRecordStore implements RecordStore {
  /** resourceId -> slotKey -> value. Grouping by resource makes get() independent of store size. */
  private readonly byResource = new Map<ResourceId, Map<string, StoredValue>>();
  private size = 0;

  put(value: StoredValue): StoreOutcome {
    let slots = this.byResource.get(value.resourceId);
    const key = slotKey(value);
    const current = slots?.get(key);
    if (current) {
      const order = compareVersions(value, current);
      // The same write again (replication retries, anti-entropy) is accepted without change.
      if (order === 0) return { ok: true, replaced: false };
      if (order < 0) {
        return {
          ok: false,
          code: 'stale',
          reason: `slot holds a newer value (storageTime ${current.storageTime})`,
        };
      }
    }
    if (!slots) {
      slots = new Map();
      this.byResource.set(value.resourceId, slots);
    }
    slots.set(key, value);
    if (!current) this.size++;
    return { ok: true, replaced: current !== undefined };
  }

  get(resourceId: ResourceId, now: number, kind?: KindName, key?: string): StoredValue[] {
    const slots = this.byResource.get(resourceId);
    if (!slots) return [];
    const out: StoredValue[] = [];
    for (const v of slots.values()) {
      if (kind !== undefined && v.kind !== kind) continue;
      if (key !== undefined && v.key !== key) continue;
      if (isLive(v, now)) out.push(v);
    }
    return out;
  }

  range(from: ResourceId, to: ResourceId, now: number): StoredValue[] {
    const out: StoredValue[] = [];
    for (const [rid, slots] of this.byResource) {
      if (!inRingInterval(rid, from, to)) continue;
      for (const v of slots.values()) if (isLive(v, now)) out.push(v);
    }
    return out;
  }

  dropRange(from: ResourceId, to: ResourceId): number {
    let dropped = 0;
    for (const [rid, slots] of this.byResource) {
      if (!inRingInterval(rid, from, to)) continue;
      dropped += slots.size;
      this.byResource.delete(rid);
    }
    this.size -= dropped;
    return dropped;
  }

  digest(from: ResourceId, to: ResourceId, now: number): RangeDigest {
    return digestOf(this.range(from, to, now));
  }

  expire(now: number): number {
    let removed = 0;
    for (const [rid, slots] of this.byResource) {
      for (const [k, v] of slots) {
        if (!isLive(v, now)) {
          slots.delete(k);
          removed++;
        }
      }
      if (slots.size === 0) this.byResource.delete(rid);
    }
    this.size -= removed;
    return removed;
  }

  resourceIds(): ResourceId[] {
    return [...this.byResource.keys()];
  }

  count(): number {
    return this.size;
  }
}
