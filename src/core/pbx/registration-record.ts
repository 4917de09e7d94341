// The SIP-REGISTRATION dictionary value (key = Node-ID of the peer that wrote it) and its
// lifecycle: publish with a short lifetime, refresh at a fraction of it, tombstone on clean
// shutdown. A crashed peer's registration then vanishes within one lifetime (principle 4).
// Pure: signing is the caller's `sign` callback (ValueSigner.sign in the peer).

import type { TransportName } from '../net.ts';
import { decodeJson, encodeJson, type SipRegistrationData } from '../records/kinds.ts';
import { userResourceName } from '../records/resource-names.ts';
import type { NodeId, StoredValue } from '../records/types.ts';
import type { ValueWrite } from '../security/value-signing.ts';

/** One reachable contact of an AoR. */
export interface RegistrationContact {
  /** Where to send the INVITE: the softphone's contact, or the gateway peer's URI for a desk phone. */
  uri: string;
  transport?: TransportName;
  /** ms since epoch after which the contact is dead even if the record still lives. */
  expires: number;
  q?: number;
  /** RFC 5626 +sip.instance, when the UA sent one. */
  instance?: string;
  /** The peer that serves this contact (the writer of the record). */
  nodeId: NodeId;
  /** True when the contact is a desk phone registered through the gateway peer `nodeId`. */
  deskPhone: boolean;
  /** SIP address of the gateway peer (e.g. "sip:10.0.0.5:5060"), for desk phones. */
  gatewaySipAddress?: string;
}

/** The dictionary value: compatible with records/kinds.ts SipRegistrationData (extra contact fields). */
export interface RegistrationValue extends SipRegistrationData {
  contacts: RegistrationContact[];
}

export const REGISTRATION_LIFETIME_MS = 120_000;
/** Refresh at 50% of the lifetime: one lost store still leaves a whole half-lifetime to retry. */
export const REFRESH_FRACTION = 0.5;

export function encodeRegistration(v: RegistrationValue): Uint8Array {
  return encodeJson(v);
}

export type RegistrationDecode = { ok: true; value: RegistrationValue } | { ok: false; error: string };

const TRANSPORTS: ReadonlySet<string> = new Set(['UDP', 'TCP', 'TLS']);

function checkContact(c: unknown): string | null {
  if (typeof c !== 'object' || c === null) return 'contact is not an object';
  const o = c as Record<string, unknown>;
  if (typeof o.uri !== 'string' || !/^sips?:/i.test(o.uri)) return 'contact uri must be sip: or sips:';
  if (typeof o.expires !== 'number' || !Number.isFinite(o.expires)) return 'contact expires must be a number';
  if (typeof o.nodeId !== 'string') return 'contact nodeId must be a string';
  if (typeof o.deskPhone !== 'boolean') return 'contact deskPhone must be a boolean';
  if (o.transport !== undefined && !TRANSPORTS.has(o.transport as string)) return 'bad transport';
  if (o.q !== undefined && (typeof o.q !== 'number' || o.q < 0 || o.q > 1)) return 'q must be in [0, 1]';
  for (const f of ['instance', 'gatewaySipAddress'] as const) {
    if (o[f] !== undefined && typeof o[f] !== 'string') return `${f} must be a string`;
  }
  return null;
}

/** Never throws: malformed bytes or shapes become an error. */
export function decodeRegistration(bytes: Uint8Array): RegistrationDecode {
  const d = decodeJson<unknown>(bytes);
  if (!d.ok) return d;
  const o = d.value as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.contacts)) {
    return { ok: false, error: 'contacts must be an array' };
  }
  for (const c of o.contacts) {
    const why = checkContact(c);
    if (why) return { ok: false, error: why };
  }
  if (o.displayName !== undefined && typeof o.displayName !== 'string') {
    return { ok: false, error: 'displayName must be a string' };
  }
  return { ok: true, value: o as unknown as RegistrationValue };
}

export interface RegistrationWriteInput {
  extension: string;
  office: string;
  /** The writing peer: the dictionary key. */
  nodeId: NodeId;
  contacts: RegistrationContact[];
  displayName?: string;
  now: number;
  lifetime?: number;
}

/** The write that publishes (or refreshes) a registration; pass it to ValueSigner.sign. */
export function registrationWrite(i: RegistrationWriteInput): ValueWrite {
  const value: RegistrationValue = { contacts: i.contacts };
  if (i.displayName !== undefined) value.displayName = i.displayName;
  return {
    resourceName: userResourceName(i.extension, i.office),
    kind: 'SIP-REGISTRATION',
    key: i.nodeId,
    value: encodeRegistration(value),
    exists: true,
    storageTime: i.now,
    lifetime: i.lifetime ?? REGISTRATION_LIFETIME_MS,
  };
}

/** The tombstone written on clean shutdown or un-register (exists=false, empty contact list). */
export function registrationRemoval(
  i: Pick<RegistrationWriteInput, 'extension' | 'office' | 'nodeId' | 'now' | 'lifetime'>,
): ValueWrite {
  return {
    resourceName: userResourceName(i.extension, i.office),
    kind: 'SIP-REGISTRATION',
    key: i.nodeId,
    value: encodeRegistration({ contacts: [] }),
    exists: false,
    storageTime: i.now,
    lifetime: i.lifetime ?? REGISTRATION_LIFETIME_MS,
  };
}

/** When to refresh a value stored at `storedAt`. */
export function refreshAt(storedAt: number, lifetime = REGISTRATION_LIFETIME_MS): number {
  return storedAt + Math.floor(lifetime * REFRESH_FRACTION);
}

/**
 * The live contacts of an AoR from the SIP-REGISTRATION values a fetch returned: tombstones,
 * expired values, malformed values and expired contacts are dropped; highest q first.
 * `onBad` is told about each malformed value so the caller can log it (principle 3).
 */
export function liveContacts(
  values: readonly StoredValue[],
  now: number,
  onBad: (v: StoredValue, error: string) => void = () => {},
): RegistrationContact[] {
  const out: RegistrationContact[] = [];
  for (const v of values) {
    if (v.kind !== 'SIP-REGISTRATION' || !v.exists || now >= v.storageTime + v.lifetime) continue;
    const d = decodeRegistration(v.value);
    if (!d.ok) {
      onBad(v, d.error);
      continue;
    }
    for (const c of d.value.contacts) {
      // The record's writer is the only peer that may speak for the contact.
      if (c.expires > now && c.nodeId === v.key) out.push(c);
    }
  }
  return out.sort((a, b) => (b.q ?? 1) - (a.q ?? 1));
}

// ---- the publisher: keeps this peer's registrations alive in the overlay ----------------------

export type PublisherEffect =
  | { type: 'store'; aor: string; value: StoredValue }
  | { type: 'set-timer'; id: string; at: number }
  | { type: 'cancel-timer'; id: string };

interface Published {
  contacts: RegistrationContact[];
  displayName?: string;
}

/**
 * Publishes the registrations this peer is responsible for (its own user, and desk phones it
 * serves), refreshes them before their lifetime ends and tombstones them on removal or shutdown.
 * Timer ids are "reg-pub/<aor>".
 */
export class RegistrationPublisher {
  private readonly aors = new Map<string, Published>();
  private readonly out: PublisherEffect[] = [];

  constructor(
    private readonly cfg: { office: string; nodeId: NodeId; lifetime?: number },
    private readonly sign: (w: ValueWrite) => StoredValue,
  ) {}

  poll(): PublisherEffect | undefined {
    return this.out.shift();
  }

  drain(): PublisherEffect[] {
    return this.out.splice(0);
  }

  get size(): number {
    return this.aors.size;
  }

  /** Publishes (or replaces) the contacts of `aor` (an extension) now, and keeps refreshing them. */
  set(aor: string, contacts: RegistrationContact[], now: number, displayName?: string): void {
    if (contacts.length === 0) {
      this.remove(aor, now);
      return;
    }
    this.aors.set(aor, { contacts, displayName });
    this.publish(aor, now);
  }

  /** Stops refreshing `aor` and writes its tombstone. */
  remove(aor: string, now: number): void {
    if (!this.aors.delete(aor)) return;
    this.out.push({ type: 'cancel-timer', id: timerId(aor) });
    const w = registrationRemoval({ extension: aor, office: this.cfg.office, nodeId: this.cfg.nodeId, now });
    this.out.push({ type: 'store', aor, value: this.sign(w) });
  }

  /** Clean shutdown: tombstones for everything. */
  removeAll(now: number): void {
    for (const aor of [...this.aors.keys()]) this.remove(aor, now);
  }

  /** Writes every registration again now (the ring changed: a record may sit on the wrong peer). */
  republishAll(now: number): void {
    for (const aor of this.aors.keys()) this.timerFired(timerId(aor), now);
  }

  timerFired(id: string, now: number): void {
    if (!id.startsWith('reg-pub/')) return;
    const aor = id.slice('reg-pub/'.length);
    const p = this.aors.get(aor);
    if (!p) return;
    // Contacts that expired since the last write are dropped, not refreshed.
    p.contacts = p.contacts.filter((c) => c.expires > now);
    if (p.contacts.length === 0) this.remove(aor, now);
    else this.publish(aor, now);
  }

  private publish(aor: string, now: number): void {
    const p = this.aors.get(aor);
    if (!p) return;
    const lifetime = this.cfg.lifetime ?? REGISTRATION_LIFETIME_MS;
    const w = registrationWrite({
      extension: aor,
      office: this.cfg.office,
      nodeId: this.cfg.nodeId,
      contacts: p.contacts,
      displayName: p.displayName,
      now,
      lifetime,
    });
    this.out.push({ type: 'store', aor, value: this.sign(w) });
    this.out.push({ type: 'set-timer', id: timerId(aor), at: refreshAt(now, lifetime) });
  }
}

function timerId(aor: string): string {
  return `reg-pub/${aor}`;
}
