// Dissemination queue for membership events (SWIM-style piggybacking): each event rides on the
// next outgoing keepalives until it has been sent `limit` times, so news spreads epidemically in
// O(log N) rounds while every message carries at most `perMessage` events (bounded traffic).
import type { NodeId } from '../records/types.ts';
import type { GossipEvent } from './messages.ts';

interface Entry {
  event: GossipEvent;
  sent: number;
  /** Superseded by a newer event about the same peer; skipped and removed lazily. */
  stale: boolean;
}

export class GossipQueue {
  private entries: Entry[] = [];
  private readonly latest = new Map<NodeId, Entry>();
  private cursor = 0;

  constructor(
    private readonly perMessage: number,
    private readonly maxQueued: number,
  ) {}

  get size(): number {
    return this.latest.size;
  }

  /** Queues an event; a newer event about the same peer replaces the older one (O(1)). */
  push(event: GossipEvent): void {
    const old = this.latest.get(event.peer.id);
    if (old) old.stale = true;
    const entry: Entry = { event, sent: 0, stale: false };
    this.entries.push(entry);
    this.latest.set(event.peer.id, entry);
    if (this.entries.length > this.maxQueued * 2) this.compact();
  }

  /** Drops stale entries and, past the cap, the oldest ones. */
  private compact(): void {
    const live = this.entries.filter((e) => !e.stale);
    const drop = live.length - this.maxQueued;
    for (let i = 0; i < drop; i++) this.retire(live[i]);
    this.entries = drop > 0 ? live.slice(drop) : live;
    this.cursor = 0;
  }

  private retire(e: Entry): void {
    e.stale = true;
    if (this.latest.get(e.event.peer.id) === e) this.latest.delete(e.event.peer.id);
  }

  /** Events for one outgoing message, round robin; events sent `limit` times are retired. */
  take(limit: number): GossipEvent[] {
    const out: GossipEvent[] = [];
    let scanned = 0;
    const budget = this.entries.length;
    while (out.length < this.perMessage && this.entries.length > 0 && scanned < budget) {
      if (this.cursor >= this.entries.length) this.cursor = 0;
      const e = this.entries[this.cursor];
      scanned++;
      if (e.stale) {
        this.entries.splice(this.cursor, 1);
        continue;
      }
      out.push(e.event);
      if (++e.sent >= limit) {
        this.retire(e);
        this.entries.splice(this.cursor, 1);
      } else this.cursor++;
    }
    return out;
  }
}
