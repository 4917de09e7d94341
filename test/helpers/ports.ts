// Free ports for child processes that need a number up front (sipp): bind UDP and TCP on port 0,
// keep the number if both got the same, release. A small race remains; callers use it at once.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

async function tryPort(host: string): Promise<number | null> {
  const udp = dgram.createSocket('udp4');
  const port = await new Promise<number>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, host, () => resolve(udp.address().port));
  });
  const tcp = net.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false));
    tcp.listen(port, host, () => resolve(true));
  });
  await new Promise<void>((r) => udp.close(() => r()));
  if (ok) await new Promise<void>((r) => tcp.close(() => r()));
  return ok ? port : null;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await tryPort(host);
    if (p !== null) return p;
  }
  throw new Error('no free port');
}

/** True when some process listens on the port (UDP: bound; TCP: LISTEN), per /proc/net (Linux). */
export function isListening(port: number, transport: 'udp' | 'tcp'): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of [`/proc/net/${transport}`, `/proc/net/${transport}6`]) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || !cols[1].endsWith(hex)) continue;
      if (transport === 'udp' || cols[3] === '0A') return true;
    }
  }
  return false;
}

export async function waitListening(
  port: number,
  transport: 'udp' | 'tcp',
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!isListening(port, transport)) {
    if (Date.now() > end) throw new Error(`nothing listens on ${transport} port ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
