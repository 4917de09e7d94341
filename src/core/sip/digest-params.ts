// Parsing and serializing the value of WWW-Authenticate / Proxy-Authenticate / Authorization /
// Proxy-Authorization headers: `Digest k=v, k="quoted, with comma"` (RFC 2617 section 1.2, RFC 7616).
// The parser is a small hand-written scanner rather than a regex so that commas inside quoted
// strings, escaped quotes and sloppy whitespace from real phones are all handled; it never throws.

export interface AuthHeaderValue {
  /** Auth scheme as written, e.g. "Digest" (compare case-insensitively). */
  scheme: string;
  /** Parameter names lower-cased; values unquoted and unescaped. */
  params: Record<string, string>;
}

export type AuthParseErrorCode =
  | 'empty'
  | 'bad-scheme'
  | 'bad-param'
  | 'unterminated-quote'
  | 'duplicate-param';

export interface AuthParseError {
  code: AuthParseErrorCode;
  reason: string;
}

export type AuthParseResult = { ok: true; value: AuthHeaderValue } | { ok: false; error: AuthParseError };

const TOKEN_CHAR = /[A-Za-z0-9!#$%&'*+\-.^_`|~]/;
const MAX_INPUT = 8192; // A header larger than this is an attack, not a phone.

function fail(code: AuthParseErrorCode, reason: string): AuthParseResult {
  return { ok: false, error: { code, reason } };
}

export function parseAuthHeader(input: string): AuthParseResult {
  if (typeof input !== 'string') return fail('empty', 'not a string');
  if (input.length > MAX_INPUT) return fail('bad-param', 'header value too long');
  const s = input;
  let i = 0;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i])) i++;
    return s.slice(start, i);
  };

  skipWs();
  if (i >= s.length) return fail('empty', 'empty header value');
  const scheme = readToken();
  if (!scheme) return fail('bad-scheme', `expected an auth scheme at offset ${i}`);
  const params: Record<string, string> = Object.create(null);
  skipWs();
  while (i < s.length) {
    const name = readToken().toLowerCase();
    if (!name) return fail('bad-param', `expected a parameter name at offset ${i}`);
    skipWs();
    if (s[i] !== '=') return fail('bad-param', `expected '=' after ${name}`);
    i++;
    skipWs();
    let value: string;
    if (s[i] === '"') {
      i++;
      let out = '';
      let closed = false;
      while (i < s.length) {
        const c = s[i];
        if (c === '\\' && i + 1 < s.length) {
          out += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          out += c;
          i++;
        }
      }
      if (!closed) return fail('unterminated-quote', `unterminated quoted value for ${name}`);
      value = out;
    } else {
      // Lenient: unquoted values run to the next comma or space, so sloppy servers that leave
      // base64 nonces ("abc/d+e==") unquoted still parse.
      const start = i;
      while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t' && s[i] !== '"') i++;
      value = s.slice(start, i);
      if (!value) return fail('bad-param', `empty value for ${name}`);
    }
    if (name in params) return fail('duplicate-param', `duplicate parameter ${name}`);
    params[name] = value;
    skipWs();
    if (i >= s.length) break;
    if (s[i] !== ',') return fail('bad-param', `expected ',' at offset ${i}`);
    i++;
    skipWs();
    // Tolerate a trailing comma; some stacks emit one.
  }
  return { ok: true, value: { scheme, params: { ...params } } };
}

/** Parameters that RFC 7616 says are sent unquoted; everything else is a quoted-string. */
const UNQUOTED = new Set(['algorithm', 'qop', 'nc', 'stale', 'userhash', 'charset']);

function quote(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Serializes `scheme k=v, ...` in the order given. `qop` is quoted in challenges (a list) and
 * unquoted in credentials (a single token), so callers say which via `quotedQop`.
 */
export function serializeAuthHeader(
  scheme: string,
  params: Array<[string, string | undefined]>,
  opts: { quotedQop?: boolean } = {},
): string {
  const parts: string[] = [];
  for (const [k, v] of params) {
    if (v === undefined) continue;
    const unquoted = UNQUOTED.has(k) && !(k === 'qop' && opts.quotedQop);
    parts.push(`${k}=${unquoted ? v : quote(v)}`);
  }
  return `${scheme} ${parts.join(', ')}`;
}
