// SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966) and opaque absolute URIs of other schemes.
// Escapes (%XX) in user, password, parameters and headers are decoded on parse and re-applied on
// serialize, so two spellings of one URI parse to equal objects.

import {
  escapeChars,
  HNV_CHARS,
  HOST_CHARS,
  isIpv6Char,
  PARAM_CHARS,
  PASSWORD_CHARS,
  scan,
  USER_CHARS,
  USER_CHARS_IN,
  unescapeChecked,
} from './grammar.ts';
import type { Params, SipUri } from './message.ts';

function isSchemeChar(c: number, first: boolean): boolean {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true;
  if (first) return false;
  return (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
}

/** Opaque URIs must not contain whitespace, controls or the delimiters of the SIP grammar. */
function isOpaqueSafe(s: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 34 || c === 60 || c === 62) return false;
  }
  return true;
}

function parsePort(s: string, i: number, end: number): number {
  if (i >= end || end - i > 5) return -1;
  let port = 0;
  for (let j = i; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return -1;
    port = port * 10 + (c - 48);
  }
  return port <= 65535 ? port : -1;
}

/**
 * Parses `;name[=value]` URI parameters (escaped) from i up to `end` or a "?"; returns the index of
 * the "?"/end, or -1.
 */
function parseUriParams(s: string, i: number, end: number, out: Params): number {
  while (i < end && s.charCodeAt(i) === 59) {
    i++;
    let j = i;
    let eq = -1;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c === 59 || c === 63) break;
      if (c === 61 && eq < 0) eq = j;
      j++;
    }
    const nameEnd = eq < 0 ? j : eq;
    const name = unescapeChecked(s, i, nameEnd, PARAM_CHARS);
    if (!name) return -1;
    let value: string | null = null;
    if (eq >= 0) {
      value = unescapeChecked(s, eq + 1, j, PARAM_CHARS);
      if (value === null) return -1;
    }
    out[name.toLowerCase()] = value;
    i = j;
  }
  return i;
}

function parseUriHeaders(s: string, i: number, end: number, out: Record<string, string>): boolean {
  // i is just after "?"
  while (i <= end) {
    let j = i;
    let eq = -1;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c === 38) break;
      if (c === 61 && eq < 0) eq = j;
      j++;
    }
    if (eq < 0) return false;
    const name = unescapeChecked(s, i, eq, HNV_CHARS);
    const value = unescapeChecked(s, eq + 1, j, HNV_CHARS);
    if (!name || value === null) return false;
    out[name] = value;
    if (j >= end) return true;
    i = j + 1;
  }
  return true;
}

/** Parses s[start, end) as a URI; null when it is not one. */
export function parseUriRange(s: string, start: number, end: number): SipUri | null {
  let i = start;
  if (i >= end || !isSchemeChar(s.charCodeAt(i), true)) return null;
  i++;
  while (i < end && isSchemeChar(s.charCodeAt(i), false)) i++;
  if (i >= end || s.charCodeAt(i) !== 58) return null;
  const scheme = s.slice(start, i).toLowerCase();
  i++;
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(scheme, s, i, end);
  if (scheme === 'tel') {
    let j = i;
    while (j < end && s.charCodeAt(j) !== 59) j++;
    const user = unescapeChecked(s, i, j, PARAM_CHARS);
    if (!user) return null;
    const params: Params = {};
    if (parseUriParams(s, j, end, params) !== end) return null;
    return { scheme, user, password: null, host: '', port: null, params, headers: {} };
  }
  if (!isOpaqueSafe(s, i, end)) return null;
  return {
    scheme,
    user: null,
    password: null,
    host: '',
    port: null,
    params: {},
    headers: {},
    opaque: s.slice(i, end),
  };
}

function parseSipUri(scheme: string, s: string, i: number, end: number): SipUri | null {
  let user: string | null = null;
  let password: string | null = null;
  // Bounded scans (not indexOf): URIs are parsed inside longer strings, e.g. Contact lists.
  let at = i;
  while (at < end && s.charCodeAt(at) !== 64) at++;
  if (at < end) {
    let colon = -1;
    for (let j = i; j < at; j++) {
      if (s.charCodeAt(j) === 58) {
        colon = j;
        break;
      }
    }
    user = unescapeChecked(s, i, colon < 0 ? at : colon, USER_CHARS_IN);
    if (user === null) return null;
    if (colon >= 0) {
      password = unescapeChecked(s, colon + 1, at, PASSWORD_CHARS);
      if (password === null) return null;
    }
    i = at + 1;
  }
  let host: string;
  if (i < end && s.charCodeAt(i) === 91) {
    let close = i + 1;
    while (close < end && isIpv6Char(s.charCodeAt(close))) close++;
    if (close >= end || s.charCodeAt(close) !== 93 || close === i + 1) return null;
    host = s.slice(i, close + 1).toLowerCase();
    i = close + 1;
  } else {
    const hEnd = scan(s, i, end, HOST_CHARS);
    if (hEnd === i) return null;
    host = s.slice(i, hEnd).toLowerCase();
    i = hEnd;
  }
  let port: number | null = null;
  if (i < end && s.charCodeAt(i) === 58) {
    let j = i + 1;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c === 59 || c === 63) break;
      j++;
    }
    port = parsePort(s, i + 1, j);
    if (port < 0) return null;
    i = j;
  }
  const params: Params = {};
  i = parseUriParams(s, i, end, params);
  if (i < 0) return null;
  const headers: Record<string, string> = {};
  if (i < end) {
    if (s.charCodeAt(i) !== 63) return null;
    if (!parseUriHeaders(s, i + 1, end, headers)) return null;
  }
  return { scheme, user, password, host, port, params, headers };
}

/** Parses a URI (SIP, SIPS, tel or any other absolute URI); null when malformed. */
export function parseUri(s: string): SipUri | null {
  return parseUriRange(s, 0, s.length);
}

function serializeUriParams(params: Params): string {
  let out = '';
  for (const k in params) {
    const v = params[k];
    out +=
      v === null || v === undefined
        ? `;${escapeChars(k, PARAM_CHARS)}`
        : `;${escapeChars(k, PARAM_CHARS)}=${escapeChars(v, PARAM_CHARS)}`;
  }
  return out;
}

export function serializeUri(uri: SipUri): string {
  if (uri.opaque !== undefined) return `${uri.scheme}:${uri.opaque}`;
  if (uri.scheme === 'tel')
    return `tel:${escapeChars(uri.user ?? '', PARAM_CHARS)}${serializeUriParams(uri.params)}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== null) {
    out += escapeChars(uri.user, USER_CHARS);
    if (uri.password !== null) out += `:${escapeChars(uri.password, PASSWORD_CHARS)}`;
    out += '@';
  }
  out += uri.host;
  if (uri.port !== null) out += `:${uri.port}`;
  out += serializeUriParams(uri.params);
  let sep = '?';
  for (const k in uri.headers) {
    out += `${sep}${escapeChars(k, HNV_CHARS)}=${escapeChars(uri.headers[k], HNV_CHARS)}`;
    sep = '&';
  }
  return out;
}
