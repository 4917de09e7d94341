// A sorted array of ids with binary search: the ring as one peer sees it. Lookups are O(log N).
// Inserts are buffered and merged at the next read, so loading a whole view (a join, a view
// exchange) costs one sort instead of N array splices.
import type { Id128 } from '../records/types.ts';

export class SortedIds {
  private ids: Id128[] = [];
  private pending: Id128[] = [];

  get size(): number {
    this.flush();
    return this.ids.length;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    if (this.pending.length < 16) {
      // A few ids: splicing beats allocating a merged copy.
      for (const id of this.pending) {
        const i = this.search(id);
        if (this.ids[i] !== id) this.ids.splice(i, 0, id);
      }
      this.pending = [];
      return;
    }
    const add = this.pending.sort();
    this.pending = [];
    const merged: Id128[] = new Array(this.ids.length + add.length);
    let i = 0;
    let j = 0;
    let n = 0;
    const a = this.ids;
    while (i < a.length || j < add.length) {
      const next = j >= add.length || (i < a.length && a[i] <= add[j]) ? a[i++] : add[j++];
      if (n === 0 || merged[n - 1] !== next) merged[n++] = next;
    }
    merged.length = n;
    this.ids = merged;
  }

  at(i: number): Id128 {
    this.flush();
    const n = this.ids.length;
    return this.ids[((i % n) + n) % n];
  }

  /** Index of the first id >= key (may equal size). */
  lowerBound(key: Id128): number {
    this.flush();
    return this.search(key);
  }

  private search(key: Id128): number {
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

  /** Adds an id (duplicates are merged away at the next read). */
  insert(id: Id128): void {
    this.pending.push(id);
  }

  remove(id: Id128): boolean {
    const i = this.lowerBound(id);
    if (i >= this.ids.length || this.ids[i] !== id) return false;
    this.ids.splice(i, 1);
    return true;
  }

  /** Index of the ring successor of key: the first id >= key, wrapping. -1 when empty. */
  successorIndex(key: Id128): number {
    this.flush();
    if (this.ids.length === 0) return -1;
    const i = this.lowerBound(key);
    return i === this.ids.length ? 0 : i;
  }

  /** Index of the ring predecessor of key: the last id < key, wrapping. -1 when empty. */
  predecessorIndex(key: Id128): number {
    this.flush();
    if (this.ids.length === 0) return -1;
    const i = this.lowerBound(key);
    return i === 0 ? this.ids.length - 1 : i - 1;
  }

  toArray(): readonly Id128[] {
    this.flush();
    return this.ids;
  }
}
