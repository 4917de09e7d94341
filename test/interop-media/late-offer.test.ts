// An INVITE without SDP (late offer, RFC 3261 13.2.1): our SoftPhone puts its offer in the 200 and
// takes the answer from the ACK. The caller here is the bare UA core with a MediaSession of its
// own, so both the signalling and the audio (the phone's 700 Hz tone) are checked.
import { afterEach, describe, expect, it } from 'vitest';
import { createAnswer } from '../../src/core/sdp/offer-answer.ts';
import { textBody } from '../../src/core/sip/message.ts';
import { UserAgentCore } from '../../src/core/sip/ua/core.ts';
import type { UaEffect } from '../../src/core/sip/ua/types.ts';
import { parseUri } from '../../src/core/sip/uri.ts';
import { createLogger } from '../../src/main/log.ts';
import { MediaSession } from '../../src/main/media/media-session.ts';
import { RtpPortAllocator, RtpSocketPair } from '../../src/main/media/rtp-socket.ts';
import { ToneProbe } from '../../src/main/media/sinks.ts';
import { ToneSource } from '../../src/main/media/sources.ts';
import { SoftPhone } from '../../src/main/phone/soft-phone.ts';
import { randomToken, SipHost } from '../../src/main/sip/endpoint.ts';
import { SipTransports } from '../../src/main/transport/sip-transports.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('late offer', () => {
  it('answers an offerless INVITE with an offer in the 200 and plays to the answer in the ACK', async () => {
    const phone = await SoftPhone.start({
      autoAnswer: true,
      toneHz: 700,
      codecs: ['PCMA', 'PCMU'],
      rtpPorts: { min: 32400, max: 32449 },
      statsIntervalMs: 0,
    });
    cleanups.push(() => phone.close());

    const log = createLogger({ component: 'late-offer-caller' });
    let host: SipHost<UaEffect> | null = null;
    const transports = await SipTransports.start({
      bind: '127.0.0.1',
      port: 0,
      onMessage: (m) => host?.receive(m),
      log,
    });
    cleanups.push(() => transports.close());
    const ua = new UserAgentCore(
      { host: '127.0.0.1', port: transports.port, transport: 'UDP', user: 'late' },
      randomToken,
    );
    host = new SipHost<UaEffect>(ua, { sender: transports, log });
    cleanups.push(() => host?.close());

    const socket = await RtpSocketPair.open('127.0.0.1', new RtpPortAllocator({ min: 32450, max: 32499 }));
    const probe = new ToneProbe(500);
    let media: MediaSession | null = null;
    cleanups.push(() => media?.stop() ?? socket.close());
    const answered = new Promise<void>((resolve) =>
      host.onEvent((e) => {
        if (e.type === 'call-answered') resolve();
      }),
    );
    const target = parseUri(phone.uri)!;
    host.act((now) =>
      ua.call(target, null, now, {
        answerOffer: (res) => {
          const a = createAnswer(
            res.body,
            { sessionId: 7, sessionVersion: 1 },
            { address: '127.0.0.1', port: socket.port },
          );
          if (!a.ok) return null;
          media = new MediaSession({
            socket,
            codec: { name: a.value.remote.codec.name, pt: a.value.remote.codec.pt },
            remote: { transport: 'UDP', host: a.value.remote.address, port: a.value.remote.port },
            source: new ToneSource(300),
            sinks: [probe],
          });
          media.start();
          return { body: textBody(a.value.sdp), contentType: 'application/sdp' };
        },
      }),
    );
    const phoneAnswered = await phone.next('answered');
    await answered;
    expect(phoneAnswered.remote.codec.name).toBe('PCMA'); // our offer's first codec, kept by the answer
    await sleep(1000);
    expect(probe.strength(700)).toBeGreaterThan(0.9);
    const stats = phone.mediaStats(phoneAnswered.call)!;
    expect(stats.packetsReceived).toBeGreaterThan(20);
    expect(stats.remote?.port).toBe(socket.port);
  });
});
