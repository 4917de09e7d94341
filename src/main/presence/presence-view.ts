// What a PRESENCE record means to a watcher: the newest live value's state, or offline when there
// is none (never published, tombstoned on a clean stop, or past storageTime + lifetime after a
// crash). Pure functions: the service and the gateway notifier share them.
import { type DeviceStateData, decodeJson, type PresenceState } from '../../core/records/kinds.ts';
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

// --- merged with the desk phones' DEVICE-STATE entries (written by their gateway peers) --------

const BUSY_RANK: Record<string, number> = { 'on-call': 2, ringing: 1 };

/** Live DEVICE-STATE entries' states (one per gateway that serves a desk phone of the extension). */
function liveDeviceStates(values: StoredValue[], now: number): Array<{ state: string; since: number }> {
  const out: Array<{ state: string; since: number }> = [];
  for (const v of values) {
    if (v.kind !== 'DEVICE-STATE' || !v.exists || now >= v.storageTime + v.lifetime) continue;
    const d = decodeJson<Partial<DeviceStateData>>(v.value);
    if (!d.ok || typeof d.value !== 'object' || d.value === null) continue;
    const state = String(d.value.state);
    if (state !== 'available' && state !== 'ringing' && state !== 'on-call') continue;
    const since =
      typeof d.value.since === 'number' && Number.isFinite(d.value.since) ? d.value.since : v.storageTime;
    out.push({ state, since });
  }
  return out;
}

/**
 * An extension's view from its PRESENCE and its desk phones' DEVICE-STATE values: a phone on a
 * call beats one ringing, and either beats the user's own PRESENCE (even dnd/away: the line is
 * busy); otherwise the user's PRESENCE when live; otherwise a registered idle desk phone makes the
 * extension available; otherwise offline.
 */
export function mergedPresenceViewOf(values: StoredValue[], now: number): PresenceView {
  const own = presenceViewOf(values, now);
  const devices = liveDeviceStates(values, now);
  let busy: { state: string; since: number } | null = null;
  for (const d of devices) {
    const rank = BUSY_RANK[d.state] ?? 0;
    if (rank > 0 && (!busy || rank > (BUSY_RANK[busy.state] ?? 0))) busy = d;
  }
  if (busy && (BUSY_RANK[own.state] ?? 0) < (BUSY_RANK[busy.state] ?? 0))
    return { state: busy.state as PresenceState, since: busy.since };
  if (own.state !== 'offline') return own;
  const idle = devices.find((d) => d.state === 'available');
  return idle ? { state: 'available', since: idle.since } : own;
}

/** When the merged view may change by time alone (the first live PRESENCE or DEVICE-STATE expires). */
export function mergedExpiry(values: StoredValue[], now: number): number | null {
  let at: number | null = null;
  for (const v of values) {
    if ((v.kind !== 'PRESENCE' && v.kind !== 'DEVICE-STATE') || !v.exists) continue;
    const end = v.storageTime + v.lifetime;
    if (end > now && (at === null || end < at)) at = end;
  }
  return at;
}
