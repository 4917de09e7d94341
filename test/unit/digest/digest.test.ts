import { describe, expect, it } from 'vitest';
import {
  buildAuthorization,
  computeHa1,
  computeResponse,
  createChallenge,
  type DigestAlgorithm,
  parseChallenge,
  parseCredentials,
  pickChallenge,
  verifyAuthorization,
} from '../../../src/core/sip/digest.ts';
import {
  checkNonce,
  createNonce,
  NonceCountTracker,
  nonceChecker,
} from '../../../src/core/sip/digest-nonce.ts';
import { parseAuthHeader } from '../../../src/core/sip/digest-params.ts';

const alwaysValid = () => 'valid' as const;

describe('auth header parsing', () => {
  it('handles quoted commas, escapes, whitespace and case', () => {
    const r = parseAuthHeader(' Digest  REALM="a, b" ,nonce = "x\\"y", algorithm=MD5,qop="auth,auth-int"');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.scheme).toBe('Digest');
    expect(r.value.params).toEqual({ realm: 'a, b', nonce: 'x"y', algorithm: 'MD5', qop: 'auth,auth-int' });
  });

  it('accepts unquoted base64 values from sloppy servers', () => {
    const r = parseAuthHeader('Digest realm=x, nonce=ab/c+d==, algorithm=MD5');
    expect(r.ok && r.value.params.nonce).toBe('ab/c+d==');
  });

  it('returns typed errors', () => {
    const cases: Array<[string, string]> = [
      ['', 'empty'],
      ['Digest realm="abc', 'unterminated-quote'],
      ['Digest realm', 'bad-param'],
      ['Digest realm=a realm2=b', 'bad-param'],
      ['Digest realm=a, realm=b', 'duplicate-param'],
      ['=x', 'bad-scheme'],
    ];
    for (const [input, code] of cases) {
      const r = parseAuthHeader(input);
      expect(r.ok, input).toBe(false);
      if (!r.ok) expect(r.error.code, input).toBe(code);
    }
  });

  it('never throws on 10,000 hostile inputs', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const alphabet = 'Digest realm=nonce"\\, \t\r\nqop=auth-int algorithm=SHA-256-sessé\u0000';
    let parsedOk = 0;
    for (let n = 0; n < 10_000; n++) {
      let s = '';
      const len = Math.floor(rnd() * 80);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(() => {
        parseChallenge(s);
        parseCredentials(s);
        verifyAuthorization(s, { method: 'INVITE', lookupPassword: () => 'x' }, alwaysValid);
        if (parseAuthHeader(s).ok) parsedOk++;
      }).not.toThrow();
    }
    expect(parsedOk).toBeGreaterThan(0);
  });

  it('rejects non-Digest schemes and missing params', () => {
    const basic = parseChallenge('Basic realm="x"');
    expect(basic.ok === false && basic.error.code).toBe('not-digest');
    const noNonce = parseChallenge('Digest realm="x"');
    expect(noNonce.ok === false && noNonce.error.code).toBe('missing-param');
    const badAlg = parseChallenge('Digest realm="x", nonce="n", algorithm=SHA-1');
    expect(badAlg.ok === false && badAlg.error.code).toBe('unsupported-algorithm');
    const badNc = parseCredentials(
      'Digest username="u", realm="r", nonce="n", uri="s", response="x", qop=auth, cnonce="c", nc=1',
    );
    expect(badNc.ok === false && badNc.error.code).toBe('bad-nc');
  });
});

describe('RFC test vectors', () => {
  it('RFC 2617 section 3.5 (Mufasa, MD5, qop=auth)', () => {
    const challenge =
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"';
    const r = buildAuthorization(
      challenge,
      { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html' },
      '0a4f113b',
      1,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = parseCredentials(r.value);
    expect(c.ok && c.value.response).toBe('6629fae49393a05397450978507c4ef1');
    expect(c.ok && c.value.nc).toBe('00000001');
    expect(c.ok && c.value.opaque).toBe('5ccc069c403ebaf9f0171e9517f40e41');
    expect(r.value).toContain('qop=auth,');
    expect(r.value).toContain('nc=00000001');
  });

  const rfc7616Challenge = (alg: string) =>
    `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${alg}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
  const rfc7616Creds = {
    username: 'Mufasa',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
  };
  const rfc7616Cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';

  it('RFC 7616 section 3.9.1 MD5', () => {
    const r = buildAuthorization(rfc7616Challenge('MD5'), rfc7616Creds, rfc7616Cnonce, 1);
    const c = r.ok ? parseCredentials(r.value) : null;
    expect(c?.ok && c.value.response).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('RFC 7616 section 3.9.1 SHA-256', () => {
    const r = buildAuthorization(rfc7616Challenge('SHA-256'), rfc7616Creds, rfc7616Cnonce, 1);
    const c = r.ok ? parseCredentials(r.value) : null;
    expect(c?.ok && c.value.response).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
    expect(c?.ok && c.value.algorithm).toBe('SHA-256');
  });

  it('RFC 2069 legacy response without qop', () => {
    // RFC 2069 section 2.4 example, recomputed from its definition: H(H(A1):nonce:H(A2)).
    const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'CircleOfLife');
    const resp = computeResponse({
      algorithm: 'MD5',
      ha1,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
    });
    expect(resp).toBe('1949323746fe6a43ef61f9606e7febea');
  });
});

const ALGS: DigestAlgorithm[] = [
  'MD5',
  'MD5-sess',
  'SHA-256',
  'SHA-256-sess',
  'SHA-512-256',
  'SHA-512-256-sess',
];
const secret = { secret: 'office-secret', realm: 'office.example' };
const salt = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

describe('client -> server round trips', () => {
  for (const algorithm of ALGS) {
    for (const qop of [['auth'], ['auth-int'], []] as Array<Array<'auth' | 'auth-int'>>) {
      it(`${algorithm} qop=${qop.join() || 'none'}`, () => {
        const now = 1_000_000;
        const nonce = createNonce(secret, now, salt);
        const challenge = createChallenge({ realm: 'office.example', nonce, algorithm, opaque: 'op', qop });
        const body = new TextEncoder().encode('v=0\r\n');
        const creds = {
          username: '201',
          password: 's3cret',
          method: 'REGISTER',
          uri: 'sip:office.example',
          body,
        };
        const auth = buildAuthorization(challenge, creds, 'cn0nce', 1);
        expect(auth.ok).toBe(true);
        if (!auth.ok) return;
        const check = nonceChecker(secret, now + 1000, 60_000);
        const lookupPassword = (u: string) => (u === '201' ? 's3cret' : undefined);
        const good = verifyAuthorization(
          auth.value,
          { method: 'REGISTER', realm: 'office.example', body, lookupPassword },
          check,
        );
        expect(good).toMatchObject({ ok: true, username: '201', algorithm });
        // HA1 lookup works as well as password lookup.
        const viaHa1 = verifyAuthorization(
          auth.value,
          { method: 'REGISTER', body, lookupHa1: (u, r, a) => computeHa1(a, u, r, 's3cret') },
          check,
        );
        expect(viaHa1.ok).toBe(true);
        const wrong = verifyAuthorization(
          auth.value,
          { method: 'REGISTER', body, lookupPassword: () => 'nope' },
          check,
        );
        expect(wrong).toMatchObject({ ok: false, reason: 'wrong-password' });
        // A different method changes HA2.
        const otherMethod = verifyAuthorization(
          auth.value,
          { method: 'INVITE', body, lookupPassword },
          check,
        );
        expect(otherMethod.ok).toBe(false);
        if (qop[0] === 'auth-int') {
          const tampered = verifyAuthorization(
            auth.value,
            { method: 'REGISTER', body: new TextEncoder().encode('v=1\r\n'), lookupPassword },
            check,
          );
          expect(tampered).toMatchObject({ ok: false, reason: 'wrong-password' });
        }
      });
    }
  }

  it('prefers auth-int when asked and offered', () => {
    const ch = createChallenge({ realm: 'r', nonce: 'n', algorithm: 'MD5', qop: ['auth', 'auth-int'] });
    const a = buildAuthorization(
      ch,
      { username: 'u', password: 'p', method: 'M', uri: 'x', preferQop: 'auth-int' },
      'c',
      2,
    );
    expect(a.ok && a.value).toContain('qop=auth-int');
    expect(a.ok && a.value).toContain('nc=00000002');
  });

  it('unknown user, realm mismatch, uri mismatch, disallowed algorithm', () => {
    const ch = createChallenge({ realm: 'r', nonce: 'n', algorithm: 'MD5' });
    const a = buildAuthorization(
      ch,
      { username: 'u', password: 'p', method: 'INVITE', uri: 'sip:x' },
      'c',
      1,
    );
    if (!a.ok) throw new Error('build failed');
    expect(
      verifyAuthorization(a.value, { method: 'INVITE', lookupPassword: () => undefined }, alwaysValid).ok,
    ).toBe(false);
    expect(
      verifyAuthorization(
        a.value,
        { method: 'INVITE', realm: 'other', lookupPassword: () => 'p' },
        alwaysValid,
      ),
    ).toMatchObject({ reason: 'realm-mismatch' });
    expect(
      verifyAuthorization(
        a.value,
        { method: 'INVITE', uri: 'sip:y', lookupPassword: () => 'p' },
        alwaysValid,
      ),
    ).toMatchObject({ reason: 'uri-mismatch' });
    expect(
      verifyAuthorization(
        a.value,
        { method: 'INVITE', allowedAlgorithms: ['SHA-256'], lookupPassword: () => 'p' },
        alwaysValid,
      ),
    ).toMatchObject({ reason: 'algorithm-not-allowed' });
    const legacy = buildAuthorization(
      createChallenge({ realm: 'r', nonce: 'n', algorithm: 'MD5', qop: [] }),
      { username: 'u', password: 'p', method: 'INVITE', uri: 'sip:x' },
      'c',
      1,
    );
    if (!legacy.ok) throw new Error('build failed');
    expect(legacy.value).not.toContain('qop=');
    expect(
      verifyAuthorization(legacy.value, { method: 'INVITE', lookupPassword: () => 'p' }, alwaysValid).ok,
    ).toBe(true);
    expect(
      verifyAuthorization(
        legacy.value,
        { method: 'INVITE', requireQop: true, lookupPassword: () => 'p' },
        alwaysValid,
      ),
    ).toMatchObject({ reason: 'qop-required' });
    expect(verifyAuthorization('Digest garbage', { method: 'INVITE' }, alwaysValid)).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it('challenge serialization round-trips through the parser', () => {
    const v = createChallenge({
      realm: 'a "b"',
      nonce: 'n',
      algorithm: 'SHA-256',
      opaque: 'o',
      stale: true,
      qop: ['auth', 'auth-int'],
    });
    const p = parseChallenge(v);
    expect(p).toEqual({
      ok: true,
      value: {
        realm: 'a "b"',
        nonce: 'n',
        algorithm: 'SHA-256',
        qop: ['auth', 'auth-int'],
        opaque: 'o',
        stale: true,
        domain: undefined,
      },
    });
  });
});

describe('stateless nonces', () => {
  it('valid, stale after expiry, invalid when forged or for another secret', () => {
    const n = createNonce(secret, 5_000_000, salt);
    expect(checkNonce(secret, n, 5_000_000 + 29_000, 30_000)).toBe('valid');
    expect(checkNonce(secret, n, 5_000_000 + 31_000, 30_000)).toBe('stale');
    expect(checkNonce(secret, n, 5_000_000 - 60_000, 30_000)).toBe('stale'); // from the future
    expect(checkNonce({ secret: 'other', realm: secret.realm }, n, 5_000_000, 30_000)).toBe('invalid');
    expect(checkNonce({ secret: secret.secret, realm: 'elsewhere' }, n, 5_000_000, 30_000)).toBe('invalid');
    const bytes = Buffer.from(n, 'base64url');
    bytes[3] ^= 1; // tamper with the timestamp to extend its life
    expect(checkNonce(secret, bytes.toString('base64url'), 5_000_000, 30_000)).toBe('invalid');
    expect(checkNonce(secret, 'garbage', 5_000_000, 30_000)).toBe('invalid');
    expect(createNonce(secret, 5_000_000, new Uint8Array(8))).not.toBe(n);
  });

  it('stale only when the password is right', () => {
    const nonce = createNonce(secret, 0, salt);
    const ch = createChallenge({ realm: 'office.example', nonce, algorithm: 'SHA-256' });
    const a = buildAuthorization(
      ch,
      { username: 'u', password: 'p', method: 'REGISTER', uri: 'sip:o' },
      'c',
      1,
    );
    if (!a.ok) throw new Error('build failed');
    const late = nonceChecker(secret, 120_000, 60_000);
    expect(
      verifyAuthorization(a.value, { method: 'REGISTER', lookupPassword: () => 'p' }, late),
    ).toMatchObject({ reason: 'stale' });
    expect(
      verifyAuthorization(a.value, { method: 'REGISTER', lookupPassword: () => 'q' }, late),
    ).toMatchObject({ reason: 'wrong-password' });
    const forged = buildAuthorization(
      createChallenge({ realm: 'office.example', nonce: 'made-up', algorithm: 'SHA-256' }),
      { username: 'u', password: 'p', method: 'REGISTER', uri: 'sip:o' },
      'c',
      1,
    );
    if (!forged.ok) throw new Error('build failed');
    expect(
      verifyAuthorization(forged.value, { method: 'REGISTER', lookupPassword: () => 'p' }, late),
    ).toMatchObject({ reason: 'invalid-nonce' });
  });

  it('nc replay protection', () => {
    const nonce = createNonce(secret, 0, salt);
    const ch = createChallenge({ realm: 'office.example', nonce, algorithm: 'MD5' });
    const tracker = new NonceCountTracker(2);
    const check = nonceChecker(secret, 10, 60_000);
    const opts = { method: 'REGISTER', lookupPassword: () => 'p', ncTracker: tracker };
    const mk = (nc: number) => {
      const a = buildAuthorization(
        ch,
        { username: 'u', password: 'p', method: 'REGISTER', uri: 'sip:o' },
        'c',
        nc,
      );
      if (!a.ok) throw new Error('build failed');
      return a.value;
    };
    expect(verifyAuthorization(mk(1), opts, check).ok).toBe(true);
    expect(verifyAuthorization(mk(1), opts, check)).toMatchObject({ reason: 'replay' });
    expect(verifyAuthorization(mk(2), opts, check).ok).toBe(true);
    // Bounded memory.
    tracker.accept('a', 1);
    tracker.accept('b', 1);
    expect(tracker.size).toBe(2);
  });
});

describe('several challenges (RFC 8760)', () => {
  it('answers the strongest supported algorithm and skips junk', () => {
    const md5 = createChallenge({ realm: 'r', nonce: 'n1', algorithm: 'MD5' });
    const sha = createChallenge({ realm: 'r', nonce: 'n2', algorithm: 'SHA-256' });
    const picked = pickChallenge([
      md5,
      'Digest realm="r", nonce="x", algorithm=SHA-1',
      sha,
      'Basic realm="r"',
    ]);
    expect(picked.ok && picked.value.algorithm).toBe('SHA-256');
    expect(picked.ok && picked.value.nonce).toBe('n2');
    expect(pickChallenge(['Basic realm="r"'])).toMatchObject({ ok: false, error: { code: 'not-digest' } });
    expect(pickChallenge([]).ok).toBe(false);
  });
});
