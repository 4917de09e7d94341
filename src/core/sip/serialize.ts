// RFC 3261 message serializer: canonical long header names, typed headers first (Via, From, To,
// Call-ID, CSeq, Max-Forwards), the other headers in order, Content-Length computed from the body.

import { serializeNameAddr } from './grammar-nameaddr.ts';
import { serializeVia } from './grammar-via.ts';
import type { SipMessage } from './message.ts';
import { serializeUri } from './uri.ts';

export { serializeNameAddr } from './grammar-nameaddr.ts';
export { serializeVia } from './grammar-via.ts';
export { serializeUri } from './uri.ts';

const encoder = new TextEncoder();

/**
 * Values set by applications must not break out of their line (header injection): CR and LF
 * become spaces. Parsed values never contain them, so this keeps round trips exact.
 */
function oneLine(v: string): string {
  return v.indexOf('\n') < 0 && v.indexOf('\r') < 0 ? v : v.replace(/[\r\n]+/g, ' ');
}

/** The header section (start line through the empty line) as text. */
export function serializeHead(msg: SipMessage): string {
  let out =
    msg.type === 'request'
      ? `${msg.method} ${serializeUri(msg.uri)} SIP/2.0\r\n`
      : `SIP/2.0 ${msg.status} ${oneLine(msg.reason)}\r\n`;
  for (const v of msg.via) out += `Via: ${serializeVia(v)}\r\n`;
  out += `From: ${serializeNameAddr(msg.from)}\r\nTo: ${serializeNameAddr(msg.to)}\r\nCall-ID: ${msg.callId}\r\nCSeq: ${msg.cseq.seq} ${msg.cseq.method}\r\n`;
  if (msg.type === 'request' && msg.maxForwards !== null) out += `Max-Forwards: ${msg.maxForwards}\r\n`;
  const hs = msg.headers;
  for (let i = 0; i < hs.length; i++) out += `${hs[i].name}: ${oneLine(hs[i].value)}\r\n`;
  return `${out}Content-Length: ${msg.body.length}\r\n\r\n`;
}

export function serializeMessage(msg: SipMessage): Uint8Array {
  const head = encoder.encode(serializeHead(msg));
  const body = msg.body;
  if (body.length === 0) return head;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
