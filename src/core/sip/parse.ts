// RFC 3261 message parser (sans-IO): one datagram or one framed stream message in, a typed
// SipMessage or a typed error out. It never throws.
//
// The header/body boundary is found on the bytes (the body stays bytes; Content-Length counts
// bytes), the header section is decoded as UTF-8 and scanned line by line. Via, From, To, Call-ID,
// CSeq, Max-Forwards and Content-Length are parsed eagerly; every other header is kept raw.

import { isToken, scan, TOKEN } from './grammar.ts';
import { parseNameAddr } from './grammar-nameaddr.ts';
import { parseViaInto } from './grammar-via.ts';
import {
  type CSeq,
  canonicalHeaderName,
  EMPTY_BODY,
  type Header,
  type NameAddr,
  type SipMessage,
  type SipRequest,
  type SipUri,
  type Via,
} from './message.ts';
import { parseUriRange } from './uri.ts';

export { parseNameAddr, parseNameAddrList } from './grammar-nameaddr.ts';
export { parseVia } from './grammar-via.ts';
export { parseUri } from './uri.ts';

export type SipParseErrorCode =
  | 'empty' // no start line at all
  | 'incomplete' // no empty line ending the header section
  | 'start-line' // malformed Request-Line / Status-Line (incl. bad Request-URI)
  | 'version' // well-formed but not SIP/2.0: answer 505
  | 'header' // a malformed header line or a malformed typed header
  | 'missing-header' // Via, From, To, Call-ID or CSeq absent
  | 'content-length' // repeated, negative or non-numeric Content-Length
  | 'body' // body shorter than Content-Length
  | 'cseq-mismatch' // CSeq method differs from the request method
  | 'too-many-headers'
  | 'internal'; // a bug: the defensive catch fired

export interface SipParseError {
  code: SipParseErrorCode;
  reason: string;
  /** Best-effort partial message, enough to build a 400 (via/from/to/callId/cseq when they parsed). */
  partial?: Partial<Omit<SipRequest, 'type'>> & {
    type?: 'request' | 'response';
    status?: number;
    reason?: string;
  };
}

export type ParseResult = { ok: true; message: SipMessage } | { ok: false; error: SipParseError };

/** A hard cap on header lines: far above any legitimate message, bounds work on hostile input. */
export const MAX_HEADER_LINES = 1024;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The mutable state one parse builds; turned into the partial info of an error. */
interface Draft {
  type?: 'request' | 'response';
  method?: string;
  uri?: SipUri;
  status?: number;
  reason?: string;
  via: Via[];
  from?: NameAddr;
  to?: NameAddr;
  callId?: string;
  cseq?: CSeq;
  maxForwards: number | null;
  headers: Header[];
  contentLength: number;
}

function fail(code: SipParseErrorCode, reason: string, d?: Draft): ParseResult {
  if (!d) return { ok: false, error: { code, reason } };
  const partial: SipParseError['partial'] = {};
  if (d.type) partial.type = d.type;
  if (d.method) partial.method = d.method;
  if (d.uri) partial.uri = d.uri;
  if (d.status !== undefined) partial.status = d.status;
  if (d.via.length) partial.via = d.via;
  if (d.from) partial.from = d.from;
  if (d.to) partial.to = d.to;
  if (d.callId) partial.callId = d.callId;
  if (d.cseq) partial.cseq = d.cseq;
  if (d.maxForwards !== null) partial.maxForwards = d.maxForwards;
  partial.headers = d.headers;
  return { ok: false, error: { code, reason, partial } };
}

/** Parses one SIP message. Never throws. */
export function parseMessage(data: Uint8Array | string): ParseResult {
  try {
    return typeof data === 'string' ? parseString(data) : parseBytes(data);
  } catch (e) {
    return fail('internal', `parser bug: ${String(e)}`);
  }
}

function parseBytes(b: Uint8Array): ParseResult {
  const n = b.length;
  let start = 0;
  // RFC 3261 section 7.5: ignore CRLFs before the start line (keep-alives, stream leftovers).
  while (start < n && (b[start] === 13 || b[start] === 10)) start++;
  if (start >= n) return fail('empty', 'no start line');
  let nl = b.indexOf(10, start);
  while (nl >= 0) {
    const next = b[nl + 1];
    if (next === 10) return parseHead(decoder.decode(b.subarray(start, nl + 1)), b.subarray(nl + 2));
    if (next === 13 && b[nl + 2] === 10) {
      return parseHead(decoder.decode(b.subarray(start, nl + 1)), b.subarray(nl + 3));
    }
    nl = b.indexOf(10, nl + 1);
  }
  return fail('incomplete', 'no empty line after the headers');
}

function parseString(s: string): ParseResult {
  const n = s.length;
  let start = 0;
  while (start < n && (s.charCodeAt(start) === 13 || s.charCodeAt(start) === 10)) start++;
  if (start >= n) return fail('empty', 'no start line');
  let nl = s.indexOf('\n', start);
  while (nl >= 0) {
    const next = s.charCodeAt(nl + 1);
    if (next === 10) return parseHead(s.slice(start, nl + 1), encodeBody(s, nl + 2));
    if (next === 13 && s.charCodeAt(nl + 2) === 10) {
      return parseHead(s.slice(start, nl + 1), encodeBody(s, nl + 3));
    }
    nl = s.indexOf('\n', nl + 1);
  }
  return fail('incomplete', 'no empty line after the headers');
}

function encodeBody(s: string, from: number): Uint8Array {
  return from >= s.length ? EMPTY_BODY : encoder.encode(s.slice(from));
}

/** End of the line starting at i (index of CR of CRLF, or of a bare LF). */
function lineEnd(s: string, nl: number, i: number): number {
  return nl > i && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
}

/**
 * Parses the header section `h` (start line + header lines, each ending in LF or CRLF) and
 * attaches `rest` as the body (cut to Content-Length when there is one).
 */
function parseHead(h: string, rest: Uint8Array): ParseResult {
  const d: Draft = { via: [], maxForwards: null, headers: [], contentLength: -1 };
  let nl = h.indexOf('\n');
  const slEnd = lineEnd(h, nl, 0);
  // The first problem found is the one reported, but parsing goes on so that the error's partial
  // message carries every typed header that did parse (a 400 or 505 needs Via, From, To ...).
  let problem: SipParseError | null = null;
  const sl = parseStartLine(h, slEnd, d);
  if (sl && !sl.ok) {
    if (!d.type) return sl; // not even a request or response: nothing to answer
    problem = sl.error;
  }

  let i = nl + 1;
  const n = h.length;
  let lines = 0;
  while (i < n) {
    // One logical header: a line plus its continuation lines (starting with SP/HT).
    nl = h.indexOf('\n', i);
    if (nl < 0) nl = n; // cannot happen: the section ends with LF
    let end = lineEnd(h, nl, i);
    let next = nl + 1;
    if (++lines > MAX_HEADER_LINES) return fail('too-many-headers', 'too many header lines', d);
    const first = h.charCodeAt(i);
    if (first === 32 || first === 9) {
      problem ??= { code: 'header', reason: 'continuation line without a header' };
      i = next;
      continue;
    }
    const colon = h.indexOf(':', i);
    let nameEnd = colon;
    while (nameEnd > i && (h.charCodeAt(nameEnd - 1) === 32 || h.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
    if (colon < 0 || colon > end || nameEnd === i || scan(h, i, nameEnd, TOKEN) !== nameEnd) {
      problem ??= {
        code: 'header',
        reason: colon < 0 || colon > end ? 'header line without a colon' : 'malformed header name',
      };
      i = next; // its continuation lines are skipped one by one above
      continue;
    }
    let vs = colon + 1;
    while (vs < end && (h.charCodeAt(vs) === 32 || h.charCodeAt(vs) === 9)) vs++;
    let value: string | null = null;
    while (next < n && (h.charCodeAt(next) === 32 || h.charCodeAt(next) === 9)) {
      // Folding: CRLF + WS is equivalent to one SP.
      value = `${value ?? h.slice(vs, end)} `;
      let cs = next;
      while (cs < n && (h.charCodeAt(cs) === 32 || h.charCodeAt(cs) === 9)) cs++;
      nl = h.indexOf('\n', cs);
      if (nl < 0) nl = n;
      end = lineEnd(h, nl, cs);
      value += h.slice(cs, end);
      next = nl + 1;
    }
    if (value === null) {
      while (end > vs && (h.charCodeAt(end - 1) === 32 || h.charCodeAt(end - 1) === 9)) end--;
      value = h.slice(vs, end);
    } else {
      value = value.trim();
    }
    // A CR not followed by LF is not a line end anywhere in SIP; some parsers treat it as one,
    // so a value carrying it could smuggle a header past them.
    if (value.indexOf('\r') >= 0) {
      problem ??= { code: 'header', reason: 'bare CR in a header value' };
      i = next;
      continue;
    }
    const err = addHeader(d, h.slice(i, nameEnd), value);
    if (err && !err.ok) problem ??= err.error;
    i = next;
  }
  if (problem) return fail(problem.code, problem.reason, d);
  return finish(d, rest);
}

function parseStartLine(h: string, end: number, d: Draft): ParseResult | null {
  const sp1 = h.indexOf(' ', 0);
  if (sp1 <= 0 || sp1 >= end) return fail('start-line', 'malformed start line');
  if (sp1 >= 4 && h.charCodeAt(3) === 47 && h.slice(0, 4).toUpperCase() === 'SIP/') {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    d.type = 'response';
    const vErr = checkVersion(h, 0, sp1, d);
    if (vErr) return vErr;
    const cs = sp1 + 1;
    let status = 0;
    let j = cs;
    while (j < end && j - cs < 4) {
      const c = h.charCodeAt(j);
      if (c < 48 || c > 57) break;
      status = status * 10 + (c - 48);
      j++;
    }
    if (j - cs !== 3 || status < 100) return fail('start-line', 'status code is not 3 digits', d);
    if (j < end && h.charCodeAt(j) !== 32) return fail('start-line', 'status code is not 3 digits', d);
    d.status = status;
    d.reason = j < end ? h.slice(j + 1, end) : '';
    if (d.reason.indexOf('\r') >= 0) return fail('start-line', 'bare CR in the reason phrase', d);
    return null;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (exactly one SP each)
  d.type = 'request';
  const method = h.slice(0, sp1);
  if (!isToken(method)) return fail('start-line', 'malformed method', d);
  d.method = method;
  const sp2 = h.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 >= end) return fail('start-line', 'request line needs three parts', d);
  const uri = parseUriRange(h, sp1 + 1, sp2);
  if (!uri) return fail('start-line', 'malformed Request-URI', d);
  d.uri = uri;
  // RFC 3261 section 19.1.5 / RFC 4475 3.1.2.11 (escruri): headers are not allowed in a Request-URI.
  for (const _ in uri.headers) return fail('start-line', 'Request-URI carries URI headers', d);
  return checkVersion(h, sp2 + 1, end, d);
}

function checkVersion(h: string, i: number, end: number, d: Draft): ParseResult | null {
  // SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (case-insensitive "SIP")
  if (
    end - i === 7 &&
    h.charCodeAt(i + 4) === 50 &&
    h.charCodeAt(i + 5) === 46 &&
    h.charCodeAt(i + 6) === 48
  ) {
    if (h.slice(i, i + 4).toUpperCase() === 'SIP/') return null;
  }
  if (end - i > 4 && h.slice(i, i + 4).toUpperCase() === 'SIP/') {
    const dot = h.indexOf('.', i + 4);
    const ok = dot > i + 4 && dot < end - 1 && allDigits(h, i + 4, dot) && allDigits(h, dot + 1, end);
    if (ok) return fail('version', `unsupported version ${h.slice(i, end)}`, d);
  }
  return fail('start-line', 'malformed SIP version', d);
}

function allDigits(s: string, i: number, end: number): boolean {
  if (i >= end) return false;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Parses a non-negative decimal that fits 2^31 - 1; -1 otherwise. */
function parseUint31(s: string): number {
  if (s.length === 0 || s.length > 10) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v <= 0x7fffffff ? v : -1;
}

function addHeader(d: Draft, rawName: string, value: string): ParseResult | null {
  // Fast path: the typed headers by their usual spellings and compact forms.
  let key = rawName;
  if (rawName.length <= 14) key = rawName.toLowerCase();
  switch (key) {
    case 'via':
    case 'v':
      if (!parseViaInto(value, d.via)) return fail('header', 'malformed Via', d);
      return null;
    case 'from':
    case 'f': {
      if (d.from) return fail('header', 'more than one From', d);
      const a = parseNameAddr(value);
      if (!a) return fail('header', 'malformed From', d);
      d.from = a;
      return null;
    }
    case 'to':
    case 't': {
      if (d.to) return fail('header', 'more than one To', d);
      const a = parseNameAddr(value);
      if (!a) return fail('header', 'malformed To', d);
      d.to = a;
      return null;
    }
    case 'call-id':
    case 'i':
      if (d.callId !== undefined) return fail('header', 'more than one Call-ID', d);
      if (!isCallId(value)) return fail('header', 'malformed Call-ID', d);
      d.callId = value;
      return null;
    case 'cseq': {
      if (d.cseq) return fail('header', 'more than one CSeq', d);
      let sp = 0;
      while (sp < value.length && value.charCodeAt(sp) !== 32 && value.charCodeAt(sp) !== 9) sp++;
      const seq = parseUint31(value.slice(0, sp));
      let ms = sp;
      while (ms < value.length && (value.charCodeAt(ms) === 32 || value.charCodeAt(ms) === 9)) ms++;
      const method = value.slice(ms);
      if (seq < 0 || ms === sp || !isToken(method)) return fail('header', 'malformed CSeq', d);
      d.cseq = { seq, method };
      return null;
    }
    case 'max-forwards': {
      if (d.type === 'response') break; // meaningless in a response: keep it raw
      if (d.maxForwards !== null) return fail('header', 'more than one Max-Forwards', d);
      const mf = parseUint31(value);
      if (mf < 0 || mf > 255) return fail('header', 'malformed Max-Forwards', d);
      d.maxForwards = mf;
      return null;
    }
    case 'content-length':
    case 'l': {
      if (d.contentLength >= 0) return fail('content-length', 'more than one Content-Length', d);
      const cl = parseUint31(value);
      if (cl < 0) return fail('content-length', 'malformed Content-Length', d);
      d.contentLength = cl;
      return null;
    }
  }
  d.headers.push({ name: canonicalHeaderName(rawName), value });
  return null;
}

/**
 * callid = word [ "@" word ]. Accepted more loosely: any run of visible characters, because real
 * user agents put "=" or "," (base64) in Call-IDs and dropping their calls helps nobody. Only
 * empty values and whitespace or control characters are refused.
 */
function isCallId(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 32 || c === 127) return false;
  }
  return true;
}

function finish(d: Draft, rest: Uint8Array): ParseResult {
  if (d.via.length === 0) return fail('missing-header', 'missing Via', d);
  if (!d.from) return fail('missing-header', 'missing From', d);
  if (!d.to) return fail('missing-header', 'missing To', d);
  if (d.callId === undefined) return fail('missing-header', 'missing Call-ID', d);
  if (!d.cseq) return fail('missing-header', 'missing CSeq', d);
  let body = rest;
  if (d.contentLength >= 0) {
    if (rest.length < d.contentLength) {
      return fail('body', `body has ${rest.length} bytes, Content-Length says ${d.contentLength}`, d);
    }
    // A datagram may carry trailing bytes beyond Content-Length: they are discarded.
    body = rest.subarray(0, d.contentLength);
  }
  // Copy: the body must not alias a transport buffer that may be reused (and must be a plain
  // Uint8Array even when the input was a Node Buffer).
  body = body.length === 0 ? EMPTY_BODY : new Uint8Array(body);
  if (d.type === 'request') {
    if (d.cseq.method !== d.method) {
      return fail('cseq-mismatch', `CSeq method ${d.cseq.method} differs from ${d.method}`, d);
    }
    const msg: SipRequest = {
      type: 'request',
      method: d.method!,
      uri: d.uri!,
      via: d.via,
      from: d.from,
      to: d.to,
      callId: d.callId,
      cseq: d.cseq,
      maxForwards: d.maxForwards,
      headers: d.headers,
      body,
    };
    return { ok: true, message: msg };
  }
  return {
    ok: true,
    message: {
      type: 'response',
      status: d.status!,
      reason: d.reason ?? '',
      via: d.via,
      from: d.from,
      to: d.to,
      callId: d.callId,
      cseq: d.cseq,
      headers: d.headers,
      body,
    },
  };
}
