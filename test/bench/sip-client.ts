// A minimal SIP UAC for the benchmarks on one UDP socket: INVITE, timestamps of the 180 and the 200
// taken at receipt (performance.now(): sub-millisecond, unlike sipp's own timer), ACK and BYE along
// the route set; optionally an SDP offer pointing the callee's media at a given port.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { getHeaders, type SipResponse } from '../../src/core/sip/message.ts';
import { parseMessage } from '../../src/core/sip/parse.ts';

export interface Timing {
  ringing: number;
  answered: number;
}

/** A minimal UAC on one UDP socket: INVITE, time 180 and 200, ACK and BYE along the route set. */
export class TimingClient {
  private readonly waiters = new Map<string, (r: SipResponse, at: number) => void>();
  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
  ) {
    socket.on('message', (buf) => {
      const at = performance.now();
      const p = parseMessage(buf);
      if (p.ok && p.message.type === 'response') this.waiters.get(p.message.callId)?.(p.message, at);
    });
  }

  static async open(): Promise<TimingClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    return new TimingClient(socket, socket.address().port);
  }

  close(): void {
    this.socket.close();
  }

  private send(text: string, port: number): void {
    this.socket.send(Buffer.from(text), port, '127.0.0.1');
  }

  /** INVITE `target` at the proxy, ACK the 200, hold `holdMs` (media to `mediaPort`), BYE. */
  async call(
    n: number,
    target: string,
    proxyPort: number,
    media: { port?: number; holdMs?: number } = {},
  ): Promise<Timing> {
    const callId = `bench-${n}-${process.pid}-${this.port}`;
    const me = `127.0.0.1:${this.port}`;
    const sdp = `v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${media.port ?? 40000} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
    const common = (method: string, seq: number, branch: string, uri: string, to: string, routes: string[]) =>
      [
        `${method} ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${me};branch=z9hG4bK-${branch};rport`,
        `From: <sip:bench@${me}>;tag=f${n}`,
        `To: ${to}`,
        `Call-ID: ${callId}`,
        `CSeq: ${seq} ${method}`,
        ...routes.map((r) => `Route: ${r}`),
        `Contact: <sip:bench@${me}>`,
        'Max-Forwards: 70',
      ].join('\r\n');
    const toUri = `<sip:${target}@127.0.0.1:${proxyPort}>`;
    let ringing = Number.NaN;
    let final: { res: SipResponse; at: number } | null = null;
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`call ${n}: no answer`)), 5000);
      this.waiters.set(callId, (res, at) => {
        if (res.cseq.method !== 'INVITE') return;
        if (res.status === 180 && Number.isNaN(ringing)) ringing = at;
        if (res.status >= 200 && !final) {
          final = { res, at };
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const t0 = performance.now();
    this.send(
      `${common('INVITE', 1, `i${n}`, `sip:${target}@127.0.0.1:${proxyPort}`, toUri, [])}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
      proxyPort,
    );
    await done;
    const f = final as unknown as { res: SipResponse; at: number };
    if (f.res.status !== 200) throw new Error(`call ${n}: ${f.res.status}`);
    const to = `<sip:${target}@127.0.0.1:${proxyPort}>;tag=${String(f.res.to.params.tag)}`;
    const routes = getHeaders(f.res, 'Record-Route').reverse();
    const contact = /<([^>]+)>/.exec(getHeaders(f.res, 'Contact')[0] ?? '')?.[1] ?? '';
    this.send(`${common('ACK', 1, `a${n}`, contact, to, routes)}\r\nContent-Length: 0\r\n\r\n`, proxyPort);
    if (media.holdMs) await new Promise((r) => setTimeout(r, media.holdMs));
    const bye = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`call ${n}: BYE unanswered`)), 5000);
      this.waiters.set(callId, (res) => {
        if (res.cseq.method === 'BYE' && res.status >= 200) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.send(`${common('BYE', 2, `b${n}`, contact, to, routes)}\r\nContent-Length: 0\r\n\r\n`, proxyPort);
    await bye;
    this.waiters.delete(callId);
    return { ringing: ringing - t0, answered: f.at - t0 };
  }
}
