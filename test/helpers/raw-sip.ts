// Raw SIP over UDP and TCP for tests: send bytes, collect what comes back.
import dgram from 'node:dgram';
import net from 'node:net';

export async function udpExchange(port: number, data: string | Uint8Array, waitMs = 1500): Promise<string[]> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const got: string[] = [];
  s.on('message', (m) => got.push(m.toString('latin1')));
  s.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, port, '127.0.0.1');
  const end = Date.now() + waitMs;
  while (got.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  s.close();
  return got;
}

/** Sends on a new TCP connection; resolves with everything received before `waitMs` or close. */
export async function tcpExchange(port: number, data: string | Uint8Array, waitMs = 1500): Promise<string> {
  const c = net.connect(port, '127.0.0.1');
  let got = '';
  c.on('data', (d) => {
    got += d.toString('latin1');
  });
  c.on('error', () => {});
  await new Promise<void>((r, j) => {
    c.once('connect', () => r());
    c.once('error', j);
  });
  c.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  const closed = new Promise((r) => c.once('close', r));
  const end = Date.now() + waitMs;
  while (!/\r\n\r\n/.test(got) && Date.now() < end) {
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10))]);
    if (c.destroyed) break;
  }
  c.destroy();
  return got;
}

let n = 0;
/** A well-formed request; `over` lets a test name the Via transport. */
export function request(method: string, user: string, port: number, over = 'UDP', extra = ''): string {
  n++;
  return [
    `${method} sip:${user}@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/${over} 127.0.0.1:9;branch=z9hG4bK-raw-${n}-${Date.now()};rport`,
    'Max-Forwards: 70',
    `From: <sip:tester@127.0.0.1>;tag=t${n}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: raw-${n}-${Date.now()}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    'Contact: <sip:tester@127.0.0.1:9>',
    extra,
    'Content-Length: 0',
    '',
    '',
  ]
    .filter((l, i, a) => l !== '' || i >= a.length - 2)
    .join('\r\n');
}

export function statusOf(response: string): number | null {
  const m = /^SIP\/2\.0 (\d{3}) /.exec(response);
  return m ? Number(m[1]) : null;
}
