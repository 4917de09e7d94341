// Peers seen recently, so the next start can rejoin with no multicast and no --peer flag.

import type Database from 'better-sqlite3';

export interface CachedPeer {
  nodeId: string;
  /** "host:port" of the peer's overlay listener. */
  address: string;
  lastSeen: number;
}

export class PeerCache {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      upsert: db.prepare(
        `INSERT INTO peers (node_id, address, last_seen) VALUES (?, ?, ?)
         ON CONFLICT (node_id) DO UPDATE SET address = excluded.address,
           last_seen = MAX(last_seen, excluded.last_seen)`,
      ),
      recent: db.prepare<[number], { node_id: string; address: string; last_seen: number }>(
        'SELECT node_id, address, last_seen FROM peers ORDER BY last_seen DESC LIMIT ?',
      ),
      prune: db.prepare('DELETE FROM peers WHERE last_seen < ?'),
      remove: db.prepare('DELETE FROM peers WHERE node_id = ?'),
    };
  }

  seen(nodeId: string, address: string, now: number): void {
    this.q.upsert.run(nodeId, address, now);
  }

  /** Most recently seen first. */
  recent(limit = 50): CachedPeer[] {
    return this.q.recent
      .all(limit)
      .map((r) => ({ nodeId: r.node_id, address: r.address, lastSeen: r.last_seen }));
  }

  remove(nodeId: string): void {
    this.q.remove.run(nodeId);
  }

  /** Forgets peers not seen since `before`; returns how many. */
  prune(before: number): number {
    return this.q.prune.run(before).changes;
  }
}
