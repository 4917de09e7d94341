// Header forms, URIs, bodies and error typing of the SIP parser and serializer.
import { describe, expect, it } from 'vitest';
import { getHeader, type SipMessage, type SipRequest } from '../../../src/core/sip/message.ts';
import {
  parseMessage,
  parseNameAddr,
  parseNameAddrList,
  parseUri,
  parseVia,
} from '../../../src/core/sip/parse.ts';
import {
  serializeMessage,
  serializeNameAddr,
  serializeUri,
  serializeVia,
} from '../../../src/core/sip/serialize.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Builds a request from header lines (CRLF-joined); `body` is appended after the empty line. */
function req(lines: string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
const BASE = [
  'OPTIONS sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1',
  'From: <sip:alice@example.com>;tag=a1',
  'To: <sip:bob@example.com>',
  'Call-ID: c1@host',
  'CSeq: 1 OPTIONS',
  'Max-Forwards: 70',
];
function ok(data: string | Uint8Array): SipMessage {
  const r = parseMessage(data);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.reason}`);
  const again = parseMessage(serializeMessage(r.message));
  expect(again).toEqual(r); // every accepted message round-trips
  return r.message;
}
function okReq(data: string | Uint8Array): SipRequest {
  const m = ok(data);
  if (m.type !== 'request') throw new Error('not a request');
  return m;
}
function errCode(data: string | Uint8Array): string {
  const r = parseMessage(data);
  if (r.ok) throw new Error('parsed but must not');
  return r.error.code;
}

describe('header forms', () => {
  it('compact names map to canonical long names', () => {
    const m = okReq(
      req(
        [
          'OPTIONS sip:bob@example.com SIP/2.0',
          'v: SIP/2.0/UDP h;branch=z9hG4bK1',
          'f: <sip:a@example.com>;tag=1',
          't: <sip:b@example.com>',
          'i: cid',
          'CSeq: 1 OPTIONS',
          'm: <sip:a@h>',
          'c: text/plain',
          'k: timer',
          's: hi',
          'e: gzip',
          'o: presence',
          'u: dialog',
          'r: <sip:c@h>',
          'b: <sip:d@h>',
          'l: 2',
        ],
        'hi',
      ),
    );
    expect(m.callId).toBe('cid');
    expect(m.headers.map((h) => h.name)).toEqual([
      'Contact',
      'Content-Type',
      'Supported',
      'Subject',
      'Content-Encoding',
      'Event',
      'Allow-Events',
      'Refer-To',
      'Referred-By',
    ]);
    expect(dec.decode(m.body)).toBe('hi');
    const out = dec.decode(serializeMessage(m));
    expect(out).toContain('\r\nContact: <sip:a@h>\r\n');
    expect(out).toContain('\r\nContent-Length: 2\r\n\r\nhi');
    expect(out).not.toMatch(/\r\n[a-z]:/);
  });

  it('names are case-insensitive and tolerate whitespace before the colon', () => {
    const m = okReq(
      req([
        'OPTIONS sip:bob@example.com SIP/2.0',
        'VIA : SIP/2.0/udp H.Example.COM;BRANCH=z9hG4bKX',
        'FROM\t: <sip:a@example.com>;TAG=Ab',
        'tO: <sip:b@example.com>',
        'call-id:cid',
        'cseq:   7    OPTIONS',
        'max-FORWARDS: 5',
        'x-CUSTOM: keep case of unknown names',
      ]),
    );
    expect(m.via[0]).toMatchObject({
      transport: 'UDP',
      host: 'h.example.com',
      params: { branch: 'z9hG4bKX' },
    });
    expect(m.from.params.tag).toBe('Ab'); // parameter names fold, values keep their case
    expect(m.cseq).toEqual({ seq: 7, method: 'OPTIONS' });
    expect(m.maxForwards).toBe(5);
    expect(m.headers).toEqual([{ name: 'x-CUSTOM', value: 'keep case of unknown names' }]);
  });

  it('folding: continuation lines with SP or HTAB join with one space, also in typed headers', () => {
    const m = okReq(
      req([
        'OPTIONS sip:bob@example.com SIP/2.0',
        'Via: SIP/2.0/UDP h;branch=z9hG4bK1,',
        '\tSIP/2.0/TCP h2',
        'From: <sip:a@example.com>',
        '   ;tag=1',
        'To: <sip:b@example.com>',
        'Call-ID: cid',
        'CSeq: 1',
        '  OPTIONS',
        'Subject: a',
        '\t  b',
        ' c',
      ]),
    );
    expect(m.via.map((v) => v.host)).toEqual(['h', 'h2']);
    expect(m.from.params.tag).toBe('1');
    expect(getHeader(m, 'Subject')).toBe('a b c');
  });

  it('bare CR inside a header value or reason phrase is an error; the serializer never emits one', () => {
    expect(errCode(req([...BASE, 'Subject: a\rInjected: yes']))).toBe('header');
    expect(errCode(req(['SIP/2.0 200 O\rK', ...BASE.slice(1, 6)]))).toBe('start-line');
    const m = okReq(req(BASE));
    m.headers.push({ name: 'Subject', value: 'x\r\nVia: SIP/2.0/UDP evil' });
    const again = okReq(serializeMessage(m));
    expect(again.via).toHaveLength(1);
    expect(getHeader(again, 'Subject')).toBe('x Via: SIP/2.0/UDP evil');
  });

  it('a continuation line right after the start line is an error', () => {
    expect(errCode(req(['OPTIONS sip:b@h SIP/2.0', ' Via: SIP/2.0/UDP h', ...BASE.slice(1)]))).toBe('header');
  });

  it('header lines without a colon or with a bad name are errors', () => {
    expect(errCode(req([...BASE, 'NoColonHere']))).toBe('header');
    expect(errCode(req([...BASE, 'Bad Name: x']))).toBe('header');
    expect(errCode(req([...BASE, ': empty name']))).toBe('header');
  });

  it('accepts bare LF line endings (lenient) and leading CRLFs before the start line', () => {
    const m = okReq(`\r\n\r\n${BASE.join('\n')}\n\n`);
    expect(m.callId).toBe('c1@host');
  });
});

describe('lists and quoting', () => {
  it('splits Via lists on top-level commas only', () => {
    const vias = parseVia('SIP/2.0/UDP h1;x="a,b;c", SIP/2.0/TCP h2:5061 ;branch=z9hG4bK2 , SIP/2.0/TLS h3');
    expect(vias?.map((v) => [v.transport, v.host, v.port])).toEqual([
      ['UDP', 'h1', null],
      ['TCP', 'h2', 5061],
      ['TLS', 'h3', null],
    ]);
    expect(vias?.[0].params.x).toBe('"a,b;c"');
    expect(parseVia('SIP/2.0/UDP h1,,SIP/2.0/UDP h2')).toBeNull();
    expect(parseVia('SIP/2.0/UDP h1;')).toBeNull();
    expect(parseVia('SIP/2.0/UDPh1')).toBeNull();
  });

  it('splits name-addr lists, ignoring commas in quotes and in <>', () => {
    const list = parseNameAddrList('"Doe, John" <sip:j,d@h;lr>;q=0.5, <sip:k@h> , sip:l@h;expires=5');
    expect(list?.map((a) => [a.display, a.uri.user, a.params])).toEqual([
      ['Doe, John', 'j,d', { q: '0.5' }],
      [null, 'k', {}],
      [null, 'l', { expires: '5' }],
    ]);
    expect(parseNameAddrList('*')).toBeNull();
    expect(parseNameAddrList('<sip:a@h>,')).toBeNull();
  });

  it('quoted display names: escaped quotes and backslashes, serialized back with escapes', () => {
    const a = parseNameAddr('"A \\"quoted\\" \\\\ name" <sip:a@h>;tag=x');
    expect(a?.display).toBe('A "quoted" \\ name');
    expect(serializeNameAddr(a!)).toBe('"A \\"quoted\\" \\\\ name" <sip:a@h>;tag=x');
    expect(parseNameAddr(serializeNameAddr(a!))).toEqual(a);
    expect(parseNameAddr('"unterminated <sip:a@h>')).toBeNull();
    expect(parseNameAddr('"x" sip:a@h')).toBeNull();
  });

  it('control characters in display names are written as quoted-pairs; CR/LF become spaces', () => {
    const a = parseNameAddr('"BEL:\\\x07 NUL:\\\x00" <sip:a@h>');
    expect(a?.display).toBe('BEL:\x07 NUL:\x00');
    expect(serializeNameAddr(a!)).toBe('"BEL:\\\x07 NUL:\\\x00" <sip:a@h>');
    const b = { display: 'two\r\nlines\ttab', uri: parseUri('sip:a@h')!, params: {} };
    expect(serializeNameAddr(b)).toBe('"two  lines\ttab" <sip:a@h>');
  });

  it('token display names may span several tokens', () => {
    expect(parseNameAddr('Alice  Liddell <sip:a@h>')?.display).toBe('Alice  Liddell');
    expect(parseNameAddr('Alice, Liddell <sip:a@h>')).toBeNull();
  });

  it('header parameters: flags, quoted values, IPv6 values, LWS around = and ;', () => {
    const a = parseNameAddr('<sip:a@h> ; tag = x ; flag ; q="0.5;x" ; received=[2001:db8::1]');
    expect(a?.params).toEqual({ tag: 'x', flag: null, q: '"0.5;x"', received: '[2001:db8::1]' });
  });
});

describe('URIs', () => {
  it('SIP URIs: user, password, host case, port, params, headers, escapes', () => {
    const u = parseUri(
      'SIP:Alice%20B:se%3Acret@Example.COM:5070;Transport=TCP;lr;x=%41?Subject=hi%20there&Priority=urgent',
    );
    expect(u).toEqual({
      scheme: 'sip',
      user: 'Alice B',
      password: 'se:cret',
      host: 'example.com',
      port: 5070,
      params: { transport: 'TCP', lr: null, x: 'A' },
      headers: { Subject: 'hi there', Priority: 'urgent' },
    });
    expect(serializeUri(u!)).toBe(
      'sip:Alice%20B:se%3Acret@example.com:5070;transport=TCP;lr;x=A?Subject=hi%20there&Priority=urgent',
    );
    expect(parseUri(serializeUri(u!))).toEqual(u);
  });

  it('an unescaped "#" in a user part is tolerated on input and escaped on output', () => {
    const u = parseUri('sip:*97#@pbx.example.com');
    expect(u?.user).toBe('*97#');
    expect(serializeUri(u!)).toBe('sip:*97%23@pbx.example.com');
  });

  it('IPv6 references in URIs and Via', () => {
    expect(parseUri('sips:alice@[2001:DB8::1]:5061;maddr=[2001:db8::9]')).toMatchObject({
      scheme: 'sips',
      host: '[2001:db8::1]',
      port: 5061,
      params: { maddr: '[2001:db8::9]' },
    });
    expect(parseUri('sip:[::ffff:192.0.2.1]')?.host).toBe('[::ffff:192.0.2.1]');
    expect(parseUri('sip:[2001:db8::1')).toBeNull();
    expect(parseUri('sip:[]')).toBeNull();
    const v = parseVia('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=2001:db8::2');
    expect(v?.[0]).toMatchObject({ host: '[2001:db8::1]', port: 5060, params: { received: '2001:db8::2' } });
    expect(serializeVia(v![0])).toBe('SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=2001:db8::2');
  });

  it('tel: URIs and unknown schemes', () => {
    const t = parseUri('tel:+1-201-555-0123;phone-context=example.com');
    expect(t).toMatchObject({
      scheme: 'tel',
      user: '+1-201-555-0123',
      params: { 'phone-context': 'example.com' },
    });
    expect(serializeUri(t!)).toBe('tel:+1-201-555-0123;phone-context=example.com');
    expect(parseUri('urn:service:sos')).toMatchObject({ scheme: 'urn', opaque: 'service:sos', user: null });
    expect(serializeUri(parseUri('urn:service:sos')!)).toBe('urn:service:sos');
    const m = okReq(
      req(['INVITE tel:+15551234;phone-context=+1 SIP/2.0', ...BASE.slice(1, 5), 'CSeq: 1 INVITE']),
    );
    expect(m.uri).toMatchObject({ scheme: 'tel', user: '+15551234' });
    expect(okReq(req(['OPTIONS xmpp:alice@example.com SIP/2.0', ...BASE.slice(1)])).uri.scheme).toBe('xmpp');
  });

  it('rejects malformed URIs', () => {
    for (const bad of [
      '',
      'sip:',
      'nocolon',
      '1sip:a@h',
      'sip:a@h:99999',
      'sip:a@h:',
      'sip:a@h:5x',
      'sip:a b@h',
      'sip:a@h;=x',
      'sip:a@h;x=%G1',
      'sip:a@h?noequals',
      'sip:a@@h',
      'sip:a@h x',
      'tel:',
      'http:',
      'http:a b',
    ]) {
      expect(parseUri(bad), bad).toBeNull();
    }
  });

  it('a Request-URI with headers, in <>, or with LWS is a start-line error', () => {
    const rest = BASE.slice(1);
    expect(errCode(req(['OPTIONS sip:b@h?Route=x SIP/2.0', ...rest]))).toBe('start-line');
    expect(errCode(req(['OPTIONS <sip:b@h> SIP/2.0', ...rest]))).toBe('start-line');
    expect(errCode(req(['OPTIONS sip:b@h ;lr SIP/2.0', ...rest]))).toBe('start-line');
  });
});

describe('start line', () => {
  const rest = BASE.slice(1);
  it('versions: SIP/2.0 case-insensitively; other SIP versions are "version"; junk is "start-line"', () => {
    expect(okReq(req(['OPTIONS sip:b@h sip/2.0', ...rest])).method).toBe('OPTIONS');
    expect(errCode(req(['OPTIONS sip:b@h SIP/3.0', ...rest]))).toBe('version');
    expect(errCode(req(['OPTIONS sip:b@h SIP/2.00', ...rest]))).toBe('version');
    expect(errCode(req(['OPTIONS sip:b@h HTTP/1.1', ...rest]))).toBe('start-line');
    expect(errCode(req(['SIP/2.1 200 OK', ...rest]))).toBe('version');
    expect(errCode(req(['HTTP/1.1 200 OK', ...rest]))).toBe('start-line');
  });

  it('status codes are exactly three digits from 100; reason may be empty or absent', () => {
    const resp = (line: string) => req([line, ...rest.filter((l) => !l.startsWith('Max-Forwards'))]);
    const m = ok(resp('SIP/2.0 486 Busy Here'));
    expect(m.type === 'response' && [m.status, m.reason]).toEqual([486, 'Busy Here']);
    const n = ok(resp('SIP/2.0 200'));
    expect(n.type === 'response' && n.reason).toBe('');
    for (const bad of [
      'SIP/2.0 99 x',
      'SIP/2.0 2000 x',
      'SIP/2.0 20x OK',
      'SIP/2.0  200 OK',
      'SIP/2.0 200OK',
    ]) {
      expect(errCode(resp(bad)), bad).toBe('start-line');
    }
  });

  it('Max-Forwards in a response stays a raw header', () => {
    const m = ok(req(['SIP/2.0 200 OK', ...rest]));
    expect(getHeader(m, 'Max-Forwards')).toBe('70');
  });
});

describe('bodies and Content-Length', () => {
  it('a datagram body longer than Content-Length is cut to it', () => {
    const m = okReq(req([...BASE, 'Content-Length: 3'], 'abcdef'));
    expect(dec.decode(m.body)).toBe('abc');
  });
  it('a body shorter than Content-Length is a "body" error', () => {
    expect(errCode(req([...BASE, 'Content-Length: 10'], 'abc'))).toBe('body');
  });
  it('without Content-Length the body is the rest of the datagram', () => {
    expect(dec.decode(okReq(req(BASE, 'rest of it')).body)).toBe('rest of it');
  });
  it('repeated, negative, non-numeric or huge Content-Length is a "content-length" error', () => {
    for (const cl of [
      ['Content-Length: 1', 'l: 1'],
      ['Content-Length: -1'],
      ['Content-Length: 1a'],
      ['l:'],
      ['l: 99999999999'],
    ]) {
      expect(errCode(req([...BASE, ...cl], 'x')), cl.join()).toBe('content-length');
    }
  });
  it('Content-Length counts bytes: UTF-8 bodies from bytes and from strings', () => {
    const body = 'héllo €';
    const n = enc.encode(body).length;
    const text = req([...BASE, `Content-Length: ${n}`], body);
    expect(dec.decode(okReq(text).body)).toBe(body);
    expect(dec.decode(okReq(enc.encode(text)).body)).toBe(body);
  });
  it('binary bodies (with CRLFCRLF and NULs inside) stay bytes; the serializer recomputes Content-Length', () => {
    const head = enc.encode(req([...BASE, 'Content-Length: 6']));
    const body = new Uint8Array([0, 13, 10, 13, 10, 255]);
    const data = new Uint8Array(head.length + body.length);
    data.set(head);
    data.set(body, head.length);
    const m = okReq(Buffer.from(data));
    expect(m.body).toEqual(body);
    expect(Object.getPrototypeOf(m.body)).toBe(Uint8Array.prototype);
    m.body = new Uint8Array([1, 2]);
    expect(dec.decode(serializeMessage(m))).toContain('Content-Length: 2\r\n\r\n');
  });
  it('the body is a copy, not a view of the input buffer', () => {
    const data = enc.encode(req([...BASE, 'Content-Length: 3'], 'abc'));
    const m = okReq(data);
    data.fill(0);
    expect(dec.decode(m.body)).toBe('abc');
  });
  it('no empty line after the headers is "incomplete"; nothing at all is "empty"', () => {
    expect(errCode(BASE.join('\r\n'))).toBe('incomplete');
    expect(errCode('\r\n\r\n')).toBe('empty');
    expect(errCode(new Uint8Array(0))).toBe('empty');
  });
});

describe('typed-header errors', () => {
  const without = (name: string) => BASE.filter((l) => !l.startsWith(name));
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    it(`missing ${name} is "missing-header" with the rest in partial`, () => {
      const r = parseMessage(req(without(name)));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.code).toBe('missing-header');
      expect(r.error.reason).toContain(name);
      const p = r.error.partial!;
      expect(p.method).toBe('OPTIONS');
      if (name !== 'Via') expect(p.via?.[0].params.branch).toBe('z9hG4bK1');
      if (name !== 'From') expect(p.from?.params.tag).toBe('a1');
      if (name !== 'Call-ID') expect(p.callId).toBe('c1@host');
      if (name !== 'CSeq') expect(p.cseq).toEqual({ seq: 1, method: 'OPTIONS' });
    });
  }
  it('Call-IDs are accepted loosely (any visible characters), as real user agents send them', () => {
    const m = BASE.filter((l) => !l.startsWith('Call-ID'));
    expect(okReq(req([...m, 'Call-ID: YWJj+/de==,x@host'])).callId).toBe('YWJj+/de==,x@host');
  });
  it('Max-Forwards is optional', () => {
    expect(okReq(req(without('Max-Forwards'))).maxForwards).toBeNull();
  });
  it('malformed typed values are "header" errors', () => {
    const swap = (line: string) => req([...without(line.split(':')[0]), line]);
    for (const bad of [
      'Max-Forwards: 256',
      'Max-Forwards: x',
      'CSeq: 1',
      'CSeq: x OPTIONS',
      'CSeq: 2147483648 OPTIONS',
      'Call-ID: has space',
      'Call-ID: ',
      'From: nothing',
      'To: <sip:b@h',
      'Via: SIP/2.0 h',
    ]) {
      expect(errCode(swap(bad)), bad).toBe('header');
    }
  });
  it('CSeq method must match the request method', () => {
    const m = BASE.filter((l) => !l.startsWith('CSeq'));
    expect(errCode(req([...m, 'CSeq: 1 INVITE']))).toBe('cseq-mismatch');
    expect(errCode(req([...m, 'CSeq: 1 options']))).toBe('cseq-mismatch');
  });
  it('too many header lines are refused', () => {
    const many = Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`);
    expect(errCode(req([...BASE, ...many]))).toBe('too-many-headers');
  });
});
