// name-addr / addr-spec with header parameters (From, To, Contact, Route, Record-Route, Reply-To ...).
//
// `"Display" <uri>;params`, `Token Display <uri>;params`, `<uri>;params` and the bare addr-spec
// `uri;params` (where, per RFC 3261 section 20.10, the parameters belong to the header, not the URI).

import { parseGenericParams, quote, quoted, readQuoted, serializeParams, skipWs, TOKEN } from './grammar.ts';
import type { NameAddr, Params } from './message.ts';
import { parseUriRange, serializeUri } from './uri.ts';

/** Scratch output of parseNameAddrAt: index where parsing stopped. */
const cursor = { next: 0 };

/**
 * Parses one name-addr/addr-spec starting at i. In list mode it stops before a top-level ","
 * (commas inside quotes and <> never separate). Sets cursor.next; returns null on error.
 */
function parseNameAddrAt(s: string, i: number, end: number, list: boolean): NameAddr | null {
  i = skipWs(s, i, end);
  if (i >= end) return null;
  let display: string | null = null;
  let c = s.charCodeAt(i);
  let lt = -1;
  if (c === 34) {
    const q = readQuoted(s, i, end);
    if (q < 0) return null;
    display = quoted.text;
    i = skipWs(s, q, end);
    if (i >= end || s.charCodeAt(i) !== 60) return null;
    lt = i;
  } else if (c === 60) {
    lt = i;
  } else {
    // Either "token LWS token ... <" (display name) or an addr-spec: look ahead over tokens/LWS.
    let j = i;
    while (j < end) {
      c = s.charCodeAt(j);
      if (c === 32 || c === 9 || (c < 128 && TOKEN[c] === 1)) j++;
      else break;
    }
    if (j < end && s.charCodeAt(j) === 60) {
      let k = j;
      while (k > i && (s.charCodeAt(k - 1) === 32 || s.charCodeAt(k - 1) === 9)) k--;
      display = k > i ? s.slice(i, k) : null;
      lt = j;
    }
  }
  let uriEnd: number;
  let after: number;
  if (lt >= 0) {
    const gt = s.indexOf('>', lt + 1);
    if (gt < 0 || gt >= end) return null;
    uriEnd = gt;
    i = lt + 1;
    after = gt + 1;
  } else {
    // addr-spec: the URI runs to the first ";" "," "?" or whitespace. A bare addr-spec cannot
    // carry URI parameters or headers (RFC 3261 section 20.10), so a "?" here is an error.
    let j = i;
    while (j < end) {
      c = s.charCodeAt(j);
      if (c === 59 || c === 44 || c === 63 || c === 32 || c === 9) break;
      j++;
    }
    uriEnd = j;
    after = j;
  }
  const uri = parseUriRange(s, i, uriEnd);
  if (!uri) return null;
  const params: Params = {};
  const stop = parseGenericParams(s, after, end, params, list);
  if (stop < 0) return null;
  cursor.next = stop;
  return { display, uri, params };
}

/** Parses a single name-addr or addr-spec header value (From, To, Refer-To ...). */
export function parseNameAddr(s: string): NameAddr | null {
  const a = parseNameAddrAt(s, 0, s.length, false);
  return a && cursor.next === s.length ? a : null;
}

/** Parses a comma-separated list (Contact, Route, Record-Route). "*" is not a name-addr: null. */
export function parseNameAddrList(value: string): NameAddr[] | null {
  const out: NameAddr[] = [];
  const end = value.length;
  let i = 0;
  for (;;) {
    const a = parseNameAddrAt(value, i, end, true);
    if (!a) return null;
    out.push(a);
    i = cursor.next;
    if (i >= end) return out;
    i++; // the ","
  }
}

export function serializeNameAddr(a: NameAddr): string {
  const uri = serializeUri(a.uri);
  const head = a.display !== null ? `${quote(a.display)} <${uri}>` : `<${uri}>`;
  return head + serializeParams(a.params);
}
