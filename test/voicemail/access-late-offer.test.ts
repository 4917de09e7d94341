// A caller whose INVITE carries no SDP (late offer, as some desk phones and gateways send): the
// voicemail UA offers in its 200, takes the answer from the ACK and plays its prompt. Here the call
// is *97 from a user whose box is not on this peer, so it hears "not available on this phone".
import { afterEach, describe, expect, it } from 'vitest';
import { rms } from '../../src/core/media/silence.ts';
import { createAnswer } from '../../src/core/sdp/offer-answer.ts';
import { textBody } from '../../src/core/sip/message.ts';
import { UserAgentCore } from '../../src/core/sip/ua/core.ts';
import type { UaEffect } from '../../src/core/sip/ua/types.ts';
import type { Identity } from '../../src/main/identity/identity.ts';
import { createLogger } from '../../src/main/log.ts';
import { MediaSession } from '../../src/main/media/media-session.ts';
import { RtpPortAllocator, RtpSocketPair } from '../../src/main/media/rtp-socket.ts';
import { ToneProbe } from '../../src/main/media/sinks.ts';
import { SilenceSource } from '../../src/main/media/sources.ts';
import type { PbxOverlay } from '../../src/main/pbx/overlay-directory.ts';
import { randomToken, SipHost } from '../../src/main/sip/endpoint.ts';
import { SipTransports } from '../../src/main/transport/sip-transports.ts';
import { VoicemailService } from '../../src/main/voicemail/voicemail-service.ts';
import { makeOffice } from '../unit/security/fixtures.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('voicemail UA: late offer', () => {
  it("offers in the 200, starts media with the ACK's answer, and the caller hears the prompt", async () => {
    const log = createLogger({ component: 'late-offer-test' });
    const office = makeOffice('acme');
    const overlay = { nodeId: '0'.repeat(32), user: '101@acme' } as PbxOverlay; // *97 refusal needs no overlay
    const vm = await VoicemailService.start({
      overlay,
      identity: {
        office: 'acme',
        extension: '101',
        user: '101@acme',
        caPem: office.ca.certificatePem,
      } as Identity,
      bind: '127.0.0.1',
      advertise: '127.0.0.1',
      mailbox: () => null,
      log,
    });
    cleanups.push(() => vm.close());

    let host: SipHost<UaEffect> | null = null;
    const transports = await SipTransports.start({
      bind: '127.0.0.1',
      port: 0,
      onMessage: (m) => host?.receive(m),
      log,
    });
    cleanups.push(() => transports.close());
    const ua = new UserAgentCore(
      { host: '127.0.0.1', port: transports.port, transport: 'UDP', user: '201' },
      randomToken,
    );
    host = new SipHost<UaEffect>(ua, { sender: transports, log });
    cleanups.push(() => host?.close());
    const socket = await RtpSocketPair.open('127.0.0.1', new RtpPortAllocator({ min: 32550, max: 32599 }));
    const probe = new ToneProbe(1000);
    let media: MediaSession | null = null;
    cleanups.push(() => media?.stop() ?? socket.close());
    const answered = new Promise<void>((resolve) =>
      host?.onEvent((e) => {
        if (e.type === 'call-answered') resolve();
      }),
    );
    const target = vm.accessTargetFor('201');
    expect(target).not.toBeNull();
    host.act((now) =>
      ua.call(target!.uri, null, now, {
        answerOffer: (res) => {
          const a = createAnswer(
            res.body,
            { sessionId: 9, sessionVersion: 1 },
            { address: '127.0.0.1', port: socket.port },
          );
          if (!a.ok) return null;
          media = new MediaSession({
            socket,
            codec: { name: a.value.remote.codec.name, pt: a.value.remote.codec.pt },
            remote: { transport: 'UDP', host: a.value.remote.address, port: a.value.remote.port },
            source: new SilenceSource(),
            sinks: [probe],
          });
          media.start();
          return { body: textBody(a.value.sdp), contentType: 'application/sdp' };
        },
      }),
    );
    await answered;
    await new Promise((r) => setTimeout(r, 1500));
    expect(probe.audioFrames).toBeGreaterThan(40);
    expect(rms(probe.window())).toBeGreaterThan(300); // speech, not silence
  });
});
