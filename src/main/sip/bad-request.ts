// The answer to a request that did not parse (RFC 3261 8.2.2, 21.4.1, 21.5.6): a stateless 400, or
// 505 for a foreign SIP version, built from whatever the parser recovered.
import type { Address } from '../../core/net.ts';
import { createResponse } from '../../core/sip/build.ts';
import type { NameAddr, SipRequest, SipResponse, SipUri } from '../../core/sip/message.ts';
import { parseMessage, type SipParseError } from '../../core/sip/parse.ts';
import { responseAddress } from '../../core/sip/transaction/matching.ts';
import { stampVia } from './received.ts';

const INVALID_URI: SipUri = {
  scheme: 'sip',
  user: null,
  password: null,
  host: 'invalid',
  port: null,
  params: {},
  headers: {},
};

/** The message with its start line's version replaced by SIP/2.0 (bounded work: first line only). */
function asSip20(raw: Uint8Array): Uint8Array {
  const eol = raw.indexOf(10);
  if (eol < 0 || eol > 8192) return raw;
  const line = Buffer.from(raw.subarray(0, eol)).toString('latin1');
  const fixed = line.replace(/ SIP\/[^ \r]*(\r?)$/i, ' SIP/2.0$1');
  return Buffer.concat([Buffer.from(fixed, 'latin1'), raw.subarray(eol)]);
}

export function badRequestResponse(
  error: SipParseError,
  source: Address,
  raw?: Uint8Array,
): { res: SipResponse; to: Address } | null {
  let p = error.partial;
  // The parser stops at a start line with a foreign version, before the headers a 505 needs:
  // recover them by parsing the message again as SIP/2.0 (RFC 3261 8.2.2.1 wants the 505).
  if (error.code === 'version' && raw && !p?.via?.length) {
    const retry = parseMessage(asSip20(raw));
    if (retry.ok && retry.message.type === 'request') p = { ...retry.message };
  }
  // Without a Via there is nowhere to send a response (8.2.6 / 18.2.2).
  if (p?.type !== 'request' || !p.via?.length) return null;
  const method = p.method ?? p.cseq?.method ?? '';
  if (method === 'ACK' || p.cseq?.method === 'ACK') return null;
  // Fields that failed to parse are filled with placeholders: the 400 still reaches the sender
  // (and its logs) even if it cannot be matched to a transaction there.
  const unknown: NameAddr = { display: null, uri: { ...INVALID_URI, params: {}, headers: {} }, params: {} };
  const req: SipRequest = {
    type: 'request',
    method,
    uri: p.uri ?? { ...INVALID_URI, params: {}, headers: {} },
    via: p.via,
    from: p.from ?? unknown,
    to: p.to ?? unknown,
    callId: p.callId ?? 'unknown',
    cseq: p.cseq ?? { seq: 0, method: /^[A-Za-z]{1,32}$/.test(method) ? method : 'UNKNOWN' },
    maxForwards: p.maxForwards ?? null,
    headers: [],
    body: new Uint8Array(0),
  };
  stampVia(req, source);
  const status = error.code === 'version' ? 505 : 400;
  // The reason phrase says what was wrong: the sender's logs show it. Keep it one printable line.
  const reason = `Bad Request (${error.reason})`.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
  const res = createResponse(req, status, status === 400 ? reason : undefined);
  return { res, to: responseAddress(req.via[0], source) };
}
