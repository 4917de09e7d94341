// Free ports for child processes that need a number up front (sipp): bind UDP and TCP on port 0,
// keep the number if both got the same, release. A small race remains; callers use it at once.
import dgram from 'node:dgram';
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
