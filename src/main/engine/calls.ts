// Live calls as the UI contract sees them: folds the softphone's events (HostCallEvent) into `Call`
// values and says which contract event each change is. Ended calls leave the table (history keeps them).
import type { Call, EngineEvent, HistoryEntry, Party } from '../../core/api/contract.ts';
import type { HostCallEvent, HostHistoryRow } from './host.ts';

/** `"Alice" <sip:102@office>`, `sip:102@host:5060` or `102` -> a contract party. */
export function partyOf(remote: string): Party {
  const uriMatch = /<([^>]*)>/.exec(remote);
  const uri = (uriMatch ? uriMatch[1] : remote).trim().slice(0, 500);
  const nameMatch = /^\s*"?([^"<]*?)"?\s*</.exec(remote);
  const user = /^(?:sips?:)?([^@;>]+)/i.exec(uri)?.[1];
  const party: Party = { uri: /^sips?:/i.test(uri) ? uri : `sip:${uri}` };
  if (user && /^[0-9]{1,15}$/.test(user)) party.extension = user;
  const name = nameMatch?.[1]?.trim();
  if (name) party.displayName = name.slice(0, 64);
  return party;
}

export function historyEntryOf(row: HostHistoryRow): HistoryEntry {
  return {
    id: String(row.id),
    direction: row.direction === 'in' && row.outcome === 'missed' ? 'missed' : row.direction,
    remote: partyOf(row.remote),
    startedAt: row.startedAt,
    duration: Math.max(0, Math.round(row.durationMs / 1000)),
  };
}

export class CallTable {
  private readonly calls = new Map<string, Call>();

  constructor(private readonly clock: () => number) {}

  list(): Call[] {
    return [...this.calls.values()].map((c) => ({ ...c, remote: { ...c.remote } }));
  }

  has(id: string): boolean {
    return this.calls.has(id);
  }

  get(id: string): Call | undefined {
    return this.calls.get(id);
  }

  /** A call this user placed. */
  dialed(id: string, target: string): EngineEvent {
    const call: Call = {
      id,
      direction: 'out',
      remote: partyOf(target),
      state: 'dialing',
      muted: false,
      onHold: false,
      startedAt: this.clock(),
    };
    this.calls.set(id, call);
    return { type: 'call.state', call: { ...call } };
  }

  /** Our own 200 to an incoming call (the phone reports no 'answered' for it). */
  answeredLocally(id: string): EngineEvent | null {
    return this.update(id, (c) => {
      c.state = 'active';
      c.answeredAt ??= this.clock();
    });
  }

  setMuted(id: string, on: boolean): EngineEvent | null {
    return this.update(id, (c) => {
      c.muted = on;
    });
  }

  setHold(id: string, on: boolean): EngineEvent | null {
    return this.update(id, (c) => {
      c.onHold = on;
      c.state = on ? 'held' : 'active';
    });
  }

  /** The contract event for one softphone event, or null when it changes nothing the UI sees. */
  apply(e: HostCallEvent): EngineEvent | null {
    switch (e.type) {
      case 'incoming': {
        if (e.replaces) return this.replacing(e.call, e.from);
        const call: Call = {
          id: e.call,
          direction: 'in',
          remote: partyOf(e.from),
          state: 'incoming',
          muted: false,
          onHold: false,
          startedAt: this.clock(),
        };
        this.calls.set(e.call, call);
        return { type: 'call.incoming', call: { ...call } };
      }
      case 'transferred':
        return this.dialed(e.call, e.target);
      case 'ringing':
        return this.update(e.call, (c) => {
          if (c.state === 'dialing') c.state = 'ringing';
        });
      case 'answered':
        return this.update(e.call, (c) => {
          c.state = 'active';
          c.answeredAt ??= this.clock();
        });
      case 'media-updated':
        return this.update(e.call, (c) => {
          c.onHold = e.held;
          c.state = e.held || e.remoteHold ? 'held' : 'active';
        });
      case 'ended': {
        const ev = this.update(e.call, (c) => {
          c.state = 'ended';
          c.endedAt = this.clock();
          c.endReason = e.status ? `${e.reason} (${e.status})` : e.reason;
        });
        this.calls.delete(e.call);
        return ev;
      }
    }
  }

  /** A call that took over one of ours (attended transfer): answered by the phone, never rings. */
  private replacing(id: string, from: string): EngineEvent {
    const now = this.clock();
    const call: Call = {
      id,
      direction: 'in',
      remote: partyOf(from),
      state: 'active',
      muted: false,
      onHold: false,
      startedAt: now,
      answeredAt: now,
    };
    this.calls.set(id, call);
    return { type: 'call.state', call: { ...call } };
  }

  private update(id: string, change: (c: Call) => void): EngineEvent | null {
    const c = this.calls.get(id);
    if (!c) return null;
    const before = JSON.stringify(c);
    change(c);
    if (JSON.stringify(c) === before) return null;
    return { type: 'call.state', call: { ...c, remote: { ...c.remote } } };
  }
}
