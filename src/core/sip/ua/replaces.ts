// The Replaces header (RFC 3891): parse and build it, and the Refer-To URI of an attended transfer
// (RFC 5589 section 7) that carries it as an escaped URI header. Parsers return typed errors.

import type { SipUri } from '../message.ts';

export interface ReplacesTarget {
  callId: string;
  /** The replaced dialog's local tag at the UA receiving the INVITE (its To tag there). */
  toTag: string;
  /** The replaced dialog's remote tag at the UA receiving the INVITE. */
  fromTag: string;
  /** Only an early dialog may be replaced (6.1); a confirmed one answers 486. */
  earlyOnly: boolean;
}

export type ReplacesParse = { ok: true; value: ReplacesTarget } | { ok: false; error: string };

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
// Call-ID is word ["@" word]; word is a wider token set (RFC 3261 25.1).
const CALL_ID = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+(@[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+)?$/;

/** Parses `callid;to-tag=x;from-tag=y[;early-only]` (6.1). */
export function parseReplaces(value: string): ReplacesParse {
  const parts = value.split(';').map((p) => p.trim());
  const callId = parts[0];
  if (!callId || !CALL_ID.test(callId)) return { ok: false, error: 'bad call-id' };
  let toTag: string | null = null;
  let fromTag: string | null = null;
  let earlyOnly = false;
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? null : p.slice(eq + 1).trim();
    if (!TOKEN.test(name)) return { ok: false, error: `bad parameter ${name}` };
    if (name === 'to-tag' || name === 'from-tag') {
      if (!v || !TOKEN.test(v)) return { ok: false, error: `bad ${name}` };
      if (name === 'to-tag') toTag = v;
      else fromTag = v;
    } else if (name === 'early-only') earlyOnly = true;
  }
  if (toTag === null || fromTag === null) return { ok: false, error: 'to-tag and from-tag are required' };
  return { ok: true, value: { callId, toTag, fromTag, earlyOnly } };
}

export function serializeReplaces(r: ReplacesTarget): string {
  return `${r.callId};to-tag=${r.toTag};from-tag=${r.fromTag}${r.earlyOnly ? ';early-only' : ''}`;
}

/**
 * The Refer-To URI of an attended transfer: the target's URI with the consultation dialog in an
 * embedded Replaces header. `dialog` is the transferor's view (its local tag is the target's
 * remote tag), so the tags swap: to-tag = the target's tag, from-tag = ours (RFC 5589 7.1).
 */
export function referToWithReplaces(
  target: SipUri,
  dialog: { callId: string; localTag: string; remoteTag: string },
): SipUri {
  const replaces = serializeReplaces({
    callId: dialog.callId,
    toTag: dialog.remoteTag,
    fromTag: dialog.localTag,
    earlyOnly: false,
  });
  return { ...target, params: { ...target.params }, headers: { Replaces: replaces } };
}

/** The Replaces value embedded in a Refer-To URI (header names are case-insensitive), or null. */
export function replacesOfUri(uri: SipUri): string | null {
  for (const k in uri.headers) if (k.toLowerCase() === 'replaces') return uri.headers[k];
  return null;
}

/** The URI without its embedded headers: where the INVITE of a transfer goes. */
export function withoutUriHeaders(uri: SipUri): SipUri {
  return { ...uri, params: { ...uri.params }, headers: {} };
}
