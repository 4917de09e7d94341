import { describe, expect, it } from 'vitest';
import { PCMA, PCMU } from '../../../src/core/sdp/codecs.ts';
import {
  answerDirection,
  createAnswer,
  createOffer,
  LocalSdpSession,
} from '../../../src/core/sdp/offer-answer.ts';
import { isHold, parseMediaDescription, parseSdp } from '../../../src/core/sdp/parse.ts';

const origin = { sessionId: '4242', sessionVersion: 1 };

const BARESIP_OFFER = [
  'v=0',
  'o=- 1200 3400 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 40000 RTP/AVP 9 8 0 96',
  'b=AS:64',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:96 telephone-event/8000',
  'a=fmtp:96 0-15',
  'a=sendrecv',
  'a=ptime:30',
  'm=video 40002 RTP/AVP 97',
  'a=rtpmap:97 H264/90000',
  '',
].join('\r\n');

describe('offer', () => {
  it('has the required lines and parses back', () => {
    const sdp = createOffer(origin, { address: '10.0.0.5', port: 30000, direction: 'sendonly' });
    expect(sdp).toContain('v=0\r\n');
    expect(sdp).toContain('o=- 4242 1 IN IP4 10.0.0.5\r\n');
    expect(sdp).toContain('c=IN IP4 10.0.0.5\r\n');
    expect(sdp).toContain('m=audio 30000 RTP/AVP 0 8 101\r\n');
    expect(sdp).toContain('a=rtpmap:0 PCMU/8000\r\n');
    expect(sdp).toContain('a=rtpmap:8 PCMA/8000\r\n');
    expect(sdp).toContain('a=rtpmap:101 telephone-event/8000\r\n');
    expect(sdp).toContain('a=fmtp:101 0-16\r\n');
    expect(sdp).toContain('a=ptime:20\r\n');
    expect(sdp).toContain('a=sendonly\r\n');
    const md = parseMediaDescription(sdp);
    expect(md).toEqual({
      ok: true,
      value: {
        address: '10.0.0.5',
        port: 30000,
        codec: PCMU,
        dtmfPt: 101,
        direction: 'sendonly',
        ptime: 20,
        hold: true,
      },
    });
  });

  it('respects codec order, no DTMF, IPv6, each direction', () => {
    for (const direction of ['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const) {
      const sdp = createOffer(origin, {
        address: '2001:db8::1',
        port: 5004,
        direction,
        codecs: [PCMA],
        dtmfPt: null,
      });
      expect(sdp).toContain('c=IN IP6 2001:db8::1');
      expect(sdp).toContain('m=audio 5004 RTP/AVP 8\r\n');
      expect(sdp).not.toContain('telephone-event');
      const md = parseMediaDescription(sdp);
      expect(md.ok && md.value.direction).toBe(direction);
      expect(md.ok && md.value.codec.name).toBe('PCMA');
    }
  });
});

describe('answer', () => {
  it('picks the first common codec in the offerer order, keeps their DTMF PT, rejects video', () => {
    const a = createAnswer(BARESIP_OFFER, origin, { address: '10.0.0.5', port: 30000 });
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.value.remote).toEqual({
      address: '192.0.2.10',
      port: 40000,
      codec: PCMA,
      dtmfPt: 96,
      direction: 'sendrecv',
      ptime: 30,
      hold: false,
    });
    const parsed = parseSdp(a.value.sdp);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.media).toHaveLength(2);
    const [audio, video] = parsed.value.media;
    expect(audio.port).toBe(30000);
    expect(audio.formats.map((f) => [f.pt, f.name])).toEqual([
      [8, 'PCMA'],
      [96, 'telephone-event'],
    ]);
    expect(audio.formats[1].fmtp).toBe('0-16');
    expect(video.port).toBe(0);
    expect(video.type).toBe('video');
    expect(a.value.sdp).toContain('m=video 0 RTP/AVP 97');
  });

  it('mirrors direction', () => {
    expect(answerDirection('sendonly')).toBe('recvonly');
    expect(answerDirection('recvonly')).toBe('sendonly');
    expect(answerDirection('inactive')).toBe('inactive');
    expect(answerDirection('sendrecv')).toBe('sendrecv');
    expect(answerDirection('sendrecv', 'sendonly')).toBe('sendonly');
    expect(answerDirection('sendonly', 'sendonly')).toBe('inactive');
    for (const [offered, expected] of [
      ['sendonly', 'recvonly'],
      ['recvonly', 'sendonly'],
      ['inactive', 'inactive'],
    ] as const) {
      const offer = createOffer(origin, { address: '10.0.0.1', port: 4000, direction: offered });
      const a = createAnswer(offer, origin, { address: '10.0.0.2', port: 5000 });
      expect(a.ok && a.value.direction).toBe(expected);
      expect(a.ok && a.value.sdp).toContain(`a=${expected}`);
    }
  });

  it('does not add DTMF when not offered, and rejects offers without a common codec', () => {
    const noDtmf = createOffer(origin, { address: '10.0.0.1', port: 4000, dtmfPt: null });
    const a = createAnswer(noDtmf, origin, { address: '10.0.0.2', port: 5000 });
    expect(a.ok && a.value.sdp).not.toContain('telephone-event');
    expect(a.ok && a.value.remote.dtmfPt).toBeUndefined();
    const g722only = BARESIP_OFFER.replace('m=audio 40000 RTP/AVP 9 8 0 96', 'm=audio 40000 RTP/AVP 9 96');
    const r = createAnswer(g722only, origin, { address: '10.0.0.2', port: 5000 });
    expect(r.ok === false && r.error.code).toBe('no-common-codec');
    const srtp = BARESIP_OFFER.replace('RTP/AVP 9 8 0 96', 'RTP/SAVP 9 8 0 96');
    expect(createAnswer(srtp, origin, { address: '10.0.0.2', port: 5000 }).ok).toBe(false);
    const videoOnly = `${BARESIP_OFFER.split('m=audio')[0]}m=video 40002 RTP/AVP 97\r\n`;
    const v = createAnswer(videoOnly, origin, { address: '10.0.0.2', port: 5000 });
    expect(v.ok === false && v.error.code).toBe('no-audio');
  });

  it('skips a rejected first audio stream and accepts the second', () => {
    const two = BARESIP_OFFER.replace(
      'm=video 40002 RTP/AVP 97\r\na=rtpmap:97 H264/90000',
      'm=audio 40004 RTP/AVP 0',
    );
    const a = createAnswer(two.replace('RTP/AVP 9 8 0 96', 'RTP/AVP 9'), origin, {
      address: '10.0.0.2',
      port: 5000,
    });
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.value.mediaIndex).toBe(1);
    expect(a.value.remote.port).toBe(40004);
    expect(a.value.sdp).toMatch(/m=audio 0 RTP\/AVP 9\r\n[\s\S]*m=audio 5000 RTP\/AVP 0\r\n/);
  });
});

describe('remote parsing and hold', () => {
  it('typed errors for garbage', () => {
    const cases: Array<[string, string]> = [
      ['', 'not-sdp'],
      ['hello world', 'not-sdp'],
      ['v=0\r\nm=audio 1 RTP/AVP 0\r\n', 'no-origin'],
      ['v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n', 'no-audio'],
      ['v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n', 'no-connection'],
      [
        'v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n',
        'no-common-codec',
      ],
      [
        'v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n',
        'bad-port',
      ],
      [
        'v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 0\r\n',
        'unsupported-protocol',
      ],
    ];
    for (const [sdp, code] of cases) {
      const r = parseMediaDescription(sdp);
      expect(r.ok === false && r.error.code, JSON.stringify(sdp)).toBe(code);
    }
  });

  it('never throws on 10,000 hostile inputs', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const pieces = [
      'v=0\r\n',
      'o=- 1 x IN IP4 a\r\n',
      'c=IN IP4 0.0.0.0\r\n',
      'm=audio ',
      '-1 ',
      'RTP/AVP ',
      '0 ',
      '255 ',
      'a=rtpmap:',
      'a=fmtp:',
      'a=sendonly',
      '\r\n',
      '=',
      ':',
      '\u0000',
      'é',
    ];
    for (let n = 0; n < 10_000; n++) {
      let s = '';
      const count = Math.floor(rnd() * 20);
      for (let i = 0; i < count; i++) s += pieces[Math.floor(rnd() * pieces.length)];
      expect(() => {
        parseMediaDescription(s);
        createAnswer(s, origin, { address: '1.2.3.4', port: 1000 });
        parseSdp(new TextEncoder().encode(s));
      }).not.toThrow();
    }
  });

  it('detects hold by direction or c=0.0.0.0', () => {
    const base = createOffer(origin, { address: '10.0.0.1', port: 4000 });
    const held = parseMediaDescription(base.replace(/c=IN IP4 10.0.0.1/, 'c=IN IP4 0.0.0.0'));
    expect(held.ok && held.value.hold).toBe(true);
    const active = parseMediaDescription(base);
    expect(active.ok && active.value.hold).toBe(false);
    expect(isHold({ direction: 'inactive', address: '1.2.3.4' })).toBe(true);
    expect(isHold({ direction: 'recvonly', address: '1.2.3.4' })).toBe(false);
  });

  it('applies session-level direction and static payloads without rtpmap', () => {
    const sdp =
      'v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\na=inactive\r\nm=audio 4000 RTP/AVP 8\r\n';
    const md = parseMediaDescription(sdp);
    expect(md.ok && md.value).toMatchObject({ codec: PCMA, direction: 'inactive', hold: true, ptime: 20 });
  });
});

describe('LocalSdpSession', () => {
  it('increments the version on every re-offer and answer', () => {
    const s = new LocalSdpSession('999', 5);
    const versionOf = (sdp: string) => {
      const p = parseSdp(sdp);
      return p.ok ? [p.value.origin.sessionId, p.value.origin.version] : null;
    };
    expect(versionOf(s.offer({ address: '10.0.0.1', port: 4000 }))).toEqual(['999', 5]);
    expect(versionOf(s.offer({ address: '10.0.0.1', port: 4000, direction: 'sendonly' }))).toEqual([
      '999',
      6,
    ]);
    const remote = createOffer({ sessionId: 1, sessionVersion: 1 }, { address: '10.0.0.9', port: 6000 });
    const a = s.answer(remote, { address: '10.0.0.1', port: 4000 });
    expect(a.ok && versionOf(a.value.sdp)).toEqual(['999', 7]);
    expect(s.answer('garbage', { address: '10.0.0.1', port: 4000 }).ok).toBe(false);
    expect(s.currentVersion).toBe(7);
  });
});

describe('real-world offers', () => {
  it("answers sipp's built-in uac SDP", () => {
    const sipp =
      'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
    const a = createAnswer(sipp, origin, { address: '127.0.0.1', port: 7000 });
    expect(a.ok && a.value.remote).toMatchObject({
      address: '127.0.0.1',
      port: 6000,
      codec: PCMU,
      dtmfPt: undefined,
      ptime: 20,
    });
    expect(a.ok && a.value.sdp).toContain('m=audio 7000 RTP/AVP 0\r\n');
  });

  it('answers a linphone-style offer with LF line endings, rtcp and extra attributes', () => {
    const linphone = [
      'v=0',
      'o=alice 2115 3362 IN IP4 192.168.1.20',
      's=Talk',
      'c=IN IP4 192.168.1.20',
      't=0 0',
      'a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics',
      'm=audio 7078 RTP/AVP 96 97 98 0 8 101 99 100',
      'a=rtpmap:96 opus/48000/2',
      'a=fmtp:96 useinbandfec=1',
      'a=rtpmap:97 speex/16000',
      'a=rtpmap:98 speex/8000',
      'a=rtpmap:101 telephone-event/48000',
      'a=rtpmap:99 telephone-event/16000',
      'a=rtpmap:100 telephone-event/8000',
      'a=rtcp:7079',
      'a=rtcp-fb:* trr-int 1000',
      '',
    ].join('\n');
    const a = createAnswer(linphone, origin, { address: '192.168.1.30', port: 8000 });
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    // PCMU is the offerer's first codec we support; DTMF uses their 8 kHz telephone-event (100).
    expect(a.value.remote).toMatchObject({ port: 7078, codec: PCMU, dtmfPt: 100 });
    expect(a.value.sdp).toContain('m=audio 8000 RTP/AVP 0 100\r\n');
  });
});
