// Via (RFC 3261 section 20.42): `SIP / 2.0 / UDP host[:port] *(;param)`, comma lists, LWS anywhere
// the grammar allows it (around "/", ":" ";" "=" ","), IPv6 references in sent-by.

import {
  HOST_CHARS,
  isIpv6Char,
  parseGenericParams,
  scan,
  serializeParams,
  skipWs,
  TOKEN,
} from './grammar.ts';
import type { Params, Via } from './message.ts';

/** Parses a Via header value (one or more comma-separated via-parms) and appends to `out`. */
export function parseViaInto(s: string, out: Via[]): boolean {
  const end = s.length;
  let i = 0;
  for (;;) {
    i = skipWs(s, i, end);
    let t = scan(s, i, end, TOKEN);
    if (t === i) return false;
    const name = s.slice(i, t);
    i = skipWs(s, t, end);
    if (i >= end || s.charCodeAt(i) !== 47) return false;
    i = skipWs(s, i + 1, end);
    t = scan(s, i, end, TOKEN);
    if (t === i) return false;
    const version = s.slice(i, t);
    i = skipWs(s, t, end);
    if (i >= end || s.charCodeAt(i) !== 47) return false;
    i = skipWs(s, i + 1, end);
    t = scan(s, i, end, TOKEN);
    if (t === i) return false;
    const transport = s.slice(i, t).toUpperCase();
    i = skipWs(s, t, end);
    if (i === t) return false; // LWS is mandatory between sent-protocol and sent-by
    let host: string;
    if (i < end && s.charCodeAt(i) === 91) {
      let j = i + 1;
      while (j < end && isIpv6Char(s.charCodeAt(j))) j++;
      if (j >= end || s.charCodeAt(j) !== 93 || j === i + 1) return false;
      host = s.slice(i, j + 1).toLowerCase();
      i = j + 1;
    } else {
      t = scan(s, i, end, HOST_CHARS);
      if (t === i) return false;
      host = s.slice(i, t).toLowerCase();
      i = t;
    }
    let port: number | null = null;
    const p = skipWs(s, i, end);
    if (p < end && s.charCodeAt(p) === 58) {
      i = skipWs(s, p + 1, end);
      let v = 0;
      const d = i;
      while (i < end && i - d < 6) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) break;
        v = v * 10 + (c - 48);
        i++;
      }
      if (i === d || v > 65535) return false;
      port = v;
    }
    const params: Params = {};
    i = parseGenericParams(s, i, end, params, true);
    if (i < 0) return false;
    out.push({ protocol: `${name.toUpperCase()}/${version}`, transport, host, port, params });
    if (i >= end) return true;
    i++; // ","
  }
}

/** Parses a Via header value into its via-parms; null when malformed. */
export function parseVia(value: string): Via[] | null {
  const out: Via[] = [];
  return parseViaInto(value, out) ? out : null;
}

export function serializeVia(v: Via): string {
  const port = v.port !== null ? `:${v.port}` : '';
  return `${v.protocol}/${v.transport} ${v.host}${port}${serializeParams(v.params)}`;
}
