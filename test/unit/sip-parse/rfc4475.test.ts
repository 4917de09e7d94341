// RFC 4475 torture tests: every message of sections 3.1.1, 3.1.2, 3.2, 3.3 and 3.4, as wire bytes
// in test/fixtures/rfc4475 (written by generate.py from the RFC's notation).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bodyText,
  getHeader,
  getHeaders,
  type SipMessage,
  type SipRequest,
} from '../../../src/core/sip/message.ts';
import { type ParseResult, parseMessage, parseNameAddrList } from '../../../src/core/sip/parse.ts';
import { serializeMessage } from '../../../src/core/sip/serialize.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/rfc4475');

function load(dir: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, dir, `${name}.dat`)));
}

function parsed(dir: string, name: string): SipMessage {
  const r = parseMessage(load(dir, name));
  if (!r.ok) throw new Error(`${name}: ${r.error.code} ${r.error.reason}`);
  return r.message;
}

function request(dir: string, name: string): SipRequest {
  const m = parsed(dir, name);
  if (m.type !== 'request') throw new Error(`${name} is not a request`);
  return m;
}

function failure(dir: string, name: string) {
  const r: ParseResult = parseMessage(load(dir, name));
  if (r.ok) throw new Error(`${name} parsed but must not`);
  return r.error;
}

function expectRoundTrip(m: SipMessage): void {
  const again = parseMessage(serializeMessage(m));
  expect(again).toEqual({ ok: true, message: m });
}

const names = (dir: string) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.dat'))
    .map((f) => f.slice(0, -4))
    .sort();

describe('RFC 4475 corpus completeness', () => {
  it('has every message of sections 3.1.1, 3.1.2, 3.2, 3.3 and 3.4', () => {
    expect(names('valid')).toEqual(
      'dblreq esc01 esc02 escnull intmeth longreq lwsdisp mpart01 noreason semiuri transports unreason wsinv'
        .split(' ')
        .sort(),
    );
    expect(names('invalid')).toEqual(
      'badaspec baddate baddn badinv01 badvers bigcode clerr escruri ltgtruri lwsruri lwsstart mismatch01 mismatch02 ncl quotbal regbadct scalar02 scalarlg trws'
        .split(' ')
        .sort(),
    );
    expect(names('transaction')).toEqual(['badbranch']);
    expect(names('application')).toEqual(
      'bcast bext01 cparam01 cparam02 insuf inv2543 invut mcl01 multi01 novelsc regaut01 regescrt sdp01 unkscm unksm2 zeromf'
        .split(' ')
        .sort(),
    );
  });

  it('stores wire bytes: CRLF line endings, no bare LF in the header section', () => {
    for (const dir of ['valid', 'invalid', 'transaction', 'application']) {
      for (const n of names(dir)) {
        const b = load(dir, n);
        const text = Buffer.from(b).toString('latin1');
        const head = text.slice(0, text.indexOf('\r\n\r\n'));
        expect(head.length, n).toBeGreaterThan(0);
        expect(/[^\r]\n/.test(head), n).toBe(false);
      }
    }
  });
});

describe('RFC 4475 3.1.1 valid messages parse, with the right fields, and round-trip', () => {
  for (const n of names('valid')) {
    it(`${n} round-trips through serializeMessage`, () => expectRoundTrip(parsed('valid', n)));
  }

  it('wsinv: folding, LWS around every separator, compact and long forms mixed', () => {
    const m = request('valid', 'wsinv');
    expect(m.method).toBe('INVITE');
    expect(m.uri.params).toEqual({ unknownparam: null });
    expect(m.to.display).toBeNull();
    expect(m.to.uri.user).toBe('vivekg');
    expect(m.to.params.tag).toBe('1918181833n');
    expect(m.from.display).toBe('J Rosenberg \\"');
    expect(m.from.params.tag).toBe('98asjd8');
    expect(m.maxForwards).toBe(68);
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.via.map((v) => [v.transport, v.host, v.params.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(getHeader(m, 'Subject')).toBe('');
    expect(getHeader(m, 'NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(getHeader(m, 'UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    const contacts = parseNameAddrList(getHeader(m, 'Contact')!);
    expect(contacts).toHaveLength(1);
    expect(contacts![0].display).toBe('Quoted string ""');
    expect(contacts![0].params).toEqual({ newparam: 'newvalue', secondparam: null, q: '0.33' });
    const route = parseNameAddrList(getHeader(m, 'Route')!)!;
    expect(route[0].uri.params).toEqual({ lr: null, unknownwith: 'value', 'unknown-no-value': null });
    expect(m.body.length).toBe(150);
  });

  it('intmeth: every token character in method, URI, branch, display tokens and Call-ID', () => {
    const m = request('valid', 'intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(m.cseq.method).toBe(m.method);
    expect(m.uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(m.uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(m.via[0].params.branch).toBe("z9hG4bK-.!%66*_+`'~");
    expect(m.to.display).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(m.from.display).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.from.params["fromparam''~+*_!.-%"]).toBe('"работающий"');
    expect(m.from.params.tag).toBe("_token~1'+`*%!-.");
    expect(m.callId).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(m.maxForwards).toBe(255);
    expect(getHeader(m, "extensionHeader-!.%*+_`'~")).toBe('\ufeff大停電');
  });

  it('esc01: %XX is unescaped in user parts and URI parameters, once', () => {
    const m = request('valid', 'esc01');
    expect(m.uri.user).toBe('sips:user@example.com');
    expect(m.uri.host).toBe('example.net');
    expect(m.to.uri.user).toBe('user');
    expect(m.from.uri.user).toBe('I have spaces');
    const contact = parseNameAddrList(getHeader(m, 'Contact')!)![0];
    expect(contact.uri.user).toBe('caller');
    expect(contact.uri.params).toEqual({ lr: null, name: 'value%41' });
    expect(getHeader(m, 'Content-Type')).toBe('application/sdp');
  });

  it('escnull: %00 in user parts becomes a NUL character and survives the round trip', () => {
    const m = request('valid', 'escnull');
    expect(m.to.uri.user).toBe('null-\x00-null');
    const contacts = getHeaders(m, 'Contact').map((v) => parseNameAddrList(v)![0].uri.user);
    expect(contacts).toEqual(['\x00', '\x00\x00']);
    expect(new TextDecoder().decode(serializeMessage(m))).toContain('sip:null-%00-null@example.com');
  });

  it('esc02: % is not an escape in methods, display names, branches or header names', () => {
    const m = request('valid', 'esc02');
    expect(m.method).toBe('RE%47IST%45R');
    expect(m.to.display).toBe('%Z%45');
    expect(m.via[0].params.branch).toBe('z9hG4bK209%fzsnel234');
    expect(getHeaders(m, 'Contact')).toHaveLength(2);
    expect(getHeader(m, 'C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
  });

  it('lwsdisp: token display name directly followed by <', () => {
    const m = request('valid', 'lwsdisp');
    expect(m.from.display).toBe('caller');
    expect(m.from.uri.user).toBe('caller');
    expect(m.from.params.tag).toBe('323');
  });

  it('longreq: long values and 34 Vias in every spelling of the name', () => {
    const m = request('valid', 'longreq');
    expect(m.via).toHaveLength(34);
    expect(m.via[33].params.branch).toBe(`very${'long'.repeat(50)}branchvalue`);
    expect(m.via[33].params.received).toBe('192.0.2.5');
    expect(m.to.uri.port).toBe(6000);
    expect(m.from.params.tag).toBe(`12${'982'.repeat(50)}424`);
    expect(m.callId).toBe(`longreq.one${'really'.repeat(20)}longcallid`);
    expect(getHeader(m, `Unknown-${'Long'.repeat(20)}-Name`)).toContain('-parameter-value');
  });

  it('dblreq: a datagram with two requests yields the first; bytes past Content-Length are dropped', () => {
    const m = request('valid', 'dblreq');
    expect(m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
  });

  it('semiuri: ";" inside the user part is not a parameter separator', () => {
    const m = request('valid', 'semiuri');
    expect(m.uri.user).toBe('user;par=u@example.net');
    expect(m.uri.params).toEqual({});
    expect(getHeader(m, 'Accept')).toBe(
      'application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, message/sip, message/sipfrag',
    );
  });

  it('transports: SCTP, TLS and unknown transports in Via', () => {
    const m = request('valid', 'transports');
    expect(m.via.map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    expect(m.callId).toBe('transports.kijh4akdnaqjkwendsasfdj');
  });

  it('mpart01: a binary multipart body is kept byte for byte', () => {
    const m = request('valid', 'mpart01');
    expect(m.body.length).toBe(553);
    const raw = load('valid', 'mpart01');
    expect(Buffer.from(m.body).equals(Buffer.from(raw.subarray(raw.length - 553)))).toBe(true);
    expect(m.via[0].params).toEqual({ branch: 'z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-', rport: null });
  });

  it('unreason: UTF-8 reason phrase', () => {
    const m = parsed('valid', 'unreason');
    if (m.type !== 'response') throw new Error('not a response');
    expect(m.status).toBe(200);
    expect(m.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
  });

  it('noreason: empty reason phrase', () => {
    const m = parsed('valid', 'noreason');
    if (m.type !== 'response') throw new Error('not a response');
    expect(m.status).toBe(100);
    expect(m.reason).toBe('');
  });
});

describe('RFC 4475 3.1.2 invalid messages', () => {
  const syntax: [string, string][] = [
    ['badinv01', 'header'], // empty Via parameters ";;,;,,"
    ['clerr', 'body'], // Content-Length 9999, body shorter (datagram)
    ['ncl', 'content-length'], // Content-Length -999
    ['scalar02', 'header'], // CSeq beyond 2^31 (and Max-Forwards 300)
    ['scalarlg', 'header'], // response with CSeq beyond 2^31
    ['quotbal', 'header'], // unterminated quoted display name
    ['ltgtruri', 'start-line'], // Request-URI in <>
    ['lwsruri', 'start-line'], // LWS inside the Request-URI
    ['lwsstart', 'start-line'], // two SPs between Request-Line elements
    ['trws', 'start-line'], // trailing SPs after SIP/2.0
    ['escruri', 'start-line'], // URI headers in the Request-URI
    ['badaspec', 'header'], // LWS inside <> of To
    ['baddn', 'header'], // unquoted display name with a comma
    ['badvers', 'version'], // SIP/7.0: 505
    ['mismatch01', 'cseq-mismatch'], // OPTIONS with CSeq INVITE
    ['mismatch02', 'cseq-mismatch'], // NEWMETHOD with CSeq INVITE
    ['bigcode', 'start-line'], // 10-digit status code
  ];
  for (const [n, code] of syntax) {
    it(`${n} is rejected with ${code}`, () => expect(failure('invalid', n).code).toBe(code));
  }

  it('errors keep enough of the request to answer 400', () => {
    const e = failure('invalid', 'mismatch01');
    expect(e.partial?.via?.[0].params.branch).toBe('z9hG4bKkdjuw');
    expect(e.partial?.from?.params.tag).toBe('34525');
    expect(e.partial?.callId).toBe('mismatch01.dj0234sxdfl3');
    expect(e.partial?.cseq).toEqual({ seq: 8, method: 'INVITE' });
    expect(failure('invalid', 'badvers').partial?.method).toBe('OPTIONS');
  });

  it('parsing goes on after the first problem, so the partial has every typed header that parsed', () => {
    // badvers: a 505 needs the headers after the SIP/7.0 start line (its Via says SIP/7.0 too).
    const v = failure('invalid', 'badvers').partial!;
    expect([v.callId, v.cseq?.seq, v.from?.params.tag, v.to?.uri.user]).toEqual([
      'badvers.31417@c.example.com',
      1,
      'qweoiqpe',
      't.watson',
    ]);
    // quotbal: To is broken, yet Via, Call-ID and CSeq (which follow it) are there for the 400.
    const q = failure('invalid', 'quotbal');
    expect(q.reason).toContain('To');
    expect(q.partial?.to).toBeUndefined();
    expect(q.partial?.via?.[0].params.branch).toBe('z9hG4bKkdjuw39234');
    expect(q.partial?.cseq).toEqual({ seq: 8, method: 'INVITE' });
    // ltgtruri: the Request-URI is broken; the headers still parsed.
    const l = failure('invalid', 'ltgtruri');
    expect([l.partial?.method, l.partial?.uri, l.partial?.callId]).toEqual([
      'INVITE',
      undefined,
      'ltgtruri.1@192.0.2.5',
    ]);
  });

  // Syntactically valid at the message level: the RFC asks the application to object.
  it('baddate: Date is a raw header; the bad zone is for the application to judge', () => {
    const m = request('invalid', 'baddate');
    expect(getHeader(m, 'Date')).toBe('Fri, 01 Jan 2010 16:00:00 EST');
  });

  it('regbadct: the message parses (Contact is lazy) but the Contact value is rejected', () => {
    const m = request('invalid', 'regbadct');
    expect(parseNameAddrList(getHeader(m, 'Contact')!)).toBeNull();
  });
});

describe('RFC 4475 3.2 transaction-layer and 3.3/3.4 application-layer messages', () => {
  it('badbranch: branch equal to the bare magic cookie parses; the transaction layer decides', () => {
    const m = request('transaction', 'badbranch');
    expect(m.via[0].params.branch).toBe('z9hG4bK');
  });

  it('insuf: missing From/To/Call-ID is a typed error that keeps Via and CSeq for the 400', () => {
    const e = failure('application', 'insuf');
    expect(e.code).toBe('missing-header');
    expect(e.partial?.via?.[0].params.branch).toBe('z9hG4bKkdj.insuf');
    expect(e.partial?.cseq).toEqual({ seq: 193942, method: 'INVITE' });
  });

  it('unkscm and novelsc: unknown Request-URI schemes parse as opaque URIs (the application answers 416)', () => {
    const a = request('application', 'unkscm');
    expect(a.uri).toMatchObject({ scheme: 'nobodyknowsthisscheme', opaque: 'totallyopaquecontent' });
    const b = request('application', 'novelsc');
    expect(b.uri).toMatchObject({ scheme: 'soap.beep', opaque: '//192.0.2.103:3002' });
    expectRoundTrip(a);
    expectRoundTrip(b);
  });

  it('unksm2: unknown schemes in To, From and Contact parse', () => {
    const m = request('application', 'unksm2');
    expect(m.to.uri).toMatchObject({ scheme: 'isbn', opaque: '2983792873' });
    expect(m.from.uri).toMatchObject({ scheme: 'http', opaque: '//www.example.com' });
    expect(parseNameAddrList(getHeader(m, 'Contact')!)![0].uri).toMatchObject({ scheme: 'name' });
    expectRoundTrip(m);
  });

  it('bext01, regaut01, sdp01, bcast, zeromf: well-formed, left to the application', () => {
    expect(getHeader(request('application', 'bext01'), 'Proxy-Require')).toBe(
      'noProxiesSupportThis, norDoAnyProxiesSupportThis',
    );
    expect(getHeader(request('application', 'regaut01'), 'Authorization')).toBe(
      'NoOneKnowsThisScheme opaque-data=here',
    );
    expect(getHeader(request('application', 'sdp01'), 'Accept')).toBe('text/nobodyKnowsThis');
    expect(parsed('application', 'bcast').via[1].host).toBe('255.255.255.255');
    expect(request('application', 'zeromf').maxForwards).toBe(0);
  });

  it('invut: unknown body type, body kept by Content-Length', () => {
    const m = request('application', 'invut');
    expect(bodyText(m)).toBe('<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n');
  });

  it('multi01: repeated single-value headers are a typed error', () => {
    expect(failure('application', 'multi01').code).toBe('header');
  });

  it('mcl01: two Content-Length headers are a typed error', () => {
    expect(failure('application', 'mcl01').code).toBe('content-length');
  });

  it('cparam01/cparam02: a bare addr-spec gives header params, <> gives URI params', () => {
    const a = parseNameAddrList(getHeader(request('application', 'cparam01'), 'Contact')!)![0];
    expect(a.params).toEqual({ unknownparam: null });
    expect(a.uri.params).toEqual({});
    const b = parseNameAddrList(getHeader(request('application', 'cparam02'), 'Contact')!)![0];
    expect(b.params).toEqual({});
    expect(b.uri.params).toEqual({ unknownparam: null });
  });

  it('regescrt: escaped URI headers in a Contact are unescaped', () => {
    const c = parseNameAddrList(getHeader(request('application', 'regescrt'), 'Contact')!)![0];
    expect(c.uri.headers).toEqual({ Route: '<sip:sip.example.com>' });
  });

  it('inv2543: RFC 2543 request without Content-Length, Max-Forwards or branch parses', () => {
    const m = request('application', 'inv2543');
    expect(m.maxForwards).toBeNull();
    expect(m.via[0].params).toEqual({});
    expect(m.to.params.user).toBe('phone');
    expect(bodyText(m)).toContain('m=audio 49217 RTP/AVP 0');
    expectRoundTrip(m);
  });
});
