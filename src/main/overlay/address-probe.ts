// Learning the Node-ID behind a bootstrap address (`--peer HOST:PORT`, a peer-cache entry whose id
// changed). LinkManager dials peers by Node-ID and requires the server certificate to name exactly
// that id, so an address alone cannot be dialed: this probe does one mutual-TLS handshake with our
// own certificate, reads the identity from the server's (office-CA-verified) certificate, waits for
// the link preface (ACCEPT proves the server accepted our certificate too) and hangs up. The caller
// then gives LinkManager the address under that Node-ID. Costs one extra handshake per bootstrap.
import tls from 'node:tls';
import { FrameDecoder } from '../overlay-link/frame-codec.ts';
import { decodeLinkControl } from '../overlay-link/link-control.ts';
import { identityFromCertificate, type PeerIdentity } from '../overlay-link/peer-identity.ts';

export interface ProbeOptions {
  host: string;
  port: number;
  keyPem: string;
  certPem: string;
  caPem: string | string[];
  timeoutMs?: number;
  /** Aborting ends the probe at once (the runtime stops). */
  signal?: AbortSignal;
}

export type ProbeResult = { ok: true; identity: PeerIdentity } | { ok: false; reason: string };

export function probeNodeId(opts: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let identity: PeerIdentity | null = null;
    let settled = false;
    const socket = tls.connect({
      host: opts.host,
      port: opts.port,
      key: opts.keyPem,
      cert: opts.certPem,
      ca: opts.caPem,
      minVersion: 'TLSv1.3',
      // Any office member will do: the chain is checked by OpenSSL, the identity here.
      checkServerIdentity: (_host, cert) => {
        const id = identityFromCertificate(cert);
        return id.ok ? undefined : new Error(id.error);
      },
    });
    const finish = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const timeoutMs = opts.timeoutMs ?? 3000;
    const timer = setTimeout(
      () => finish({ ok: false, reason: `no link preface within ${timeoutMs} ms` }),
      timeoutMs,
    );
    const decoder = new FrameDecoder(1024);
    const onAbort = () => finish({ ok: false, reason: 'aborted' });
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      const id = identityFromCertificate(socket.getPeerCertificate());
      if (!id.ok) finish({ ok: false, reason: id.error });
      else identity = id.identity;
    });
    socket.on('data', (chunk: Buffer) => {
      const r = decoder.push(chunk);
      if (!r.ok) return finish({ ok: false, reason: 'bad link preface' });
      const first = r.frames[0];
      if (!first) return;
      const c = decodeLinkControl(first);
      if (!c.ok) return finish({ ok: false, reason: `bad link preface: ${c.error}` });
      if (c.control.type === 'reject' && c.control.reason !== 'duplicate')
        return finish({ ok: false, reason: `rejected by peer: ${c.control.reason}` });
      // A 'duplicate' reject still proves who the peer is and that it accepts our certificate.
      if (identity) finish({ ok: true, identity });
    });
    socket.on('error', (err) => finish({ ok: false, reason: err.message }));
    socket.on('close', () =>
      finish({
        ok: false,
        reason: identity
          ? 'closed before the peer accepted the link (our certificate refused?)'
          : 'connection closed during the handshake',
      }),
    );
  });
}

/** Parses "host:port" or "[v6]:port"; null when malformed. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2], port };
}
