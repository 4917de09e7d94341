// What a peer announces about itself on the LAN (mDNS TXT or broadcast beacon), and the checks
// both decoders share: the values come from anyone on the network, so every field is bounded.

export interface Announcement {
  /** Node-ID as the overlay prints it (hex). */
  nodeId: string;
  office: string;
  caFingerprint: string;
  /** Overlay port. */
  port: number;
  sipPort: number;
  /** Software version of the sender. */
  version: string;
}

export type AnnouncementCheck =
  | { ok: true; announcement: Announcement }
  | { ok: false; field: keyof Announcement };

const STRING_LIMITS = { nodeId: 128, office: 128, caFingerprint: 200, version: 64 } as const;

export function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 65535;
}

function boundedString(v: unknown, max: number): v is string {
  // Control characters have no business in these fields and would poison logs.
  return typeof v === 'string' && v.length > 0 && v.length <= max && !/[\u0000-\u001f\u007f]/.test(v);
}

/** Validates untrusted fields; returns the first bad field's name rather than throwing. */
export function checkAnnouncement(f: Record<keyof Announcement, unknown>): AnnouncementCheck {
  for (const key of ['nodeId', 'office', 'caFingerprint', 'version'] as const) {
    if (!boundedString(f[key], STRING_LIMITS[key])) return { ok: false, field: key };
  }
  if (!isPort(f.port)) return { ok: false, field: 'port' };
  if (!isPort(f.sipPort)) return { ok: false, field: 'sipPort' };
  return { ok: true, announcement: f as Announcement };
}

/** Same office means same name AND same CA: a namesake office with another CA is a stranger. */
export function sameOffice(
  a: Pick<Announcement, 'office' | 'caFingerprint'>,
  b: Pick<Announcement, 'office' | 'caFingerprint'>,
): boolean {
  return a.office === b.office && a.caFingerprint.toLowerCase() === b.caFingerprint.toLowerCase();
}
