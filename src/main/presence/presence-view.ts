// What a PRESENCE record means to a watcher: the newest live value's state, or offline when there
// is none (never published, tombstoned on a clean stop, or past storageTime + lifetime after a
// crash). Pure functions: the service and the gateway notifier share them.
import { decodeJson, type PresenceState } from '../../core/records/kinds.ts';
import type { StoredValue } from '../../core/records/types.ts';

export type PresenceView = {
  state: PresenceState | 'offline';
  note?: string;
  since: number;
};

/** The JSON a PRESENCE value carries: PresenceData plus when the state began. */
export interface PresenceRecord {
  state: PresenceState;
  note?: string;
  since?: number;
}

const STATES: ReadonlySet<string> = new Set(['available', 'ringing', 'on-call', 'dnd', 'away']);

/** The newest live PRESENCE value, if any. */
export function livePresence(values: StoredValue[], now: number): StoredValue | undefined {
  let best: StoredValue | undefined;
  for (const v of values) {
    if (v.kind !== 'PRESENCE' || !v.exists || now >= v.storageTime + v.lifetime) continue;
    if (!best || v.storageTime > best.storageTime) best = v;
  }
  return best;
}

/** The view of a resource's PRESENCE values at `now`. */
export function presenceViewOf(values: StoredValue[], now: number): PresenceView {
  const live = livePresence(values, now);
  if (!live) return { state: 'offline', since: offlineSince(values) };
  const d = decodeJson<Partial<PresenceRecord>>(live.value);
  if (!d.ok || typeof d.value !== 'object' || d.value === null || !STATES.has(String(d.value.state)))
    return { state: 'offline', since: live.storageTime };
  const note = typeof d.value.note === 'string' ? d.value.note.slice(0, 200) : undefined;
  const since =
    typeof d.value.since === 'number' && Number.isFinite(d.value.since) ? d.value.since : live.storageTime;
  return { state: d.value.state as PresenceState, ...(note ? { note } : {}), since };
}

/** When a user went offline: its tombstone's time or the end of its last record's lifetime. */
function offlineSince(values: StoredValue[]): number {
  let t = 0;
  for (const v of values) {
    if (v.kind !== 'PRESENCE') continue;
    t = Math.max(t, v.exists ? v.storageTime + v.lifetime : v.storageTime);
  }
  return t;
}

/** When the view of `values` changes by time alone (the live record expires), or null. */
export function presenceExpiry(values: StoredValue[], now: number): number | null {
  const live = livePresence(values, now);
  return live ? live.storageTime + live.lifetime : null;
}

export function samePresence(a: PresenceView | null, b: PresenceView): boolean {
  return a !== null && a.state === b.state && a.note === b.note;
}
