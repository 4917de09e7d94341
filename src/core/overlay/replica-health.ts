// Replica health, measured: which copies of our records the ring confirmed holding. The responsible
// peer learns it from its replicas' answers (digest acknowledged as equal, a sync listing what the
// replica holds, a replicate-ack); a replica learns its range's figure from the responsible peer's
// next digest. Confirmations go stale after `staleMs` without news from that replica (the anti-
// entropy period bounds how long a lost copy can still be counted).
import { slotKey } from '../records/slot.ts';
import type { NodeId, ResourceId, StoredValue } from '../records/types.ts';
import { between } from './ids.ts';

export type SlotStamp = Pick<StoredValue, 'resourceId' | 'kind' | 'key' | 'storageTime'>;

interface ReplicaState {
  /** slotKey -> newest storage time this replica confirmed holding. */
  slots: Map<string, number>;
  heardAt: number;
}

interface SentDigest {
  rangeKey: string;
  hash: string;
  slots: Map<string, number>;
}

interface RangeReport {
  range: [NodeId, NodeId];
  copies: number;
  at: number;
}

const rangeKeyOf = (range: readonly [NodeId, NodeId]) => `${range[0]}|${range[1]}`;

function stamps(values: readonly SlotStamp[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) {
    const k = slotKey(v);
    m.set(k, Math.max(m.get(k) ?? -1, v.storageTime));
  }
  return m;
}

/** The responsible peer's side: copies its replicas confirmed, per slot. */
export class ReplicaConfirmations {
  private readonly replicas = new Map<NodeId, ReplicaState>();
  private readonly sent = new Map<NodeId, SentDigest>();

  constructor(private readonly staleMs: number) {}

  /** Remembers what a digest sent to `replica` stood for, so an "equal" answer confirms those slots. */
  digestSent(replica: NodeId, range: [NodeId, NodeId], hash: string, values: readonly SlotStamp[]): void {
    this.sent.set(replica, { rangeKey: rangeKeyOf(range), hash, slots: stamps(values) });
  }

  /** The replica found its digest equal to ours: it holds every slot of the snapshot. */
  digestMatched(replica: NodeId, range: [NodeId, NodeId], hash: string, now: number): boolean {
    const s = this.sent.get(replica);
    if (!s || s.rangeKey !== rangeKeyOf(range) || s.hash !== hash) return false;
    this.sent.delete(replica);
    const r = this.state(replica, now);
    for (const [k, t] of s.slots) r.slots.set(k, Math.max(r.slots.get(k) ?? -1, t));
    return true;
  }

  /** The replica listed everything it holds in our range (a sync): exactly those slots, nothing else. */
  holdingsListed(replica: NodeId, values: readonly SlotStamp[], now: number): void {
    this.replicas.set(replica, { slots: stamps(values), heardAt: now });
  }

  /** The replica stored these values (replicate-ack). */
  valuesStored(replica: NodeId, values: readonly SlotStamp[], now: number): void {
    const r = this.state(replica, now);
    for (const [k, t] of stamps(values)) r.slots.set(k, Math.max(r.slots.get(k) ?? -1, t));
  }

  /** 1 (ours) + replicas among `current` that confirmed `v` (its storage time or newer) recently. */
  copies(v: SlotStamp, current: readonly NodeId[], now: number): number {
    const k = slotKey(v);
    let n = 1;
    for (const id of current) {
      const r = this.replicas.get(id);
      if (r && now - r.heardAt <= this.staleMs && (r.slots.get(k) ?? -1) >= v.storageTime) n++;
    }
    return n;
  }

  /** Drops what we know of peers that are no longer our replicas. */
  retain(current: readonly NodeId[]): void {
    const keep = new Set(current);
    for (const id of this.replicas.keys()) if (!keep.has(id)) this.replicas.delete(id);
    for (const id of this.sent.keys()) if (!keep.has(id)) this.sent.delete(id);
  }

  private state(replica: NodeId, now: number): ReplicaState {
    let r = this.replicas.get(replica);
    if (!r) {
      r = { slots: new Map(), heardAt: now };
      this.replicas.set(replica, r);
    }
    r.heardAt = now;
    return r;
  }
}

/** A replica's side: the copies each responsible peer last reported for its range. */
export class RangeReports {
  private readonly reports = new Map<NodeId, RangeReport>();

  constructor(private readonly staleMs: number) {}

  reported(from: NodeId, range: [NodeId, NodeId], copies: number, now: number): void {
    this.reports.set(from, { range, copies, at: now });
  }

  /** The freshest report whose range holds `rid`, or undefined. */
  copies(rid: ResourceId, now: number): number | undefined {
    let best: RangeReport | undefined;
    for (const [from, r] of this.reports) {
      if (now - r.at > this.staleMs) {
        this.reports.delete(from);
        continue;
      }
      if (between(r.range[0], rid, r.range[1]) && (!best || r.at > best.at)) best = r;
    }
    return best?.copies;
  }
}
