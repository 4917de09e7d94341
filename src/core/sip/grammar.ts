// RFC 3261 section 25 character classes and the small scanners every SIP header parser shares.
//
// Everything works on (string, index) pairs with char-code lookup tables: no regular expressions in
// the hot path, no intermediate arrays, and every loop advances, so hostile input costs linear time.

import type { Params } from './message.ts';

function table(chars: string, alnum = true): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~");
/** Characters a URI user part may carry unescaped (unreserved / user-unreserved). */
export const USER_CHARS = table("-_.!~*'()&=+$,;?/");
/** What a user part may carry on input: also "#", which phones send unescaped in dial strings. */
export const USER_CHARS_IN = table("-_.!~*'()&=+$,;?/#");
export const PASSWORD_CHARS = table("-_.!~*'()&=+$,");
/** paramchar = param-unreserved / unreserved. */
export const PARAM_CHARS = table("-_.!~*'()[]/:&+$");
/** hname/hvalue characters = hnv-unreserved / unreserved. */
export const HNV_CHARS = table("-_.!~*'()[]/?:+$");
/** Hostname and IPv4 characters ("_" tolerated: real deployments use it). */
export const HOST_CHARS = table('-._');
/** Characters of a header parameter value: token plus what host and IPv6 values need. */
export const GEN_VALUE_CHARS = table("-.!%*_+`'~:[]");

/** Characters of an IPv6 reference between the brackets (hex digits, ":" and "." for IPv4 tails). */
export function isIpv6Char(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46;
}

export function isIn(t: Uint8Array, c: number): boolean {
  return c < 128 && t[c] === 1;
}

export function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

/** Skips SP / HTAB (folding has already been turned into SP by the message parser). */
export function skipWs(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

/** End index of a run of characters of table `t` starting at i. */
export function scan(s: string, i: number, end: number, t: Uint8Array): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) break;
    i++;
  }
  return i;
}

export function isToken(s: string): boolean {
  return s.length > 0 && scan(s, 0, s.length, TOKEN) === s.length;
}

/** Scratch result of readQuoted: the unescaped text. */
export const quoted = { text: '' };

/**
 * Reads a quoted-string starting at the opening DQUOTE at i; returns the index after the closing
 * DQUOTE (text unescaped into `quoted.text`) or -1 when unterminated or it contains CR/LF.
 */
export function readQuoted(s: string, i: number, end: number): number {
  let j = i + 1;
  let start = j;
  let out = '';
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c === 34) {
      quoted.text = out + s.slice(start, j);
      return j + 1;
    }
    if (c === 92) {
      if (j + 1 >= end) return -1;
      const n = s.charCodeAt(j + 1);
      if (n === 10 || n === 13) return -1;
      out += s.slice(start, j) + s[j + 1];
      j += 2;
      start = j;
      continue;
    }
    if (c === 10 || c === 13) return -1;
    j++;
  }
  return -1;
}

/** Index after a quoted-string starting at i (kept verbatim), or -1. */
export function skipQuoted(s: string, i: number, end: number): number {
  let j = i + 1;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c === 34) return j + 1;
    if (c === 92) j++;
    else if (c === 10 || c === 13) return -1;
    j++;
  }
  return -1;
}

/** Does `c` need a backslash inside a quoted-string? `"`, `\` and controls other than HTAB. */
function needsQuotedPair(c: number): boolean {
  return c === 34 || c === 92 || (c < 32 && c !== 9) || c === 127;
}

/**
 * Quotes a display name: `"` `\` and control characters become quoted-pairs (RFC 3261 25.1).
 * CR and LF cannot be expressed in a quoted-string at all and become spaces.
 */
export function quote(text: string): string {
  let i = 0;
  while (i < text.length && !needsQuotedPair(text.charCodeAt(i))) i++;
  if (i === text.length) return `"${text}"`;
  let out = `"${text.slice(0, i)}`;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) out += ' ';
    else out += needsQuotedPair(c) ? `\\${text[i]}` : text[i];
  }
  return `${out}"`;
}

/**
 * Parses `*( SEMI generic-param )` starting at i into `out` (names lower-cased; quoted values kept
 * with their quotes so they re-serialize verbatim). Stops before a top-level "," (when stopAtComma)
 * or at end. Returns the stop index, or -1 on a syntax error.
 */
export function parseGenericParams(
  s: string,
  i: number,
  end: number,
  out: Params,
  stopAtComma: boolean,
): number {
  for (;;) {
    i = skipWs(s, i, end);
    if (i >= end) return i;
    const c = s.charCodeAt(i);
    if (c === 44 && stopAtComma) return i;
    if (c !== 59) return -1;
    i = skipWs(s, i + 1, end);
    const nameEnd = scan(s, i, end, TOKEN);
    if (nameEnd === i) return -1;
    const name = s.slice(i, nameEnd).toLowerCase();
    i = skipWs(s, nameEnd, end);
    if (i < end && s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1, end);
      if (i < end && s.charCodeAt(i) === 34) {
        const q = skipQuoted(s, i, end);
        if (q < 0) return -1;
        out[name] = s.slice(i, q);
        i = q;
      } else {
        const vEnd = scan(s, i, end, GEN_VALUE_CHARS);
        if (vEnd === i) return -1;
        out[name] = s.slice(i, vEnd);
        i = vEnd;
      }
    } else {
      out[name] = null;
    }
  }
}

export function serializeParams(params: Params): string {
  let out = '';
  for (const k in params) {
    const v = params[k];
    out += v === null || v === undefined ? `;${k}` : `;${k}=${v}`;
  }
  return out;
}

const HEX = '0123456789ABCDEF';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decodes %XX escapes and checks every other character belongs to `allowed`; %XX sequences form
 * UTF-8. Returns null on a bad escape or a character that must have been escaped.
 */
export function unescapeChecked(s: string, start: number, end: number, allowed: Uint8Array): string | null {
  let hasPct = false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) hasPct = true;
    // Non-ASCII is tolerated (UTF-8 in the wild); controls, spaces and delimiters are not.
    else if (c < 128 && allowed[c] !== 1) return null;
  }
  if (!hasPct) return s.slice(start, end);
  const bytes: number[] = [];
  let ascii = true;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      if (i + 2 >= end) return null;
      const h = hexVal(s.charCodeAt(i + 1));
      const l = hexVal(s.charCodeAt(i + 2));
      if (h < 0 || l < 0) return null;
      const b = h * 16 + l;
      if (b >= 128) ascii = false;
      bytes.push(b);
      i += 2;
    } else if (c < 128) {
      bytes.push(c);
    } else {
      ascii = false;
      for (const b of encoder.encode(s[i])) bytes.push(b);
    }
  }
  // Spread is only safe for short inputs (argument count limits).
  return ascii && bytes.length < 4096 ? String.fromCharCode(...bytes) : decoder.decode(new Uint8Array(bytes));
}

/** Escapes every character outside `allowed` as UTF-8 %XX (the inverse of unescapeChecked). */
export function escapeChars(s: string, allowed: Uint8Array): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || allowed[c] !== 1) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && allowed[c] === 1) {
      out += s[i];
    } else if (c < 128) {
      out += `%${HEX[c >> 4]}${HEX[c & 15]}`;
    } else {
      // Take the whole code point (surrogate pairs) before encoding.
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of encoder.encode(ch)) out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
      i += ch.length - 1;
    }
  }
  return out;
}
