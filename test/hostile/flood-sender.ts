// The flood of flood-call.test.ts, in its own process so the test's clock (RTP arrival times,
// OPTIONS latencies) is not stalled by the sender: 10,000 REGISTERs with bad credentials and
// 10,000 garbage datagrams, interleaved, from 8 source sockets. Run as
// `node --import tsx flood-sender.ts PORT DOMAIN SEED`; prints one JSON FloodReport line.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { buildAuthorization } from '../../src/core/sip/digest.ts';
import { hostileInput, KINDS, mulberry32 } from '../helpers/hostile.ts';
import { statusOf } from '../helpers/raw-sip.ts';
import { nowMs } from './rtp-call.ts';

export const FLOOD = 10_000;

function register(domain: string, i: number, auth: string | null, user = '201'): string {
  const branch = `z9hG4bKflood${i}x${randomBytes(3).toString('hex')}`;
  return [
    `REGISTER sip:${domain} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:9;branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${domain}>;tag=f${i}`,
    `To: <sip:${user}@${domain}>`,
    `Call-ID: flood-${i}@127.0.0.1`,
    `CSeq: ${i} REGISTER`,
    `Contact: <sip:${user}@127.0.0.1:9>`,
    'Expires: 3600',
    ...(auth ? [`Authorization: ${auth}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export interface FloodReport {
  registers: number;
  garbage: number;
  statuses: Record<string, number>;
  startedAt: number;
  endedAt: number;
}

/** 10,000 bad REGISTERs and 10,000 garbage datagrams, interleaved, from 8 source sockets. */
async function flood(sipPort: number, domain: string, seed: number): Promise<FloodReport> {
  const rand = mulberry32(seed);
  const socks = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const s = dgram.createSocket('udp4');
      s.on('error', () => {});
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      return s;
    }),
  );
  const report: FloodReport = { registers: 0, garbage: 0, statuses: {}, startedAt: 0, endedAt: 0 };
  for (const s of socks)
    s.on('message', (m) => {
      const st = statusOf(m.toString('latin1', 0, 20)) ?? 'other';
      report.statuses[st] = (report.statuses[st] ?? 0) + 1;
    });
  // A real nonce to answer with wrong credentials: the expensive path (digest check, 403, a warning).
  const challenge = await new Promise<string>((resolve) => {
    socks[0].once('message', (m) =>
      resolve(/WWW-Authenticate: (.*)\r\n/.exec(m.toString('latin1'))?.[1] ?? ''),
    );
    socks[0].send(Buffer.from(register(domain, 0, null), 'latin1'), sipPort, '127.0.0.1');
  });
  if (!challenge.startsWith('Digest ')) throw new Error(`no digest challenge: ${challenge}`);
  const digest = (user: string, password: string, nc: number) => {
    const a = buildAuthorization(
      challenge,
      { username: user, password, method: 'REGISTER', uri: `sip:${domain}` },
      'c',
      nc,
    );
    if (!a.ok) throw new Error(a.error.reason);
    return a.value;
  };
  report.startedAt = nowMs();
  const order = [...Array(FLOOD).fill('r'), ...Array(FLOOD).fill('g')] as ('r' | 'g')[];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let i = 0; i < order.length; i++) {
    let data: Buffer;
    if (order[i] === 'r') {
      report.registers++;
      const r = rand();
      const n = i + 1;
      const auth =
        r < 0.4
          ? digest('201', `wrong-${n}`, n) // wrong password, real nonce
          : r < 0.6
            ? digest(`9${n % 1000}`, 'guess', n) // unknown user
            : r < 0.8
              ? null // no credentials: challenged
              : r < 0.9
                ? `Digest username="201", realm="${domain}", nonce="forged${n}", uri="sip:${domain}", response="${'0'.repeat(32)}"`
                : `Digest ${'x'.repeat(Math.floor(rand() * 300))}`; // malformed
      data = Buffer.from(register(domain, n, auth, r >= 0.4 && r < 0.6 ? `9${n % 1000}` : '201'), 'latin1');
    } else {
      report.garbage++;
      const kind = KINDS[Math.floor(rand() * KINDS.length)];
      data = hostileInput(kind, rand, sipPort, i);
      if (data.length > 65_000) data = data.subarray(0, 65_000);
    }
    socks[i % socks.length].send(data, sipPort, '127.0.0.1');
    // Paced like a fast attacker on the LAN, so socket buffers are not the only thing under test.
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
  }
  report.endedAt = nowMs();
  await new Promise((r) => setTimeout(r, 500));
  for (const s of socks) s.close();
  return report;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '-')) {
  const [port, domain, seed] = process.argv.slice(2);
  flood(Number(port), domain, Number(seed)).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e) => {
      process.stderr.write(`flood-sender: ${String(e)}\n`);
      process.exit(1);
    },
  );
}
