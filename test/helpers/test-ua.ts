// A test user agent built from our own stack: the sans-IO UA core (src/core/sip/ua) and SDP
// offer/answer (src/core/sdp), run on the real transports by SipHost. It answers INVITEs (180, then
// 200 with an SDP answer, then waits for ACK and BYE) or places calls (INVITE with an SDP offer,
// ACK, BYE after a hold time). Interop tests point sipp at it.
import type { Address, TransportName } from '../../src/core/net.ts';
import { createAnswer, createOffer } from '../../src/core/sdp/offer-answer.ts';
import { bodyText, type SipUri, textBody } from '../../src/core/sip/message.ts';
import { UserAgentCore } from '../../src/core/sip/ua/core.ts';
import type { CallEndReason, UaEffect } from '../../src/core/sip/ua/types.ts';
import { createLogger } from '../../src/main/log.ts';
import { randomToken, SipHost } from '../../src/main/sip/endpoint.ts';
import { SipTransports } from '../../src/main/transport/sip-transports.ts';

export interface TestUaOptions {
  transport: TransportName;
  user?: string;
  /** Delay between 180 Ringing and 200 OK when answering. */
  answerAfterMs?: number;
  /** How long an outgoing call stays up before our BYE. */
  holdMs?: number;
}

export interface CallOutcome {
  answered: boolean;
  reason: CallEndReason;
  status?: number;
  remoteSdp: string | null;
}

const SDP_TYPE = 'application/sdp';

export class TestUa {
  readonly counters = {
    incoming: 0,
    answered: 0,
    ended: 0,
    rejected: 0,
    endedBy: {} as Record<string, number>,
  };
  /** Messages received per transport (proves which one a test used). */
  received = { UDP: 0, TCP: 0 };
  private readonly waiters = new Map<string, (o: CallOutcome) => void>();
  private readonly outgoing = new Map<string, { answered: boolean; remoteSdp: string | null }>();
  private rtpPort = 20000;

  private constructor(
    readonly transports: SipTransports,
    readonly ua: UserAgentCore,
    readonly host: SipHost<UaEffect>,
    private readonly opts: TestUaOptions,
  ) {
    host.onEvent((e) => this.onEvent(e));
  }

  static async start(opts: TestUaOptions): Promise<TestUa> {
    let host: SipHost<UaEffect> | null = null;
    const received = { UDP: 0, TCP: 0 };
    const log = createLogger({ component: 'test-ua', transport: opts.transport });
    const transports = await SipTransports.start({
      bind: '127.0.0.1',
      port: 0,
      onMessage: (m) => {
        received[m.from.transport === 'UDP' ? 'UDP' : 'TCP']++;
        host?.receive(m);
      },
      log,
    });
    const ua = new UserAgentCore(
      {
        host: '127.0.0.1',
        port: transports.port,
        transport: opts.transport,
        user: opts.user ?? 'test',
        userAgentName: 'PeerPBX-test-ua',
      },
      randomToken,
    );
    host = new SipHost<UaEffect>(ua, { sender: transports, log });
    const testUa = new TestUa(transports, ua, host, opts);
    testUa.received = received;
    return testUa;
  }

  get port(): number {
    return this.transports.port;
  }

  get address(): Address {
    return { transport: this.opts.transport, host: '127.0.0.1', port: this.port };
  }

  /** Places a call with an SDP offer; resolves when it has ended (after our BYE or a failure). */
  call(target: SipUri): Promise<CallOutcome> {
    const offer = createOffer(
      { sessionId: Date.now(), sessionVersion: 1, address: '127.0.0.1' },
      { address: '127.0.0.1', port: this.nextRtpPort() },
    );
    const destination: Address = {
      transport: this.opts.transport,
      host: target.host,
      port: target.port ?? 5060,
    };
    return new Promise((resolve) => {
      const id = this.host.act((now) =>
        this.ua.call(target, { body: textBody(offer), contentType: SDP_TYPE }, now, { destination }),
      );
      this.outgoing.set(id, { answered: false, remoteSdp: null });
      this.waiters.set(id, resolve);
    });
  }

  private nextRtpPort(): number {
    this.rtpPort += 2;
    if (this.rtpPort > 30000) this.rtpPort = 20000;
    return this.rtpPort;
  }

  private onEvent(e: Exclude<UaEffect, { type: 'transmit' | 'set-timer' | 'cancel-timer' }>): void {
    switch (e.type) {
      case 'incoming-call': {
        this.counters.incoming++;
        const answer = createAnswer(
          e.request.body,
          { sessionId: Date.now(), sessionVersion: 1, address: '127.0.0.1' },
          { address: '127.0.0.1', port: this.nextRtpPort() },
        );
        if (!answer.ok) {
          this.counters.rejected++;
          this.host.act((now) => this.ua.reject(e.call, 488, now));
          return;
        }
        this.host.act((now) => this.ua.ringing(e.call, now));
        const accept = () =>
          this.host.act((now) =>
            this.ua.accept(e.call, { body: textBody(answer.value.sdp), contentType: SDP_TYPE }, now),
          );
        if (this.opts.answerAfterMs) setTimeout(accept, this.opts.answerAfterMs);
        else accept();
        return;
      }
      case 'call-answered': {
        this.counters.answered++;
        const out = this.outgoing.get(e.call);
        if (out) {
          out.answered = true;
          out.remoteSdp = e.message.body.length ? bodyText(e.message) : null;
          setTimeout(() => this.host.act((now) => this.ua.bye(e.call, now)), this.opts.holdMs ?? 50);
        }
        return;
      }
      case 'call-ended': {
        this.counters.ended++;
        this.counters.endedBy[e.reason] = (this.counters.endedBy[e.reason] ?? 0) + 1;
        const out = this.outgoing.get(e.call);
        const waiter = this.waiters.get(e.call);
        this.outgoing.delete(e.call);
        this.waiters.delete(e.call);
        waiter?.({
          answered: out?.answered ?? false,
          reason: e.reason,
          status: e.status,
          remoteSdp: out?.remoteSdp ?? null,
        });
        return;
      }
      default:
        return;
    }
  }

  async close(): Promise<void> {
    this.host.close();
    await this.transports.close();
  }
}
