// The link's own preface: the accepting side sends one control frame before any overlay frame,
// ACCEPT or REJECT(reason). The dialer sends nothing until ACCEPT. This (1) tells the dialer that
// the server verified its client certificate (in TLS 1.3 the client finishes its handshake before
// the server checks the client's certificate), and (2) lets the acceptor drop a duplicate
// connection of a simultaneous dial before either side has put an overlay frame on it.

const MAGIC0 = 0x50; // 'P'
const MAGIC1 = 0x4c; // 'L'
export const LINK_PROTOCOL_VERSION = 1;
const CODE_ACCEPT = 1;
const CODE_REJECT = 2;

export type LinkControl = { type: 'accept' } | { type: 'reject'; reason: string };

export type LinkControlResult = { ok: true; control: LinkControl } | { ok: false; error: string };

export function encodeLinkControl(c: LinkControl): Uint8Array {
  const reason = c.type === 'reject' ? Buffer.from(c.reason.slice(0, 200), 'utf8') : Buffer.alloc(0);
  const out = Buffer.allocUnsafe(4 + reason.length);
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[2] = LINK_PROTOCOL_VERSION;
  out[3] = c.type === 'accept' ? CODE_ACCEPT : CODE_REJECT;
  out.set(reason, 4);
  return out;
}

export function decodeLinkControl(bytes: Uint8Array): LinkControlResult {
  if (bytes.length < 4 || bytes[0] !== MAGIC0 || bytes[1] !== MAGIC1) {
    return { ok: false, error: 'not a link control frame' };
  }
  if (bytes[2] !== LINK_PROTOCOL_VERSION) {
    return { ok: false, error: `unsupported link protocol version ${bytes[2]}` };
  }
  if (bytes[3] === CODE_ACCEPT && bytes.length === 4) return { ok: true, control: { type: 'accept' } };
  if (bytes[3] === CODE_REJECT) {
    const reason = Buffer.from(bytes.buffer, bytes.byteOffset + 4, bytes.length - 4).toString('utf8');
    return { ok: true, control: { type: 'reject', reason } };
  }
  return { ok: false, error: `unknown link control code ${bytes[3]}` };
}
