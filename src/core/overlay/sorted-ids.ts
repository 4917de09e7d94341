// A sorted array of ids with binary search: the ring as one peer sees it. Insert/remove are a
// memmove of at most a few thousand pointers; lookups are O(log N), never a scan.
import type { Id128 } from '../records/types.ts';

export class SortedIds {
  private ids: Id128[] = [];

  get size(): number {
    return this.ids.length;
  }

  at(i: number): Id128 {
    const n = this.ids.length;
    return this.ids[((i % n) + n) % n];
  }

  /** Index of the first id >= key (may equal size). */
  lowerBound(key: Id128): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(id: Id128): boolean {
    const i = this.lowerBound(id);
    return i < this.ids.length && this.ids[i] === id;
  }

  insert(id: Id128): boolean {
    const i = this.lowerBound(id);
    if (i < this.ids.length && this.ids[i] === id) return false;
    this.ids.splice(i, 0, id);
    return true;
  }

  remove(id: Id128): boolean {
    const i = this.lowerBound(id);
    if (i >= this.ids.length || this.ids[i] !== id) return false;
    this.ids.splice(i, 1);
    return true;
  }

  /** Index of the ring successor of key: the first id >= key, wrapping. -1 when empty. */
  successorIndex(key: Id128): number {
    if (this.ids.length === 0) return -1;
    const i = this.lowerBound(key);
    return i === this.ids.length ? 0 : i;
  }

  /** Index of the ring predecessor of key: the last id < key, wrapping. -1 when empty. */
  predecessorIndex(key: Id128): number {
    if (this.ids.length === 0) return -1;
    const i = this.lowerBound(key);
    return i === 0 ? this.ids.length - 1 : i - 1;
  }

  toArray(): readonly Id128[] {
    return this.ids;
  }
}
