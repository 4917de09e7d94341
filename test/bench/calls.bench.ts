// Call setup time through a PeerPBX gateway peer vs a Kamailio registrar/proxy, side by side on
// loopback: one timing client (this process, a raw UDP socket, performance.now() at send and at
// receipt: sub-millisecond, unlike sipp's own timer) calls a sipp UAS registered as extension 301,
// once through the gateway (routing plan + cached, watched overlay registration) and once through
// Kamailio (usrloc in memory). Same client, same UAS: only the proxy differs. Then the calls per
// second one gateway sustains with 0 failures (sipp UAC at rising rates).
// Run: node --import tsx test/bench/calls.bench.ts [CALLS]   (needs sipp and kamailio)
import dgram from 'node:dgram';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getHeaders, type SipResponse } from '../../src/core/sip/message.ts';
import { parseMessage } from '../../src/core/sip/parse.ts';
import { newOffice, overlayAddress, startPbxPeer } from '../calls/harness.ts';
import { startKamailio } from '../calls/kamailio.ts';
import { freePort } from '../helpers/ports.ts';
import { killAll, type Running } from '../helpers/processes.ts';
import { sippErrors, startSipp } from '../helpers/sipp.ts';

const CALLS = Number(process.argv[2] ?? 200);
const WARMUP = 20;
const SCENARIOS = join(import.meta.dirname, '../calls/scenarios');

interface Timing {
  ringing: number;
  answered: number;
}

/** A minimal UAC on one UDP socket: INVITE, time 180 and 200, ACK and BYE along the route set. */
class TimingClient {
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

  async call(n: number, target: string, proxyPort: number): Promise<Timing> {
    const callId = `bench-${n}-${process.pid}-${this.port}`;
    const me = `127.0.0.1:${this.port}`;
    const sdp = `v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
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

function stats(xs: number[]): { median: number; p90: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: s[Math.floor(s.length / 2)],
    p90: s[Math.floor(s.length * 0.9)],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

type Samples = { ringing: number[]; answered: number[] };

async function runCalls(
  client: TimingClient,
  gatewayPort: number,
  kamailioPort: number,
): Promise<{ viaOverlay: Samples; viaKamailio: Samples }> {
  const viaOverlay: Samples = { ringing: [], answered: [] };
  const viaKamailio: Samples = { ringing: [], answered: [] };
  for (let i = 0; i < WARMUP + CALLS; i++) {
    for (const [port, out] of [
      [gatewayPort, viaOverlay],
      [kamailioPort, viaKamailio],
    ] as const) {
      const t = await client.call(2 * i + (port === gatewayPort ? 0 : 1), '301', port);
      if (i < WARMUP) continue;
      out.ringing.push(t.ringing);
      out.answered.push(t.answered);
    }
  }
  return { viaOverlay, viaKamailio };
}

async function registerUas(proxyPort: number, auth: boolean): Promise<{ uas: Running; port: number }> {
  const port = await freePort();
  const reg = startSipp({
    scenario: { file: join(SCENARIOS, auth ? 'register-auth.xml' : 'register.xml') },
    remote: `127.0.0.1:${proxyPort}`,
    localPort: port,
    calls: 1,
    extra: ['-s', '301', ...(auth ? ['-au', '301', '-ap', 'pw301'] : [])],
  });
  const r = await reg.finish();
  if (r.stats?.successful !== 1) throw new Error(`REGISTER failed: ${sippErrors(reg.dir)}`);
  const uas = startSipp({
    scenario: { file: join(SCENARIOS, 'uas.xml') },
    localPort: port,
    calls: 1_000_000,
  });
  await new Promise((res) => setTimeout(res, 300));
  return { uas, port };
}

async function sustainedRate(
  gatewayPort: number,
  ports: number[],
): Promise<{ rate: number; failedAt: number | null }> {
  let best = 0;
  const rates = [100, 200, 400, 800, 1600];
  for (const [i, rate] of rates.entries()) {
    const localPort = ports[i];
    const uac = startSipp({
      scenario: { file: join(SCENARIOS, 'uac.xml') },
      remote: `127.0.0.1:${gatewayPort}`,
      localPort,
      calls: rate * 5,
      extra: ['-s', '301', '-key', 'caller', 'load', '-d', '100', '-r', String(rate), '-l', String(rate * 2)],
    });
    const r = await uac.finish();
    const ok = r.stats?.successful === rate * 5 && r.stats.failed === 0;
    console.log(
      `  ${rate} calls/s x 5 s: ${r.stats?.successful ?? '?'} ok, ${r.stats?.failed ?? '?'} failed`,
    );
    if (!ok) return { rate: best, failedAt: rate };
    best = rate;
  }
  return { rate: best, failedAt: null };
}

async function main(): Promise<void> {
  const fmt = (x: number) => x.toFixed(3);
  const client = await TimingClient.open();
  const loadPorts = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const office = newOffice();
  const gw = await startPbxPeer({
    name: 'gw',
    extension: '101',
    office,
    deskPhones: [{ extension: '301', password: 'pw301' }],
    trust: [client.port, ...loadPorts].map((p) => `127.0.0.1:${p}`),
  });
  // A second member, so the overlay is a real one (the registration may live on either peer).
  const other = await startPbxPeer({
    name: 'other',
    extension: '102',
    office,
    bootstrap: [overlayAddress(gw)],
  });
  const gwPort = Number(gw.ready.sipPort);
  const overlayUas = await registerUas(gwPort, true);
  const kport = await freePort();
  const kamailio = await startKamailio(kport);
  const kUas = await registerUas(kport, false);
  // Alternating calls: whatever else the machine does colours both paths alike.
  const { viaOverlay, viaKamailio } = await runCalls(client, gwPort, kport);
  overlayUas.uas.child.kill('SIGTERM');
  kUas.uas.child.kill('SIGTERM');
  await kamailio.stop();

  const o180 = stats(viaOverlay.ringing);
  const o200 = stats(viaOverlay.answered);
  const k180 = stats(viaKamailio.ringing);
  const k200 = stats(viaKamailio.answered);
  console.log(
    `\ncall setup on loopback, ${CALLS} sequential calls each, alternating paths (after ${WARMUP} warm-up), ms:`,
  );
  console.log('| path | INVITE->180 median | p90 | INVITE->200 median | p90 |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| PeerPBX gateway (overlay registration) | ${fmt(o180.median)} | ${fmt(o180.p90)} | ${fmt(o200.median)} | ${fmt(o200.p90)} |`,
  );
  console.log(
    `| Kamailio 5.6 (usrloc) | ${fmt(k180.median)} | ${fmt(k180.p90)} | ${fmt(k200.median)} | ${fmt(k200.p90)} |`,
  );
  console.log(
    `ratio (median, PeerPBX / Kamailio): 180 ${(o180.median / k180.median).toFixed(2)}, 200 ${(o200.median / k200.median).toFixed(2)}`,
  );

  console.log('\ncalls per second through one gateway peer (sipp UAC -> gateway -> sipp UAS, 0 failures):');
  const loadUas = await registerUas(gwPort, true);
  const cps = await sustainedRate(gwPort, loadPorts);
  loadUas.uas.child.kill('SIGTERM');
  console.log(`sustained: ${cps.rate} calls/s${cps.failedAt ? ` (failures at ${cps.failedAt})` : ''}`);
  await Promise.allSettled([gw, other].map((p) => p.request({ op: 'stop' }, 5000)));
  client.close();
  await killAll();
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    console.error(e);
    await killAll();
    process.exit(1);
  },
);
