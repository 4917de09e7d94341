// Dissemination queue for membership events (SWIM-style piggybacking): each event rides on the
// next outgoing keepalives until it has been sent `limit` times, so news spreads epidemically in
// O(log N) rounds while every message carries at most `perMessage` events (bounded traffic).
import type { GossipEvent } from './messages.ts';

interface Entry {
  event: GossipEvent;
  sent: number;
}

export class GossipQueue {
  private entries: Entry[] = [];
  private cursor = 0;

  constructor(
    private readonly perMessage: number,
    private readonly maxQueued: number,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /** Queues an event; a newer event about the same peer replaces the older one. */
  push(event: GossipEvent): void {
    const i = this.entries.findIndex((e) => e.event.peer.id === event.peer.id);
    if (i >= 0) this.entries.splice(i, 1);
    this.entries.push({ event, sent: 0 });
    if (this.entries.length > this.maxQueued) this.entries.splice(0, this.entries.length - this.maxQueued);
    if (this.cursor >= this.entries.length) this.cursor = 0;
  }

  /** Events for one outgoing message, round robin; events sent `limit` times are retired. */
  take(limit: number): GossipEvent[] {
    const out: GossipEvent[] = [];
    const n = Math.min(this.perMessage, this.entries.length);
    for (let k = 0; k < n && this.entries.length > 0; k++) {
      if (this.cursor >= this.entries.length) this.cursor = 0;
      const e = this.entries[this.cursor];
      out.push(e.event);
      if (++e.sent >= limit) this.entries.splice(this.cursor, 1);
      else this.cursor++;
    }
    return out;
  }
}
