// The peer's overlay identity from its (already chain-verified) certificate: the Node-ID from the
// subjectAltName URI urn:peerpbx:node:<32 hex> and the user from the URI sip:<user>.
// Node renders subjectAltName as "URI:a, URI:b", JSON-quoting values that contain separators
// (since the 2022 CVE-2021-44532 fix), so values are tokenized rather than split on commas.
import type { PeerCertificate } from 'node:tls';

export interface PeerIdentity {
  nodeId: string;
  /** What follows "sip:" in the certificate, e.g. "101@office". */
  user: string;
}

export type PeerIdentityResult = { ok: true; identity: PeerIdentity } | { ok: false; error: string };

export interface AltName {
  type: string;
  value: string;
}

const NODE_URI = /^urn:peerpbx:node:([0-9a-f]{32})$/;
const SIP_URI = /^sip:(.+)$/;

/** Tokenizes Node's subjectaltname string; null when it is not well formed. */
export function parseAltNames(san: string): AltName[] | null {
  const out: AltName[] = [];
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) return null;
    const type = san.slice(i, colon);
    let value: string;
    let end: number;
    if (san[colon + 1] === '"') {
      // JSON string: find the closing quote that is not escaped.
      let j = colon + 2;
      while (j < san.length && san[j] !== '"') j += san[j] === '\\' ? 2 : 1;
      if (j >= san.length) return null;
      try {
        value = JSON.parse(san.slice(colon + 1, j + 1)) as string;
      } catch {
        return null;
      }
      end = j + 1;
    } else {
      const comma = san.indexOf(', ', colon + 1);
      end = comma < 0 ? san.length : comma;
      value = san.slice(colon + 1, end);
    }
    out.push({ type, value });
    if (end >= san.length) break;
    if (san.slice(end, end + 2) !== ', ') return null;
    i = end + 2;
  }
  return out;
}

export function identityFromAltNames(san: string | undefined): PeerIdentityResult {
  if (!san) return { ok: false, error: 'certificate has no subjectAltName' };
  const names = parseAltNames(san);
  if (!names) return { ok: false, error: 'malformed subjectAltName' };
  const nodeIds: string[] = [];
  const users: string[] = [];
  for (const n of names) {
    if (n.type !== 'URI') continue;
    const node = NODE_URI.exec(n.value);
    if (node) nodeIds.push(node[1]);
    const sip = SIP_URI.exec(n.value);
    if (sip) users.push(sip[1]);
  }
  // Exactly one of each: a certificate naming two Node-IDs or two users is ambiguous, refuse it.
  if (nodeIds.length !== 1) return { ok: false, error: `certificate names ${nodeIds.length} Node-IDs` };
  if (users.length !== 1) return { ok: false, error: `certificate names ${users.length} sip users` };
  return { ok: true, identity: { nodeId: nodeIds[0], user: users[0] } };
}

export function identityFromCertificate(cert: PeerCertificate | null | undefined): PeerIdentityResult {
  if (!cert || Object.keys(cert).length === 0) return { ok: false, error: 'no peer certificate' };
  return identityFromAltNames(cert.subjectaltname);
}
