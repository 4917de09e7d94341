// Call history, kept locally per peer (not replicated).

import type Database from 'better-sqlite3';

export type CallDirection = 'in' | 'out';
export type CallOutcome = 'answered' | 'missed' | 'busy' | 'failed' | 'voicemail' | 'rejected';

export interface CallRecord {
  id: number;
  startedAt: number;
  direction: CallDirection;
  localUser: string;
  remote: string;
  durationMs: number;
  outcome: CallOutcome;
}

interface Row {
  id: number;
  started_at: number;
  direction: string;
  local_user: string;
  remote: string;
  duration_ms: number;
  outcome: string;
}

export class CallHistory {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      add: db.prepare(
        `INSERT INTO call_history (started_at, direction, local_user, remote, duration_ms, outcome)
         VALUES (@startedAt, @direction, @localUser, @remote, @durationMs, @outcome)`,
      ),
      list: db.prepare<[number, number], Row>(
        'SELECT * FROM call_history WHERE started_at < ? ORDER BY started_at DESC, id DESC LIMIT ?',
      ),
      prune: db.prepare('DELETE FROM call_history WHERE started_at < ?'),
    };
  }

  add(call: Omit<CallRecord, 'id'>): number {
    return Number(this.q.add.run(call).lastInsertRowid);
  }

  /** Newest first, started before `before` (paging). */
  list(limit = 100, before = Number.MAX_SAFE_INTEGER): CallRecord[] {
    return this.q.list.all(before, limit).map((r) => ({
      id: r.id,
      startedAt: r.started_at,
      direction: r.direction as CallDirection,
      localUser: r.local_user,
      remote: r.remote,
      durationMs: r.duration_ms,
      outcome: r.outcome as CallOutcome,
    }));
  }

  prune(before: number): number {
    return this.q.prune.run(before).changes;
  }
}
