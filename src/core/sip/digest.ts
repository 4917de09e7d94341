// SIP digest authentication (RFC 2617, RFC 7616, RFC 8760): client responses and server checks.
// Algorithms: MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256(-sess); qop auth, auth-int, and the
// legacy RFC 2069 form without qop that old phones still send. Pure functions; the caller supplies
// cnonce, nc, nonces and the time.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { NonceCountTracker, NonceStatus } from './digest-nonce.ts';
import { type AuthParseError, parseAuthHeader, serializeAuthHeader } from './digest-params.ts';

export type DigestAlgorithm =
  | 'MD5'
  | 'MD5-sess'
  | 'SHA-256'
  | 'SHA-256-sess'
  | 'SHA-512-256'
  | 'SHA-512-256-sess';
export type Qop = 'auth' | 'auth-int';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  /** Offered qop values; empty means the legacy no-qop mode. */
  qop: Qop[];
  opaque?: string;
  stale: boolean;
  domain?: string;
}

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  qop?: Qop;
  cnonce?: string;
  /** nc as the 8-hex-digit string sent on the wire. */
  nc?: string;
  opaque?: string;
}

export type DigestErrorCode =
  | AuthParseError['code']
  | 'not-digest'
  | 'missing-param'
  | 'unsupported-algorithm'
  | 'bad-qop'
  | 'bad-nc';

export interface DigestError {
  code: DigestErrorCode;
  reason: string;
}

export type DigestResult<T> = { ok: true; value: T } | { ok: false; error: DigestError };

const ALGORITHMS: Record<string, DigestAlgorithm> = {
  md5: 'MD5',
  'md5-sess': 'MD5-sess',
  'sha-256': 'SHA-256',
  'sha-256-sess': 'SHA-256-sess',
  'sha-512-256': 'SHA-512-256',
  'sha-512-256-sess': 'SHA-512-256-sess',
};

const NODE_HASH: Record<string, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

function baseAlgorithm(alg: DigestAlgorithm): string {
  return alg.replace(/-sess$/, '');
}

function isSess(alg: DigestAlgorithm): boolean {
  return alg.endsWith('-sess');
}

function hashHex(alg: DigestAlgorithm, data: string | Uint8Array): string {
  return createHash(NODE_HASH[baseAlgorithm(alg)]).update(data).digest('hex');
}

function err<T>(code: DigestErrorCode, reason: string): DigestResult<T> {
  return { ok: false, error: { code, reason } };
}

function parseAlgorithm(v: string | undefined): DigestAlgorithm | null {
  // RFC 2617 section 3.2.1: absent means MD5.
  if (v === undefined) return 'MD5';
  return ALGORITHMS[v.toLowerCase()] ?? null;
}

function parseDigestParams(value: string): DigestResult<Record<string, string>> {
  const parsed = parseAuthHeader(value);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  if (parsed.value.scheme.toLowerCase() !== 'digest') {
    return err('not-digest', `scheme ${parsed.value.scheme} is not Digest`);
  }
  return { ok: true, value: parsed.value.params };
}

/** Parses a WWW-Authenticate / Proxy-Authenticate value. */
export function parseChallenge(value: string): DigestResult<DigestChallenge> {
  const p = parseDigestParams(value);
  if (!p.ok) return p;
  const { realm, nonce } = p.value;
  if (realm === undefined) return err('missing-param', 'challenge has no realm');
  if (nonce === undefined) return err('missing-param', 'challenge has no nonce');
  const algorithm = parseAlgorithm(p.value.algorithm);
  if (!algorithm) return err('unsupported-algorithm', `unsupported algorithm ${p.value.algorithm}`);
  const qop: Qop[] = [];
  if (p.value.qop !== undefined) {
    for (const q of p.value.qop.split(',')) {
      const t = q.trim().toLowerCase();
      if ((t === 'auth' || t === 'auth-int') && !qop.includes(t)) qop.push(t);
    }
    // A qop list with only unknown options leaves nothing we can answer.
    if (qop.length === 0) return err('bad-qop', `no supported qop in "${p.value.qop}"`);
  }
  return {
    ok: true,
    value: {
      realm,
      nonce,
      algorithm,
      qop,
      opaque: p.value.opaque,
      stale: (p.value.stale ?? '').toLowerCase() === 'true',
      domain: p.value.domain,
    },
  };
}

/** Parses an Authorization / Proxy-Authorization value. */
export function parseCredentials(value: string): DigestResult<DigestCredentials> {
  const p = parseDigestParams(value);
  if (!p.ok) return p;
  const v = p.value;
  for (const k of ['username', 'realm', 'nonce', 'uri', 'response'] as const) {
    if (v[k] === undefined) return err('missing-param', `credentials have no ${k}`);
  }
  const algorithm = parseAlgorithm(v.algorithm);
  if (!algorithm) return err('unsupported-algorithm', `unsupported algorithm ${v.algorithm}`);
  let qop: Qop | undefined;
  if (v.qop !== undefined) {
    const q = v.qop.toLowerCase();
    if (q !== 'auth' && q !== 'auth-int') return err('bad-qop', `unsupported qop ${v.qop}`);
    qop = q;
    if (v.cnonce === undefined || v.nc === undefined)
      return err('missing-param', 'qop requires cnonce and nc');
    if (!/^[0-9a-fA-F]{8}$/.test(v.nc)) return err('bad-nc', `nc must be 8 hex digits: ${v.nc}`);
  }
  return {
    ok: true,
    value: {
      username: v.username,
      realm: v.realm,
      nonce: v.nonce,
      uri: v.uri,
      response: v.response,
      algorithm,
      qop,
      cnonce: v.cnonce,
      nc: v.nc,
      opaque: v.opaque,
    },
  };
}

/** H(username:realm:password), the value a server may store instead of the password. */
export function computeHa1(
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string,
): string {
  return hashHex(algorithm, `${username}:${realm}:${password}`);
}

export interface ResponseInput {
  algorithm: DigestAlgorithm;
  /** H(username:realm:password) for the algorithm's base hash (not yet session-keyed). */
  ha1: string;
  nonce: string;
  method: string;
  uri: string;
  qop?: Qop;
  cnonce?: string;
  nc?: string;
  body?: Uint8Array;
}

/** The request-digest of RFC 2617 section 3.2.2.1 / RFC 7616 section 3.4.1. */
export function computeResponse(i: ResponseInput): string {
  const ha1 = isSess(i.algorithm) ? hashHex(i.algorithm, `${i.ha1}:${i.nonce}:${i.cnonce ?? ''}`) : i.ha1;
  const a2 =
    i.qop === 'auth-int'
      ? `${i.method}:${i.uri}:${hashHex(i.algorithm, i.body ?? new Uint8Array(0))}`
      : `${i.method}:${i.uri}`;
  const ha2 = hashHex(i.algorithm, a2);
  if (i.qop === undefined) return hashHex(i.algorithm, `${ha1}:${i.nonce}:${ha2}`);
  return hashHex(i.algorithm, `${ha1}:${i.nonce}:${i.nc}:${i.cnonce}:${i.qop}:${ha2}`);
}

export function formatNc(nc: number): string {
  return (nc >>> 0).toString(16).padStart(8, '0');
}

export interface ClientCredentials {
  username: string;
  password: string;
  method: string;
  uri: string;
  body?: Uint8Array;
  /** Which qop to pick when the server offers both; default 'auth'. */
  preferQop?: Qop;
}

/**
 * Answers a challenge: returns the Authorization / Proxy-Authorization header value.
 * `cnonce` must be fresh random text from the caller; `nc` counts uses of this nonce (1, 2, ...).
 */
export function buildAuthorization(
  challenge: string | DigestChallenge,
  creds: ClientCredentials,
  cnonce: string,
  nc: number,
): DigestResult<string> {
  let ch: DigestChallenge;
  if (typeof challenge === 'string') {
    const parsed = parseChallenge(challenge);
    if (!parsed.ok) return parsed;
    ch = parsed.value;
  } else {
    ch = challenge;
  }
  let qop: Qop | undefined;
  if (ch.qop.length > 0) {
    const prefer = creds.preferQop ?? 'auth';
    qop = ch.qop.includes(prefer) ? prefer : ch.qop[0];
  }
  // Without qop there is no cnonce, so a -sess algorithm has nothing to key the session with.
  const useCnonce = qop !== undefined || isSess(ch.algorithm);
  const ncStr = qop ? formatNc(nc) : undefined;
  const response = computeResponse({
    algorithm: ch.algorithm,
    ha1: computeHa1(ch.algorithm, creds.username, ch.realm, creds.password),
    nonce: ch.nonce,
    method: creds.method,
    uri: creds.uri,
    qop,
    cnonce: useCnonce ? cnonce : undefined,
    nc: ncStr,
    body: creds.body,
  });
  return {
    ok: true,
    value: serializeAuthHeader('Digest', [
      ['username', creds.username],
      ['realm', ch.realm],
      ['nonce', ch.nonce],
      ['uri', creds.uri],
      ['response', response],
      ['algorithm', ch.algorithm],
      ['cnonce', useCnonce ? cnonce : undefined],
      ['opaque', ch.opaque],
      ['qop', qop],
      ['nc', ncStr],
    ]),
  };
}

const STRENGTH: Record<DigestAlgorithm, number> = {
  MD5: 0,
  'MD5-sess': 0,
  'SHA-256': 1,
  'SHA-256-sess': 1,
  'SHA-512-256': 2,
  'SHA-512-256-sess': 2,
};

/**
 * RFC 8760 section 2.4: a server may send several challenges (one header each, preferred first);
 * the client answers the strongest one it supports. Unparseable challenges are skipped.
 */
export function pickChallenge(values: string[]): DigestResult<DigestChallenge> {
  let best: DigestChallenge | undefined;
  let firstError: DigestResult<DigestChallenge> | undefined;
  for (const v of values) {
    const c = parseChallenge(v);
    if (!c.ok) {
      firstError ??= c;
      continue;
    }
    if (!best || STRENGTH[c.value.algorithm] > STRENGTH[best.algorithm]) best = c.value;
  }
  if (best) return { ok: true, value: best };
  return firstError ?? err('missing-param', 'no challenge');
}

export interface ChallengeParams {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  opaque?: string;
  stale?: boolean;
  /** Offered qop values; default ['auth']. Pass [] for a legacy RFC 2069 challenge. */
  qop?: Qop[];
}

/** Builds a WWW-Authenticate / Proxy-Authenticate header value. */
export function createChallenge(p: ChallengeParams): string {
  const qop = p.qop ?? ['auth'];
  return serializeAuthHeader(
    'Digest',
    [
      ['realm', p.realm],
      ['nonce', p.nonce],
      ['opaque', p.opaque],
      ['algorithm', p.algorithm],
      ['qop', qop.length ? qop.join(',') : undefined],
      ['stale', p.stale ? 'TRUE' : undefined],
    ],
    { quotedQop: true },
  );
}

export interface VerifyOptions {
  method: string;
  /** Required realm; credentials for another realm are rejected. */
  realm?: string;
  /** If given, the credentials' uri must equal it (RFC 7616 section 3.4.6 "digest-uri" check). */
  uri?: string;
  body?: Uint8Array;
  /** Either a password lookup or an HA1 lookup (HA1 for the base hash of `algorithm`). */
  lookupPassword?: (username: string, realm: string) => string | undefined;
  lookupHa1?: (username: string, realm: string, algorithm: DigestAlgorithm) => string | undefined;
  /** Reject the RFC 2069 form without qop (no cnonce: weaker against chosen-plaintext). */
  requireQop?: boolean;
  /** Algorithms the server accepts; default all. */
  allowedAlgorithms?: DigestAlgorithm[];
  /** Optional nc replay protection; only used for qop requests and only after the digest verifies. */
  ncTracker?: NonceCountTracker;
}

export type VerifyFailure =
  | 'malformed'
  | 'unknown-user'
  | 'wrong-password'
  | 'stale'
  | 'invalid-nonce'
  | 'realm-mismatch'
  | 'uri-mismatch'
  | 'algorithm-not-allowed'
  | 'qop-required'
  | 'replay';

export type VerifyResult =
  | { ok: true; username: string; realm: string; algorithm: DigestAlgorithm; qop?: Qop }
  | { ok: false; reason: VerifyFailure; detail: string; username?: string };

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks credentials. Order matters: a forged nonce is 'invalid-nonce'; an expired nonce yields
 * 'stale' only if the digest is otherwise correct (RFC 2617 section 3.2.1: stale=TRUE tells the
 * client its password was right, so it may retry silently), else 'wrong-password'.
 */
export function verifyAuthorization(
  headerValue: string,
  opts: VerifyOptions,
  nonceCheck: (nonce: string) => NonceStatus,
): VerifyResult {
  const parsed = parseCredentials(headerValue);
  if (!parsed.ok) return { ok: false, reason: 'malformed', detail: parsed.error.reason };
  const c = parsed.value;
  if (opts.realm !== undefined && c.realm !== opts.realm) {
    return { ok: false, reason: 'realm-mismatch', detail: `realm ${c.realm}`, username: c.username };
  }
  if (opts.uri !== undefined && c.uri !== opts.uri) {
    return { ok: false, reason: 'uri-mismatch', detail: `uri ${c.uri}`, username: c.username };
  }
  if (opts.allowedAlgorithms && !opts.allowedAlgorithms.includes(c.algorithm)) {
    return { ok: false, reason: 'algorithm-not-allowed', detail: c.algorithm, username: c.username };
  }
  if (opts.requireQop && c.qop === undefined) {
    return { ok: false, reason: 'qop-required', detail: 'credentials without qop', username: c.username };
  }
  const nonceStatus = nonceCheck(c.nonce);
  if (nonceStatus === 'invalid') {
    return { ok: false, reason: 'invalid-nonce', detail: 'nonce not issued by us', username: c.username };
  }
  let ha1 = opts.lookupHa1?.(c.username, c.realm, c.algorithm);
  if (ha1 === undefined && opts.lookupPassword) {
    const pw = opts.lookupPassword(c.username, c.realm);
    if (pw !== undefined) ha1 = computeHa1(c.algorithm, c.username, c.realm, pw);
  }
  if (ha1 === undefined)
    return { ok: false, reason: 'unknown-user', detail: c.username, username: c.username };
  const expected = computeResponse({
    algorithm: c.algorithm,
    ha1,
    nonce: c.nonce,
    method: opts.method,
    uri: c.uri,
    qop: c.qop,
    cnonce: c.cnonce,
    nc: c.nc,
    body: opts.body,
  });
  if (!safeEqualHex(expected, c.response)) {
    return { ok: false, reason: 'wrong-password', detail: 'response mismatch', username: c.username };
  }
  if (nonceStatus === 'stale')
    return { ok: false, reason: 'stale', detail: 'nonce expired', username: c.username };
  if (opts.ncTracker && c.nc !== undefined && !opts.ncTracker.accept(c.nonce, Number.parseInt(c.nc, 16))) {
    return { ok: false, reason: 'replay', detail: `nc ${c.nc} already used`, username: c.username };
  }
  return { ok: true, username: c.username, realm: c.realm, algorithm: c.algorithm, qop: c.qop };
}
