// The enrollment exchange between a joining PC (no certificate yet) and an admin peer, over TLS
// that only the server authenticates: one JSON line each way (plus a "pending" line while the
// request awaits the admin's approval, and the PC's "collected" after a certificate). The admin peer
// listens on its overlay port + 1.
import { createHmac } from 'node:crypto';
import { hashJoinCode, normalizeJoinCode } from '../../core/security/join-codes.ts';

export const ENROLLMENT_PORT_OFFSET = 1;
/** A request or answer larger than this is hostile: a CSR is about 1 KiB. */
export const MAX_LINE_BYTES = 64 * 1024;

export interface JoinRequestLine {
  type: 'join';
  extension: string;
  csr: string;
  code?: string;
  displayName?: string;
}

export type EnrollmentRefusal =
  | 'bad-extension'
  | 'extension-taken'
  | 'bad-code'
  | 'bad-csr'
  | 'denied'
  | 'admin-locked'
  | 'bad-request'
  | 'busy';

export type EnrollmentAnswer =
  | { type: 'pending'; requestId: string }
  | {
      type: 'issued';
      office: string;
      certificatePem: string;
      caPem: string;
      /** With a code: HMAC proving the admin knew the code (the joiner authenticates the office). */
      proof?: string;
    }
  | { type: 'refused'; refusal: EnrollmentRefusal; reason: string };

export function enrollmentPort(overlayPort: number): number {
  return overlayPort + ENROLLMENT_PORT_OFFSET;
}

/** Both sides compute it: the admin from the invite that matched, the PC from the code it typed. */
export function codeProof(code: string, caFingerprint: string, certificatePem: string): string | null {
  const n = normalizeJoinCode(code);
  if (!n.ok) return null;
  return createHmac('sha256', hashJoinCode(n.code))
    .update(`${caFingerprint.toLowerCase()}\n${certificatePem}`)
    .digest('hex');
}

const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

export function parseJoinRequest(
  line: string,
): { ok: true; req: JoinRequestLine } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const o = v as Record<string, unknown>;
  if (!o || typeof o !== 'object' || o.type !== 'join') return { ok: false, reason: 'not a join request' };
  if (!str(o.extension, 16) || !str(o.csr, 16 * 1024))
    return { ok: false, reason: 'extension or csr missing' };
  if (o.code !== undefined && !str(o.code, 64)) return { ok: false, reason: 'code malformed' };
  if (o.displayName !== undefined && !str(o.displayName, 128))
    return { ok: false, reason: 'display name too long' };
  return {
    ok: true,
    req: {
      type: 'join',
      extension: o.extension,
      csr: o.csr,
      code: o.code as string | undefined,
      displayName: o.displayName as string | undefined,
    },
  };
}

/**
 * The PC's last line after an "issued" answer: it checked and kept the certificate. Until then the
 * admin holds the extension for it only for a bounded time (a PC that hung up never collects).
 */
export const COLLECTED_LINE = '{"type":"collected"}';

export function isCollectedLine(line: string): boolean {
  try {
    return (JSON.parse(line) as { type?: unknown } | null)?.type === 'collected';
  } catch {
    return false;
  }
}

export function parseAnswer(line: string): EnrollmentAnswer | null {
  try {
    const o = JSON.parse(line) as EnrollmentAnswer;
    if (o && (o.type === 'pending' || o.type === 'issued' || o.type === 'refused')) return o;
  } catch {
    // fall through
  }
  return null;
}

/** Splits a stream into lines, refusing any longer than MAX_LINE_BYTES. */
export function lineReader(onLine: (line: string) => void, onTooLong: () => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) onLine(line);
    }
    if (buf.length > MAX_LINE_BYTES) {
      buf = '';
      onTooLong();
    }
  };
}
