/**
 * A bare UA-core caller that sends an INVITE without SDP (late offer, RFC 3261 13.2.1): it takes
 * the callee's offer from the 200, answers in the ACK and plays `source` into its own MediaSession,
 * whose `probe` records what the callee sends back.
 */
import { createAnswer } from '../../src/core/sdp/offer-answer.ts';
import { type SipUri, textBody } from '../../src/core/sip/message.ts';
import { UserAgentCore } from '../../src/core/sip/ua/core.ts';
import type { UaEffect } from '../../src/core/sip/ua/types.ts';
import type { Logger } from '../../src/main/log.ts';
import { MediaSession } from '../../src/main/media/media-session.ts';
import { RtpPortAllocator, RtpSocketPair } from '../../src/main/media/rtp-socket.ts';
import { ToneProbe } from '../../src/main/media/sinks.ts';
import type { AudioSource } from '../../src/main/media/sources.ts';
import { randomToken, SipHost } from '../../src/main/sip/endpoint.ts';
import { SipTransports } from '../../src/main/transport/sip-transports.ts';

export interface LateOfferCallerOptions {
  user: string;
  rtpPorts: { min: number; max: number };
  probeWindowMs: number;
  source: AudioSource;
  sessionId: number;
  log: Logger;
  /** Called with each teardown step in creation order (the tests run them in reverse). */
  onCleanup: (fn: () => Promise<unknown> | unknown) => void;
}

export interface LateOfferCaller {
  /** Sends the offerless INVITE; resolves once the call is answered. */
  call(target: SipUri): Promise<void>;
  probe: ToneProbe;
  rtpPort: number;
}

export async function startLateOfferCaller(o: LateOfferCallerOptions): Promise<LateOfferCaller> {
  let host: SipHost<UaEffect> | null = null;
  const transports = await SipTransports.start({
    bind: '127.0.0.1',
    port: 0,
    onMessage: (m) => host?.receive(m),
    log: o.log,
  });
  o.onCleanup(() => transports.close());
  const ua = new UserAgentCore(
    { host: '127.0.0.1', port: transports.port, transport: 'UDP', user: o.user },
    randomToken,
  );
  const sip = new SipHost<UaEffect>(ua, { sender: transports, log: o.log });
  host = sip;
  o.onCleanup(() => sip.close());

  const socket = await RtpSocketPair.open('127.0.0.1', new RtpPortAllocator(o.rtpPorts));
  const probe = new ToneProbe(o.probeWindowMs);
  let media: MediaSession | null = null;
  o.onCleanup(() => media?.stop() ?? socket.close());
  const answered = new Promise<void>((resolve) =>
    sip.onEvent((e) => {
      if (e.type === 'call-answered') resolve();
    }),
  );
  const call = (target: SipUri): Promise<void> => {
    sip.act((now) =>
      ua.call(target, null, now, {
        answerOffer: (res) => {
          const a = createAnswer(
            res.body,
            { sessionId: o.sessionId, sessionVersion: 1 },
            { address: '127.0.0.1', port: socket.port },
          );
          if (!a.ok) return null;
          media = new MediaSession({
            socket,
            codec: { name: a.value.remote.codec.name, pt: a.value.remote.codec.pt },
            remote: { transport: 'UDP', host: a.value.remote.address, port: a.value.remote.port },
            source: o.source,
            sinks: [probe],
          });
          media.start();
          return { body: textBody(a.value.sdp), contentType: 'application/sdp' };
        },
      }),
    );
    return answered;
  };
  return { call, probe, rtpPort: socket.port };
}
