// The DNS-SD TXT record of `_peerpbx._tcp`: readable keys (dns-sd -L shows them), string values.
// The overlay port is the SRV port; everything else rides in TXT. Decoding is defensive: TXT comes
// from anyone on the LAN.
import { type Announcement, type AnnouncementCheck, checkAnnouncement } from './announcement.ts';

export const SERVICE_TYPE = 'peerpbx';
/** TXT schema version (DNS-SD convention `txtvers`). */
export const TXT_VERSION = '1';

export type PeerTxt = Record<'txtvers' | 'id' | 'office' | 'ca' | 'sip' | 'ver', string>;

export function encodeTxt(a: Announcement): PeerTxt {
  return {
    txtvers: TXT_VERSION,
    id: a.nodeId,
    office: a.office,
    ca: a.caFingerprint,
    sip: String(a.sipPort),
    ver: a.version,
  };
}

function parsePort(v: unknown): number | undefined {
  return typeof v === 'string' && /^\d{1,5}$/.test(v) ? Number(v) : undefined;
}

/** `txt` as bonjour-service decodes it (string values, or anything a hostile sender made of it). */
export function decodeTxt(
  txt: unknown,
  srvPort: unknown,
): AnnouncementCheck | { ok: false; field: 'txtvers' } {
  if (typeof txt !== 'object' || txt === null) return { ok: false, field: 'txtvers' };
  const t = txt as Record<string, unknown>;
  if (t.txtvers !== TXT_VERSION) return { ok: false, field: 'txtvers' };
  return checkAnnouncement({
    nodeId: t.id,
    office: t.office,
    caFingerprint: t.ca,
    port: srvPort,
    sipPort: parsePort(t.sip),
    version: t.ver,
  });
}
