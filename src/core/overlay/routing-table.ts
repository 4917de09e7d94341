// The routing table of one peer (CHORD-RELOAD section 10.3): predecessors, successors, fingers and
// the membership view (every known peer with address, incarnation and last-seen). The ring is the
// sorted view of live peers; neighbour sets are read off it by binary search.
import type { Address } from '../net.ts';
import type { NodeId } from '../records/types.ts';
import { addPowerOfTwo, between, ID_BITS } from './ids.ts';
import type { GossipEvent, MemberStatus, PeerInfo } from './messages.ts';
import { SortedIds } from './sorted-ids.ts';

export const VIEW_BUCKETS = 256;

/** The view-digest bucket of an id: its first byte (about 4 peers per bucket at 1,000 peers). */
export function bucketOf(id: NodeId): number {
  return Number.parseInt(id.slice(0, 2), 16);
}

function idHash32(id: NodeId): number {
  return (Number.parseInt(id.slice(2, 10), 16) ^ Number.parseInt(id.slice(24, 32), 16)) >>> 0;
}

export interface Member {
  id: NodeId;
  address: Address;
  inc: number;
  status: MemberStatus;
  /** Last time a message came straight from this peer (or it was learned, as a grace start). */
  lastHeard: number;
  /** When it was marked dead/left (for probing and forgetting). */
  since: number;
  /** Cached gossip form of this entry (view exchanges send thousands; allocation dominates). */
  event?: GossipEvent;
}

/** The entry as a gossip event, reusing the cached object while it is current. */
export function memberEvent(m: Member): GossipEvent {
  const e = m.event;
  if (e && e.status === m.status && e.peer.inc === m.inc && e.peer.address === m.address) return e;
  m.event = { peer: { id: m.id, address: m.address, inc: m.inc }, status: m.status };
  return m.event;
}

export interface RoutingConfig {
  successors: number;
  predecessors: number;
  /** Past this many live peers the view keeps a random sample plus neighbours and fingers. */
  maxView: number;
}

export class RoutingTable {
  readonly members = new Map<NodeId, Member>();
  readonly ring = new SortedIds();
  /** False once the view had to forget a live peer: then lookups go greedy (Chord) instead of one hop. */
  complete = true;
  private succCache: NodeId[] | null = null;
  private predCache: NodeId[] | null = null;
  private fingerCache: Set<NodeId> | null = null;
  private fingerStarts: NodeId[] | null = null;
  /** Dead/left peers in an array for O(1) random picks (probing them heals partitions). */
  private goneIds: NodeId[] = [];
  private goneIndex = new Map<NodeId, number>();

  constructor(
    readonly self: NodeId,
    private readonly config: RoutingConfig,
    private readonly random: () => number,
  ) {
    this.toggleBucket(self);
  }

  /** Live peers in the view (kept as a counter so writes never force a ring merge). */
  liveCount = 0;

  successors(): NodeId[] {
    if (!this.succCache)
      this.succCache = this.walk(this.ring.successorIndex(this.self), 1, this.config.successors);
    return this.succCache;
  }

  predecessors(): NodeId[] {
    if (!this.predCache)
      this.predCache = this.walk(this.ring.predecessorIndex(this.self), -1, this.config.predecessors);
    return this.predCache;
  }

  private walk(start: number, step: 1 | -1, count: number): NodeId[] {
    const out: NodeId[] = [];
    if (start < 0) return out;
    const n = Math.min(count, this.ring.size);
    for (let k = 0; k < n; k++) {
      const id = this.ring.at(start + step * k);
      if (id === this.self) continue;
      out.push(id);
    }
    return out;
  }

  /** Chord fingers: the successor of self + 2^i for each i, deduplicated. */
  fingers(): Set<NodeId> {
    if (!this.fingerCache) {
      if (!this.fingerStarts) {
        this.fingerStarts = [];
        for (let i = 0; i < ID_BITS; i++) this.fingerStarts.push(addPowerOfTwo(this.self, i));
      }
      const set = new Set<NodeId>();
      for (const start of this.fingerStarts) {
        const i = this.ring.successorIndex(start);
        if (i >= 0) set.add(this.ring.at(i));
      }
      this.fingerCache = set;
    }
    return this.fingerCache;
  }

  /** XOR of id hashes per bucket of the ring (256 buckets): cheap, incremental view digests. */
  readonly buckets = new Uint32Array(VIEW_BUCKETS);

  private toggleBucket(id: NodeId): void {
    this.buckets[bucketOf(id)] ^= idHash32(id);
  }

  /** Members (live and gone) whose ids fall in the given buckets. */
  membersIn(buckets: ReadonlySet<number>): Member[] {
    const out: Member[] = [];
    for (const m of this.members.values()) if (buckets.has(bucketOf(m.id))) out.push(m);
    return out;
  }

  private changed(): void {
    this.succCache = null;
    this.predCache = null;
    this.fingerCache = null;
  }

  /** Is this peer responsible for key: key in (predecessor, self]. */
  responsibleFor(key: NodeId): boolean {
    const preds = this.predecessors();
    return preds.length === 0 || between(preds[0], key, this.self);
  }

  /** Does this peer hold key as responsible or one of `replicas` replicas: key in (pred_replicas, self]. */
  holds(key: NodeId, replicas: number): boolean {
    const preds = this.predecessors();
    if (preds.length <= replicas) return true;
    return between(preds[replicas], key, this.self);
  }

  /**
   * Next hop towards the peer responsible for key (self when it is us). Inside our neighbourhood
   * and with a complete view we go straight to the responsible peer (one hop); with a partial view
   * we go to the closest preceding peer we know (Chord greedy: the distance shrinks every hop).
   */
  nextHop(key: NodeId, exclude?: ReadonlySet<NodeId>): NodeId {
    if (this.ring.size === 0 || this.responsibleFor(key)) return this.self;
    const succs = this.successors();
    const farSucc = succs[succs.length - 1];
    if (this.complete || between(this.self, key, farSucc)) {
      const i = this.ring.successorIndex(key);
      for (let k = 0; k < this.ring.size; k++) {
        const id = this.ring.at(i + k);
        if (id === this.self) return this.self;
        if (!exclude?.has(id)) return id;
      }
      return this.self;
    }
    const i = this.ring.predecessorIndex(key);
    for (let k = 0; k < this.ring.size; k++) {
      const id = this.ring.at(i - k);
      if (!between(this.self, id, key)) break;
      if (!exclude?.has(id)) return id;
    }
    return succs[0] ?? this.self;
  }

  private addGone(id: NodeId): void {
    if (this.goneIndex.has(id)) return;
    this.goneIndex.set(id, this.goneIds.length);
    this.goneIds.push(id);
  }

  private removeGone(id: NodeId): void {
    const i = this.goneIndex.get(id);
    if (i === undefined) return;
    const last = this.goneIds.pop()!;
    if (last !== id) {
      this.goneIds[i] = last;
      this.goneIndex.set(last, i);
    }
    this.goneIndex.delete(id);
  }

  randomGone(): Member | undefined {
    if (this.goneIds.length === 0) return undefined;
    return this.members.get(this.goneIds[Math.floor(this.random() * this.goneIds.length)]);
  }

  /** Forgets peers gone for longer than `retentionMs`. */
  forgetGoneBefore(cutoff: number): void {
    for (let i = this.goneIds.length - 1; i >= 0; i--) {
      const m = this.members.get(this.goneIds[i]);
      if (m && m.since < cutoff) this.forget(m.id);
    }
  }

  get(id: NodeId): Member | undefined {
    return this.members.get(id);
  }

  info(id: NodeId): PeerInfo | undefined {
    const m = this.members.get(id);
    return m ? { id: m.id, address: m.address, inc: m.inc } : undefined;
  }

  /** Adds or refreshes a live peer. Returns true when the ring changed. */
  setAlive(peer: PeerInfo, now: number): boolean {
    if (peer.id === this.self) return false;
    const m = this.members.get(peer.id);
    if (m) {
      m.address = peer.address;
      m.inc = Math.max(m.inc, peer.inc);
      if (m.status === 'alive') return false;
      this.removeGone(peer.id);
      m.status = 'alive';
      m.lastHeard = now;
    } else {
      this.members.set(peer.id, { ...peer, status: 'alive', lastHeard: now, since: now });
    }
    this.ring.insert(peer.id);
    this.toggleBucket(peer.id);
    this.liveCount++;
    this.changed();
    this.evictIfFull();
    return true;
  }

  /** Marks a peer dead or left (kept to ignore stale news and to probe after a partition). */
  setGone(peer: PeerInfo, status: 'dead' | 'left', now: number): boolean {
    if (peer.id === this.self) return false;
    const m = this.members.get(peer.id);
    if (!m) {
      this.members.set(peer.id, { ...peer, status, lastHeard: 0, since: now });
      this.addGone(peer.id);
      return false;
    }
    const wasAlive = m.status === 'alive';
    m.status = status;
    m.inc = Math.max(m.inc, peer.inc);
    m.since = now;
    this.addGone(peer.id);
    if (wasAlive) {
      this.ring.remove(peer.id);
      this.toggleBucket(peer.id);
      this.liveCount--;
      this.changed();
    }
    return wasAlive;
  }

  forget(id: NodeId): void {
    const m = this.members.get(id);
    if (!m) return;
    this.members.delete(id);
    this.removeGone(id);
    if (m.status === 'alive' && this.ring.remove(id)) {
      this.toggleBucket(id);
      this.liveCount--;
      this.changed();
    }
  }

  /** Keeps the view bounded: forgets a random live peer that is neither a neighbour nor a finger. */
  private evictIfFull(): void {
    if (this.liveCount <= this.config.maxView) return;
    this.complete = false;
    const keep = new Set([...this.successors(), ...this.predecessors(), ...this.fingers()]);
    for (let tries = 0; tries < 16; tries++) {
      const id = this.ring.at(Math.floor(this.random() * this.ring.size));
      if (id === this.self || keep.has(id)) continue;
      this.members.delete(id);
      this.ring.remove(id);
      this.toggleBucket(id);
      this.liveCount--;
      this.changed();
      return;
    }
  }

  /** A uniformly random live peer other than self and those in `exclude`. */
  randomLive(exclude?: ReadonlySet<NodeId>): NodeId | undefined {
    for (let tries = 0; tries < 8 && this.ring.size > 0; tries++) {
      const id = this.ring.at(Math.floor(this.random() * this.ring.size));
      if (id !== this.self && !exclude?.has(id)) return id;
    }
    return undefined;
  }
}
