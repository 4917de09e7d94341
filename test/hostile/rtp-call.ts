// A minimal desk phone for the flood test, on raw sockets: INVITE with digest auth through a gateway
// peer, ACK, then it sends PCMU silence every 20 ms and records the arrival time and tone power of
// every RTP packet it receives, so a test can see a gap of one packet while a flood is under way.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { decodeG711, encodeG711 } from '../../src/core/media/g711.ts';
import { decodeRtp, encodeRtp } from '../../src/core/media/rtp.ts';
import { toneStrength } from '../../src/core/media/tones.ts';
import { buildAuthorization } from '../../src/core/sip/digest.ts';
import { getHeader, getHeaders, type SipMessage, type SipResponse } from '../../src/core/sip/message.ts';
import { parseMessage, parseNameAddr } from '../../src/core/sip/parse.ts';

export interface RtpArrival {
  /** Arrival time, ms since the epoch at sub-ms resolution (comparable across processes). */
  at: number;
  seq: number;
  /** Strength (0..1) of the expected tone in this packet's 160 samples. */
  tone: number;
}

export interface RawCallOptions {
  /** The gateway peer's SIP port on 127.0.0.1. */
  proxyPort: number;
  domain: string;
  from: string;
  password: string;
  to: string;
  toneHz: number;
}

const token = () => randomBytes(6).toString('hex');

/** ms since the epoch with performance.now()'s resolution: the same clock in every process. */
export const nowMs = () => performance.timeOrigin + performance.now();

export class RawCall {
  readonly arrivals: RtpArrival[] = [];
  private sip!: dgram.Socket;
  private rtp!: dgram.Socket;
  private sender?: NodeJS.Timeout;
  private readonly callId = `flood-${token()}@127.0.0.1`;
  private readonly fromTag = token();
  private cseq = 1;
  private responses: SipResponse[] = [];
  private remoteRtp?: { host: string; port: number };
  private dialog?: { toHeader: string; target: string; routes: string[] };

  constructor(private readonly o: RawCallOptions) {}

  private get sipPort(): number {
    return this.sip.address().port;
  }

  /** Dials and resolves once the call is answered and ACKed. */
  async dial(timeoutMs = 20_000): Promise<void> {
    this.sip = dgram.createSocket('udp4');
    this.rtp = dgram.createSocket('udp4');
    await Promise.all([
      new Promise<void>((r) => this.sip.bind(0, '127.0.0.1', () => r())),
      new Promise<void>((r) => this.rtp.bind(0, '127.0.0.1', () => r())),
    ]);
    this.sip.on('message', (m) => this.onSip(m));
    this.rtp.on('message', (m) => this.onRtp(m));
    const end = Date.now() + timeoutMs;
    let auth: string | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const branch = `z9hG4bK${token()}`;
      const seq = this.cseq++;
      this.send(this.invite(branch, seq, auth));
      const final = await this.waitFinal(seq, end);
      if (final.status === 401 || final.status === 407) {
        this.send(this.ackNon2xx(branch, seq, final));
        const header = final.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
        const challenge = getHeader(final, header);
        if (!challenge) throw new Error(`${final.status} without ${header}`);
        const a = buildAuthorization(
          challenge,
          { username: this.o.from, password: this.o.password, method: 'INVITE', uri: this.requestUri() },
          token(),
          1,
        );
        if (!a.ok) throw new Error(`cannot answer the challenge: ${a.error.reason}`);
        auth = `${final.status === 407 ? 'Proxy-Authorization' : 'Authorization'}: ${a.value}`;
        continue;
      }
      if (final.status !== 200) throw new Error(`call refused: ${final.status} ${final.reason}`);
      this.answered(final);
      return;
    }
    throw new Error('call not answered after 3 attempts');
  }

  /** Sends BYE and closes the sockets. */
  async hangup(): Promise<void> {
    if (this.sender) clearInterval(this.sender);
    if (this.dialog) {
      const seq = this.cseq++;
      this.send(this.inDialog('BYE', `z9hG4bK${token()}`, seq));
      await this.waitFinal(seq, Date.now() + 3000).catch(() => undefined);
    }
    this.close();
  }

  close(): void {
    if (this.sender) clearInterval(this.sender);
    for (const s of [this.sip, this.rtp]) {
      try {
        s?.close();
      } catch {}
    }
  }

  private requestUri(): string {
    return `sip:${this.o.to}@${this.o.domain}`;
  }

  private common(seq: number, method: string, branch: string, to: string): string[] {
    return [
      `Via: SIP/2.0/UDP 127.0.0.1:${this.sipPort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.o.from}@${this.o.domain}>;tag=${this.fromTag}`,
      `To: ${to}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${seq} ${method}`,
      `Contact: <sip:${this.o.from}@127.0.0.1:${this.sipPort}>`,
    ];
  }

  private invite(branch: string, seq: number, auth?: string): string {
    const rtpPort = this.rtp.address().port;
    const sdp = [
      'v=0',
      `o=- ${seq} ${seq} IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${rtpPort} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      'a=sendrecv',
      '',
    ].join('\r\n');
    return [
      `INVITE ${this.requestUri()} SIP/2.0`,
      ...this.common(seq, 'INVITE', branch, `<${this.requestUri()}>`),
      ...(auth ? [auth] : []),
      'Content-Type: application/sdp',
      `Content-Length: ${sdp.length}`,
      '',
      sdp,
    ].join('\r\n');
  }

  private ackNon2xx(branch: string, seq: number, r: SipResponse): string {
    return [
      `ACK ${this.requestUri()} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.sipPort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.o.from}@${this.o.domain}>;tag=${this.fromTag}`,
      `To: ${headerText(r, 'To')}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${seq} ACK`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  private inDialog(method: string, branch: string, seq: number): string {
    const d = this.dialog;
    if (!d) throw new Error('no dialog');
    return [
      `${method} ${d.target} SIP/2.0`,
      ...this.common(seq, method, branch, d.toHeader),
      ...d.routes.map((r) => `Route: ${r}`),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  private answered(ok: SipResponse): void {
    const contact = getHeader(ok, 'Contact');
    const target = contact ? parseNameAddr(contact) : null;
    // UAC route set: Record-Route in reverse order (RFC 3261 12.1.2).
    const routes = getHeaders(ok, 'Record-Route')
      .flatMap((h) => h.split(/,(?=\s*<)/))
      .reverse();
    this.dialog = {
      toHeader: headerText(ok, 'To'),
      target: target ? raw(contact ?? '') : this.requestUri(),
      routes,
    };
    this.send(
      this.inDialog('ACK', `z9hG4bK${token()}`, ok.cseq.seq).replace(
        /CSeq: \d+ ACK/,
        `CSeq: ${ok.cseq.seq} ACK`,
      ),
    );
    const sdp = new TextDecoder().decode(ok.body);
    const port = Number(/m=audio (\d+)/.exec(sdp)?.[1]);
    const host = /c=IN IP4 (\S+)/.exec(sdp)?.[1] ?? '127.0.0.1';
    this.remoteRtp = { host, port };
    // Our side of the media: silence every 20 ms (keeps symmetric-RTP latching and timeouts happy).
    let seq = 0;
    const ssrc = 0x1234abcd;
    const payload = encodeG711('PCMU', new Int16Array(160));
    this.sender = setInterval(() => {
      const r = this.remoteRtp;
      if (!r) return;
      const pkt = encodeRtp({
        payloadType: 0,
        sequence: seq & 0xffff,
        timestamp: seq * 160,
        ssrc,
        marker: seq === 0,
        payload,
      });
      seq++;
      this.rtp.send(pkt, r.port, r.host);
    }, 20);
  }

  private send(text: string): void {
    const target =
      this.dialog?.routes.length || !this.dialog ? this.o.proxyPort : uriPort(this.dialog.target);
    this.sip.send(Buffer.from(text, 'latin1'), target, '127.0.0.1');
  }

  private onSip(m: Buffer): void {
    const r = parseMessage(new Uint8Array(m));
    if (!r.ok) return;
    const msg: SipMessage = r.message;
    if (msg.type === 'response') {
      this.responses.push(msg);
      // A retransmitted 200 means our ACK was lost: ACK again.
      if (msg.status === 200 && msg.cseq.method === 'INVITE' && this.dialog)
        this.send(
          this.inDialog('ACK', `z9hG4bK${token()}`, msg.cseq.seq).replace(
            /CSeq: \d+ ACK/,
            `CSeq: ${msg.cseq.seq} ACK`,
          ),
        );
      return;
    }
    // In-dialog requests from the far end (BYE, re-INVITE, OPTIONS): answer 200.
    const lines = m.toString('latin1').split('\r\n');
    const keep = lines.filter((l) => /^(Via|v|From|f|To|t|Call-ID|i|CSeq):/i.test(l));
    this.sip.send(
      Buffer.from(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'), 'latin1'),
      msg.via[0]?.port ?? this.o.proxyPort,
      '127.0.0.1',
    );
  }

  private onRtp(m: Buffer): void {
    const r = decodeRtp(new Uint8Array(m));
    if (!r.ok) return;
    const pcm = decodeG711('PCMU', r.packet.payload);
    this.arrivals.push({
      at: nowMs(),
      seq: r.packet.sequence,
      tone: toneStrength(pcm, this.o.toneHz, 8000),
    });
  }

  private async waitFinal(seq: number, end: number): Promise<SipResponse> {
    for (;;) {
      const r = this.responses.find((x) => x.cseq.seq === seq && x.status >= 200);
      if (r) return r;
      if (Date.now() > end) throw new Error(`no final response to CSeq ${seq}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }
}

/** The To header as received (with the far end's tag), for requests in the dialog. */
function headerText(m: SipMessage, _name: 'To'): string {
  const u = m.to.uri;
  const params = Object.entries(m.to.params)
    .map(([k, v]) => (v === null ? `;${k}` : `;${k}=${v}`))
    .join('');
  return `<${u.scheme}:${u.user ? `${u.user}@` : ''}${u.host}${u.port ? `:${u.port}` : ''}>${params}`;
}

function raw(nameAddr: string): string {
  const m = /<([^>]+)>/.exec(nameAddr);
  return m ? m[1] : nameAddr.trim();
}

function uriPort(uri: string): number {
  return Number(/:(\d+)(?:[;>]|$)/.exec(uri)?.[1] ?? 5060);
}
