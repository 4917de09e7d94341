import { describe, expect, it } from 'vitest';
import type { Address } from '../../../src/core/net.ts';
import { type Registrar as R, Registrar, type RegistrarEffect } from '../../../src/core/pbx/registrar.ts';
import { createRequest } from '../../../src/core/sip/build.ts';
import { buildAuthorization, computeHa1 } from '../../../src/core/sip/digest.ts';
import {
  getHeader,
  getHeaders,
  type Header,
  type SipRequest,
  type SipResponse,
} from '../../../src/core/sip/message.ts';

const PHONE: Address = { transport: 'UDP', host: '192.168.1.50', port: 5062 };
const GW = { nodeId: 'a'.repeat(32), host: '10.0.0.1', port: 5060, transport: 'UDP' as const };
const REALM = 'office';

function makeRegistrar(opts: Partial<ConstructorParameters<typeof Registrar>[0]> = {}): Registrar {
  return new Registrar({
    realm: REALM,
    nonceSecret: 'secret',
    accounts: (ext) =>
      ext === '201'
        ? { extension: '201', password: 'pw201', displayName: 'Desk 201' }
        : ext === '202'
          ? { extension: '202', ha1: computeHa1('MD5', '202', REALM, 'pw202') }
          : undefined,
    gateway: GW,
    ...opts,
  });
}

interface RegOpts {
  user?: string;
  contacts?: string[];
  expires?: number;
  callId?: string;
  seq?: number;
  headers?: Header[];
}

function register(o: RegOpts = {}): SipRequest {
  const user = o.user ?? '201';
  const aor = { scheme: 'sip', user, password: null, host: '10.0.0.1', port: null, params: {}, headers: {} };
  const headers: Header[] = (o.contacts ?? ['<sip:201@192.168.1.50:5062>']).map((value) => ({
    name: 'Contact',
    value,
  }));
  if (o.expires !== undefined) headers.push({ name: 'Expires', value: String(o.expires) });
  headers.push(...(o.headers ?? []));
  return createRequest({
    method: 'REGISTER',
    uri: { scheme: 'sip', user: null, password: null, host: '10.0.0.1', port: null, params: {}, headers: {} },
    from: { display: null, uri: aor, params: { tag: 'ft' } },
    to: { display: null, uri: aor, params: {} },
    callId: o.callId ?? 'reg-call-1',
    cseq: { seq: o.seq ?? 1, method: 'REGISTER' },
    via: {
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: '192.168.1.50',
      port: 5062,
      params: { branch: 'z9hG4bKr1' },
    },
    headers,
  });
}

const SALT = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
let saltCounter = 0;
/** A fresh salt per challenge, as the proxy's random source gives. */
function freshSalt(): Uint8Array {
  const s = new Uint8Array(8);
  new DataView(s.buffer).setUint32(4, ++saltCounter);
  return s;
}

/** Sends the REGISTER, answers the 401 with the given password, returns the final response. */
function authed(
  reg: R,
  req: SipRequest,
  now: number,
  password = 'pw201',
  user = req.to.uri.user ?? '',
): SipResponse {
  const challenge = reg.handleRegister(req, PHONE, now, freshSalt());
  expect(challenge.status).toBe(401);
  const www = getHeader(challenge, 'WWW-Authenticate');
  expect(www).toBeDefined();
  const auth = buildAuthorization(
    www as string,
    { username: user, password, method: 'REGISTER', uri: 'sip:10.0.0.1' },
    'cnonce1',
    1,
  );
  if (!auth.ok) throw new Error(auth.error.reason);
  const retry = {
    ...req,
    cseq: { ...req.cseq, seq: req.cseq.seq + 1 },
    headers: [...req.headers, { name: 'Authorization', value: auth.value }],
  };
  return reg.handleRegister(retry, PHONE, now, SALT);
}

function effects(reg: Registrar, type: RegistrarEffect['type']): RegistrarEffect[] {
  return reg.drain().filter((e) => e.type === type);
}

describe('registrar: digest authentication', () => {
  it('challenges, then accepts the right password and publishes the gateway as contact', () => {
    const reg = makeRegistrar();
    const res = authed(reg, register({ expires: 600 }), 1_000);
    expect(res.status).toBe(200);
    const contacts = getHeaders(res, 'Contact');
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toContain('sip:201@192.168.1.50:5062');
    expect(contacts[0]).toContain('expires=600');
    const all = reg.drain();
    const pub = all.find((e) => e.type === 'publish');
    expect(pub).toMatchObject({
      type: 'publish',
      aor: '201',
      displayName: 'Desk 201',
      contacts: [{ uri: 'sip:201@10.0.0.1:5060', deskPhone: true, nodeId: GW.nodeId, expires: 601_000 }],
    });
    expect(all).toContainEqual({ type: 'set-timer', id: 'reg/201', at: 601_000 });
    expect(reg.bindings('201', 1_000)[0].source).toEqual(PHONE);
  });

  it('accepts an account stored as HA1', () => {
    const reg = makeRegistrar();
    const res = authed(reg, register({ user: '202', contacts: ['<sip:202@192.168.1.51>'] }), 0, 'pw202');
    expect(res.status).toBe(200);
  });

  it('refuses a wrong password with 403 and publishes nothing', () => {
    const reg = makeRegistrar();
    const res = authed(reg, register(), 0, 'wrong');
    expect(res.status).toBe(403);
    expect(effects(reg, 'publish')).toHaveLength(0);
    expect(reg.size).toBe(0);
  });

  it('refuses an unknown user with the same 403', () => {
    const reg = makeRegistrar();
    expect(authed(reg, register({ user: '999' }), 0, 'x').status).toBe(403);
  });

  it('refuses credentials of one account used for another AoR', () => {
    const reg = makeRegistrar();
    // 202 authenticates correctly but registers 201.
    expect(authed(reg, register({ user: '201' }), 0, 'pw202', '202').status).toBe(403);
  });

  it('answers a stale nonce with a new challenge carrying stale=TRUE', () => {
    const reg = makeRegistrar({ nonceMaxAgeMs: 30_000 });
    const first = reg.handleRegister(register(), PHONE, 0, SALT);
    const www = getHeader(first, 'WWW-Authenticate') as string;
    const auth = buildAuthorization(
      www,
      { username: '201', password: 'pw201', method: 'REGISTER', uri: 'sip:10.0.0.1' },
      'c',
      1,
    );
    if (!auth.ok) throw new Error('auth');
    const late = {
      ...register({ seq: 2 }),
      headers: [...register().headers, { name: 'Authorization', value: auth.value }],
    };
    const res = reg.handleRegister(late, PHONE, 60_000, SALT);
    expect(res.status).toBe(401);
    expect(getHeader(res, 'WWW-Authenticate')).toMatch(/stale=TRUE/);
    // The same credentials while the nonce is fresh succeed.
    expect(reg.handleRegister(late, PHONE, 10_000, SALT).status).toBe(200);
  });

  it('a replayed Authorization (same nonce and nc) is re-challenged, not accepted', () => {
    const reg = makeRegistrar();
    const ch = reg.handleRegister(register(), PHONE, 0, freshSalt());
    const www = getHeader(ch, 'WWW-Authenticate') as string;
    const auth = buildAuthorization(
      www,
      { username: '201', password: 'pw201', method: 'REGISTER', uri: 'sip:10.0.0.1' },
      'c',
      1,
    );
    if (!auth.ok) throw new Error('auth');
    const signed = (seq: number) => {
      const r = register({ seq });
      return { ...r, headers: [...r.headers, { name: 'Authorization', value: auth.value }] };
    };
    expect(reg.handleRegister(signed(2), PHONE, 1000, freshSalt()).status).toBe(200);
    const replay = reg.handleRegister(signed(3), { ...PHONE, host: '203.0.113.9' }, 2000, freshSalt());
    expect(replay.status).toBe(401);
    expect(getHeader(replay, 'WWW-Authenticate')).not.toMatch(/stale/);
  });

  it('re-challenges a forged nonce and rejects a malformed Authorization with 400', () => {
    const reg = makeRegistrar();
    const forged = register({
      headers: [
        {
          name: 'Authorization',
          value: 'Digest username="201", realm="office", nonce="forged", uri="sip:10.0.0.1", response="00"',
        },
      ],
    });
    const r = reg.handleRegister(forged, PHONE, 0, SALT);
    expect(r.status).toBe(401);
    expect(getHeader(r, 'WWW-Authenticate')).not.toMatch(/stale/);
    expect(
      reg.handleRegister(register({ headers: [{ name: 'Authorization', value: 'Digest' }] }), PHONE, 0, SALT)
        .status,
    ).toBe(400);
  });
});

describe('registrar: bindings (RFC 3261 10.3)', () => {
  it('refreshes a binding, reaps it at expiry and unpublishes', () => {
    const reg = makeRegistrar();
    expect(authed(reg, register({ expires: 120 }), 0).status).toBe(200);
    reg.drain();
    // Refresh at 60 s with a higher CSeq of the same Call-ID.
    expect(authed(reg, register({ expires: 120, seq: 10 }), 60_000).status).toBe(200);
    const refresh = reg.drain();
    expect(refresh).toContainEqual({ type: 'set-timer', id: 'reg/201', at: 180_000 });
    expect(refresh.find((e) => e.type === 'publish')).toBeDefined();
    // The reaper fires at 180 s: nothing left, unpublish.
    reg.timerFired('reg/201', 180_000);
    expect(reg.drain()).toContainEqual({ type: 'unpublish', aor: '201' });
    expect(reg.bindings('201', 180_000)).toHaveLength(0);
    expect(reg.size).toBe(0);
  });

  it('a reaper timer fired early keeps the binding and re-arms', () => {
    const reg = makeRegistrar();
    authed(reg, register({ expires: 120 }), 0);
    reg.drain();
    reg.timerFired('reg/201', 50_000);
    const e = reg.drain();
    expect(e.find((x) => x.type === 'unpublish')).toBeUndefined();
    expect(e).toContainEqual({ type: 'set-timer', id: 'reg/201', at: 120_000 });
  });

  it('answers 423 with Min-Expires for too short an interval, caps at maxExpires', () => {
    const reg = makeRegistrar({ minExpires: 60, maxExpires: 900 });
    const brief = authed(reg, register({ expires: 30 }), 0);
    expect(brief.status).toBe(423);
    expect(getHeader(brief, 'Min-Expires')).toBe('60');
    const long = authed(reg, register({ contacts: ['<sip:201@192.168.1.50:5062>;expires=7200'], seq: 5 }), 0);
    expect(long.status).toBe(200);
    expect(getHeaders(long, 'Contact')[0]).toContain('expires=900');
  });

  it('un-registers one contact with expires=0 and all with "*" + Expires: 0', () => {
    const reg = makeRegistrar();
    const two = ['<sip:201@192.168.1.50:5062>', '<sip:201@192.168.1.60:5060>;q=0.5'];
    expect(getHeaders(authed(reg, register({ contacts: two }), 0), 'Contact')).toHaveLength(2);
    const one = authed(reg, register({ contacts: ['<sip:201@192.168.1.60:5060>;expires=0'], seq: 3 }), 1000);
    expect(getHeaders(one, 'Contact')).toHaveLength(1);
    expect(reg.bindings('201', 1000).map((b) => b.contact.uri.host)).toEqual(['192.168.1.50']);
    reg.drain();
    const star = authed(reg, register({ contacts: ['*'], expires: 0, seq: 5 }), 2000);
    expect(star.status).toBe(200);
    expect(getHeaders(star, 'Contact')).toHaveLength(0);
    expect(reg.drain()).toContainEqual({ type: 'unpublish', aor: '201' });
  });

  it('refuses "*" without Expires: 0 or mixed with other contacts', () => {
    const reg = makeRegistrar();
    expect(authed(reg, register({ contacts: ['*'], expires: 60 }), 0).status).toBe(400);
    expect(authed(reg, register({ contacts: ['*', '<sip:201@1.2.3.4>'], expires: 0 }), 0).status).toBe(400);
  });

  it('fails an out-of-order REGISTER (same Call-ID, CSeq not higher) and accepts another Call-ID', () => {
    const reg = makeRegistrar();
    authed(reg, register({ seq: 10, expires: 300 }), 0); // binding stored with CSeq 11
    const stale = authed(reg, register({ seq: 5, expires: 0 }), 1000); // CSeq 6 < 11
    expect(stale.status).toBe(500);
    expect(reg.bindings('201', 1000)).toHaveLength(1);
    const other = authed(reg, register({ seq: 1, expires: 0, callId: 'other-call' }), 1000);
    expect(other.status).toBe(200);
    expect(reg.bindings('201', 1000)).toHaveLength(0);
  });

  it('a fetch-only REGISTER (no Contact) lists the bindings without changing them', () => {
    const reg = makeRegistrar();
    authed(reg, register({ expires: 300 }), 0);
    reg.drain();
    const res = authed(reg, register({ contacts: [], seq: 7 }), 100_000);
    expect(getHeaders(res, 'Contact')[0]).toContain('expires=200');
    expect(effects(reg, 'publish')).toHaveLength(0);
  });

  it('answers 420 for an unsupported Require', () => {
    const reg = makeRegistrar();
    const r = reg.handleRegister(register({ headers: [{ name: 'Require', value: 'foo' }] }), PHONE, 0, SALT);
    expect(r.status).toBe(420);
    expect(getHeader(r, 'Unsupported')).toBe('foo');
  });

  it('clear() drops everything and unpublishes', () => {
    const reg = makeRegistrar();
    authed(reg, register(), 0);
    reg.drain();
    reg.clear(10);
    expect(reg.drain()).toEqual([
      { type: 'cancel-timer', id: 'reg/201' },
      { type: 'unpublish', aor: '201' },
    ]);
  });
});
