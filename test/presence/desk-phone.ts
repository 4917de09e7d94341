// A raw SIP desk phone for the BLF / MWI tests: one UDP socket, REGISTER and SUBSCRIBE written as
// text, digest answered with our own digest code (401/407 retried once), every NOTIFY answered 200
// and kept. In-dialog SUBSCRIBEs follow the route set (Record-Route) like a real phone.

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { buildAuthorization } from '../../src/core/sip/digest.ts';
import {
  bodyText,
  getHeader,
  getHeaders,
  type SipRequest,
  type SipResponse,
} from '../../src/core/sip/message.ts';
import { parseMessage } from '../../src/core/sip/parse.ts';
import { waitFor } from '../helpers/processes.ts';

const hex = () => randomBytes(6).toString('hex');

export interface Subscription {
  callId: string;
  fromTag: string;
  toTag: string;
  event: string;
  extension: string;
  /** Request-URI for in-dialog requests (the notifier's Contact) and the Route set. */
  target: string;
  routes: string[];
  cseq: number;
}

export class RawDeskPhone {
  readonly notifies: Array<{ request: SipRequest; t: number }> = [];
  private readonly responses: SipResponse[] = [];
  private constructor(
    private readonly sock: dgram.Socket,
    readonly port: number,
    private readonly o: { user: string; password: string; domain: string; proxyPort: number },
  ) {
    sock.on('message', (m) => this.onMessage(m));
  }

  static async start(o: {
    user: string;
    password: string;
    domain: string;
    proxyPort: number;
  }): Promise<RawDeskPhone> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return new RawDeskPhone(sock, sock.address().port, o);
  }

  close(): void {
    this.sock.close();
  }

  private send(text: string): void {
    this.sock.send(Buffer.from(text, 'utf8'), this.o.proxyPort, '127.0.0.1');
  }

  private onMessage(m: Buffer): void {
    const p = parseMessage(new Uint8Array(m));
    if (!p.ok) return;
    const msg = p.message;
    if (msg.type === 'response') {
      this.responses.push(msg);
      return;
    }
    if (msg.method === 'ACK') return;
    if (msg.method === 'NOTIFY') this.notifies.push({ request: msg, t: Date.now() });
    // Echo the transaction's headers; one To tag for all responses of a request.
    const raw = m.toString('utf8');
    const vias = raw
      .split('\r\n')
      .filter((l) => /^(Via|v):/i.test(l))
      .join('\r\n');
    const line = (name: string) =>
      raw.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    let to = line('To') ?? line('t') ?? '';
    if (!/;tag=/.test(to)) to += `;tag=${hex()}`;
    const top = msg.via[0];
    const reply = (status: string, body = '') => {
      const text = [
        `SIP/2.0 ${status}`,
        vias,
        // A UAS echoes Record-Route in its dialog-forming responses: ACK and BYE then pass the proxy.
        ...(msg.method === 'INVITE' ? raw.split('\r\n').filter((l) => /^Record-Route:/i.test(l)) : []),
        line('From') ?? line('f'),
        to,
        line('Call-ID') ?? line('i'),
        line('CSeq'),
        ...(msg.method === 'INVITE' ? [`Contact: <sip:${this.o.user}@127.0.0.1:${this.port}>`] : []),
        ...(body ? ['Content-Type: application/sdp'] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
      // Responses go to the top Via's sent-by (the proxy that forwarded the request).
      this.sock.send(Buffer.from(text, 'utf8'), top.port ?? 5060, String(top.params.received ?? top.host));
    };
    if (msg.method === 'INVITE') {
      // It rings, then declines (486: the BLF sees early, then terminated) or answers (early,
      // confirmed; terminated at the BYE).
      this.invites++;
      reply('180 Ringing');
      setTimeout(
        () => (this.answers ? reply('200 OK', this.sdp()) : reply('486 Busy Here')),
        this.ringMs,
      ).unref();
      return;
    }
    reply('200 OK'); // NOTIFY, OPTIONS keepalives, BYE
  }

  /** Whether incoming calls are answered (200 with SDP) after ringing instead of declined. */
  answers = false;

  private sdp(): string {
    const id = Date.now();
    return [
      'v=0',
      `o=- ${id} ${id} IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${this.port} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=sendrecv',
      '',
    ].join('\r\n');
  }

  invites = 0;
  /** How long an incoming call rings before the phone declines it. */
  ringMs = 1000;

  /** Sends `build(authHeader)` and waits for its final response; answers one 401/407. */
  private async transact(build: (auth: string | null, cseq: number) => string, callId: string, cseq: number) {
    let auth: string | null = null;
    for (let attempt = 0; attempt < 2; attempt++) {
      const seq = cseq + attempt;
      const text = build(auth, seq);
      this.send(text);
      const res = await this.finalResponse(callId, seq, text.split(' ')[0]);
      if ((res.status === 401 || res.status === 407) && attempt === 0) {
        const challenge =
          getHeader(res, res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate') ?? '';
        const uri = text.split(' ')[1];
        const a = buildAuthorization(
          challenge,
          { username: this.o.user, password: this.o.password, method: text.split(' ')[0], uri },
          hex(),
          1,
        );
        if (!a.ok) throw new Error(`digest: ${JSON.stringify(a)}`);
        auth = `${res.status === 401 ? 'Authorization' : 'Proxy-Authorization'}: ${a.value}`;
        continue;
      }
      return { response: res, cseq: seq };
    }
    throw new Error('unreachable');
  }

  /** A complete request without body; `extra` are header lines. */
  private message(
    method: string,
    uri: string,
    dialog: { callId: string; from: string; to: string; cseq: number },
    extra: Array<string | null>,
  ): string {
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK${hex()};rport`,
      'Max-Forwards: 70',
      `From: ${dialog.from}`,
      `To: ${dialog.to}`,
      `Call-ID: ${dialog.callId}`,
      `CSeq: ${dialog.cseq} ${method}`,
      `Contact: <sip:${this.o.user}@127.0.0.1:${this.port}>`,
      ...extra.filter((l): l is string => l !== null),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  private finalResponse(callId: string, seq: number, what: string): Promise<SipResponse> {
    return waitFor(
      `response to ${what} cseq ${seq}`,
      () => this.responses.find((r) => r.callId === callId && r.cseq.seq === seq && r.status >= 200),
      8000,
    );
  }

  async register(expires = 300): Promise<SipResponse> {
    const callId = `reg-${hex()}`;
    const aor = `<sip:${this.o.user}@${this.o.domain}>`;
    const from = `${aor};tag=${hex()}`;
    const r = await this.transact(
      (auth, cseq) =>
        this.message('REGISTER', `sip:127.0.0.1:${this.o.proxyPort}`, { callId, from, to: aor, cseq }, [
          `Expires: ${expires}`,
          auth,
        ]),
      callId,
      1,
    );
    return r.response;
  }

  /** A new subscription to `extension`'s `event` through the proxy. */
  async subscribe(
    extension: string,
    event: string,
    expires = 600,
  ): Promise<{ response: SipResponse; sub: Subscription }> {
    const callId = `sub-${hex()}`;
    const fromTag = hex();
    const r = await this.transact(
      (auth, cseq) =>
        this.message(
          'SUBSCRIBE',
          `sip:${extension}@127.0.0.1:${this.o.proxyPort}`,
          {
            callId,
            from: `<sip:${this.o.user}@${this.o.domain}>;tag=${fromTag}`,
            to: `<sip:${extension}@${this.o.domain}>`,
            cseq,
          },
          [`Event: ${event}`, `Expires: ${expires}`, auth],
        ),
      callId,
      1,
    );
    const res = r.response;
    const contact = /<([^>]+)>/.exec(getHeader(res, 'Contact') ?? '')?.[1] ?? '';
    const routes = getHeaders(res, 'Record-Route').flatMap((v) => v.split(',').map((s) => s.trim()));
    return {
      response: res,
      sub: {
        callId,
        fromTag,
        toTag: String(res.to.params.tag ?? ''),
        event,
        target: contact,
        routes: routes.reverse(), // RFC 3261 12.1.2: the UAC's route set is Record-Route reversed
        cseq: r.cseq,
        extension,
      },
    };
  }

  /** A refresh (or with 0 an unsubscribe) inside the subscription's dialog, along its route set. */
  async refresh(sub: Subscription, expires: number): Promise<SipResponse> {
    sub.cseq++;
    const text = this.message(
      'SUBSCRIBE',
      sub.target,
      {
        callId: sub.callId,
        from: `<sip:${this.o.user}@${this.o.domain}>;tag=${sub.fromTag}`,
        to: `<sip:${sub.extension}@${this.o.domain}>;tag=${sub.toTag}`,
        cseq: sub.cseq,
      },
      [...sub.routes.map((r) => `Route: ${r}`), `Event: ${sub.event}`, `Expires: ${expires}`],
    );
    this.send(text); // the first Route is the proxy: this socket's only peer
    return this.finalResponse(sub.callId, sub.cseq, 'refresh');
  }

  /** NOTIFYs of one subscription (by Call-ID), in arrival order, with their bodies. */
  notifiesOf(callId: string): Array<{ body: string; state: string; t: number; request: SipRequest }> {
    return this.notifies
      .filter((n) => n.request.callId === callId)
      .map((n) => ({
        body: bodyText(n.request),
        state: getHeader(n.request, 'Subscription-State') ?? '',
        t: n.t,
        request: n.request,
      }));
  }
}
