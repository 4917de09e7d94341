// The SIP message model shared by the parser, serializer, transactions and dialogs.
//
// The headers every transaction and dialog needs (Via, From, To, Call-ID, CSeq, Max-Forwards) are
// parsed once into typed fields; every other header stays as raw text in order and is parsed on
// demand. Content-Length is not stored: the serializer computes it from the body.

/** URI and header parameters. Keys are lower-case; a flag parameter (";lr") has the value null. */
export type Params = Record<string, string | null>;

export interface SipUri {
  scheme: string; // 'sip' | 'sips' | 'tel' | other absolute-URI scheme (lower-case)
  user: string | null; // unescaped
  password: string | null;
  host: string; // lower-case for hostnames; IPv6 references keep their brackets: "[::1]"
  port: number | null;
  params: Params;
  headers: Record<string, string>; // ?name=value, unescaped
  /** For non-SIP absolute URIs (e.g. "http:", "urn:"): everything after the scheme, verbatim. */
  opaque?: string;
}

export interface NameAddr {
  display: string | null; // without quotes, unescaped
  uri: SipUri;
  params: Params; // header parameters after the URI (tag, expires, q ...)
}

export interface Via {
  protocol: string; // "SIP/2.0"
  transport: string; // upper-case: UDP, TCP, TLS, SCTP, WS ...
  host: string;
  port: number | null;
  params: Params; // branch, received, rport, maddr, ttl ...
}

export interface CSeq {
  seq: number;
  method: string;
}

export interface Header {
  /** Canonical long form ("Contact", not "m" or "CONTACT"); see canonicalHeaderName. */
  name: string;
  value: string;
}

interface SipMessageBase {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
  /** Every other header except Content-Length, in order of appearance. */
  headers: Header[];
  body: Uint8Array;
}

export interface SipRequest extends SipMessageBase {
  type: 'request';
  method: string;
  uri: SipUri;
  maxForwards: number | null;
}

export interface SipResponse extends SipMessageBase {
  type: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/** RFC 3261 section 17.1.3/17.2.3: branches made by RFC 3261 elements start with this cookie. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

const COMPACT_FORMS: Record<string, string> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

const WELL_KNOWN = [
  'Accept',
  'Accept-Encoding',
  'Accept-Language',
  'Alert-Info',
  'Allow',
  'Allow-Events',
  'Authentication-Info',
  'Authorization',
  'Call-ID',
  'Call-Info',
  'Contact',
  'Content-Disposition',
  'Content-Encoding',
  'Content-Language',
  'Content-Length',
  'Content-Type',
  'CSeq',
  'Date',
  'Error-Info',
  'Event',
  'Expires',
  'From',
  'In-Reply-To',
  'Max-Forwards',
  'MIME-Version',
  'Min-Expires',
  'Organization',
  'Priority',
  'Proxy-Authenticate',
  'Proxy-Authorization',
  'Proxy-Require',
  'Record-Route',
  'Refer-To',
  'Referred-By',
  'Replaces',
  'Reply-To',
  'Require',
  'Retry-After',
  'Route',
  'Server',
  'Session-Expires',
  'Subject',
  'Subscription-State',
  'Supported',
  'Timestamp',
  'To',
  'Unsupported',
  'User-Agent',
  'Via',
  'Warning',
  'WWW-Authenticate',
];
const BY_LOWER = new Map<string, string>();
for (const name of WELL_KNOWN) BY_LOWER.set(name.toLowerCase(), name);
for (const [short, long] of Object.entries(COMPACT_FORMS)) BY_LOWER.set(short, long);

/** Maps compact and any-case header names to one canonical spelling; unknown names keep their case. */
export function canonicalHeaderName(name: string): string {
  return BY_LOWER.get(name.toLowerCase()) ?? name;
}

/**
 * Headers whose values may be comma-separated lists (RFC 3261 section 7.3.1). Authorization-style
 * headers are excluded: their commas separate auth-params of a single value.
 */
export const LIST_HEADERS = new Set([
  'Accept',
  'Accept-Encoding',
  'Accept-Language',
  'Alert-Info',
  'Allow',
  'Allow-Events',
  'Call-Info',
  'Contact',
  'Content-Encoding',
  'Content-Language',
  'Error-Info',
  'In-Reply-To',
  'Proxy-Require',
  'Record-Route',
  'Require',
  'Route',
  'Supported',
  'Unsupported',
  'Via',
  'Warning',
]);

function sameName(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/** The first value of a header, or undefined. `name` may be any case or a compact form. */
export function getHeader(msg: { headers: Header[] }, name: string): string | undefined {
  const canon = canonicalHeaderName(name);
  for (const h of msg.headers) if (sameName(h.name, canon)) return h.value;
  return undefined;
}

/** Every value of a header in order; does not split comma lists (see splitHeaderList). */
export function getHeaders(msg: { headers: Header[] }, name: string): string[] {
  const canon = canonicalHeaderName(name);
  const out: string[] = [];
  for (const h of msg.headers) if (sameName(h.name, canon)) out.push(h.value);
  return out;
}

/** Replaces every occurrence of a header with one value (or removes it when value is undefined). */
export function setHeader(msg: { headers: Header[] }, name: string, value: string | undefined): void {
  const canon = canonicalHeaderName(name);
  msg.headers = msg.headers.filter((h) => !sameName(h.name, canon));
  if (value !== undefined) msg.headers.push({ name: canon, value });
}

export function addHeader(msg: { headers: Header[] }, name: string, value: string): void {
  msg.headers.push({ name: canonicalHeaderName(name), value });
}

export function removeHeader(msg: { headers: Header[] }, name: string): void {
  setHeader(msg, name, undefined);
}

/** Top Via branch, or '' when absent. */
export function topBranch(msg: SipMessage): string {
  const b = msg.via[0]?.params.branch;
  return typeof b === 'string' ? b : '';
}

export function tagOf(addr: NameAddr): string | null {
  const t = addr.params.tag;
  return typeof t === 'string' ? t : null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const EMPTY_BODY = new Uint8Array(0);

export function textBody(text: string): Uint8Array {
  return encoder.encode(text);
}

export function bodyText(msg: { body: Uint8Array }): string {
  return decoder.decode(msg.body);
}

/** Standard reason phrases for the status codes this stack emits. */
export const REASON_PHRASES: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status < 200 ? 'Progress' : status < 300 ? 'OK' : 'Error');
}
