// Shared by the link tests: managers on 127.0.0.1 with a capturing logger, event waiters.
import { once } from 'node:events';
import tls from 'node:tls';
import type { LogFields, Logger } from '../../../src/main/log.ts';
import {
  LinkManager,
  type LinkManagerEvents,
  type LinkManagerOptions,
} from '../../../src/main/overlay-link/link-manager.ts';
import type { TestCa, TestPeerCert } from '../../helpers/certs.ts';

export interface LogEntry {
  level: string;
  msg: string;
  fields: LogFields;
}

export function captureLogger(entries: LogEntry[], base: LogFields = {}): Logger {
  const at =
    (level: string) =>
    (msg: string, fields?: LogFields): void => {
      entries.push({ level, msg, fields: { ...base, ...fields } });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => captureLogger(entries, { ...base, ...fields }),
  };
}

export interface Peer {
  mgr: LinkManager;
  cert: TestPeerCert;
  logs: LogEntry[];
}

export async function startPeer(
  ca: TestCa,
  cert: TestPeerCert,
  extra: Partial<LinkManagerOptions> = {},
): Promise<Peer> {
  const logs: LogEntry[] = [];
  const mgr = new LinkManager({
    nodeId: cert.nodeId,
    keyPem: cert.keyPem,
    certPem: cert.certPem,
    caPem: ca.certPem,
    host: '127.0.0.1',
    port: 0,
    connectTimeoutMs: 3000,
    log: captureLogger(logs),
    ...extra,
  });
  await mgr.start();
  return { mgr, cert, logs };
}

/** Makes `from` able to dial `to`. */
export function introduce(from: Peer, to: Peer): void {
  from.mgr.setAddress(to.cert.nodeId, '127.0.0.1', to.mgr.port);
}

export function next<K extends keyof LinkManagerEvents>(
  p: Peer,
  event: K,
  timeoutMs = 5000,
): Promise<LinkManagerEvents[K][0]> {
  return once(p.mgr as never, event, { signal: AbortSignal.timeout(timeoutMs) }).then(
    (args) => args[0] as LinkManagerEvents[K][0],
  );
}

/** Collects the payloads of `count` frames (from any peer) arriving at `p`. */
export function collectFrames(p: Peer, count: number, timeoutMs = 10_000): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const got: Uint8Array[] = [];
    const timer = setTimeout(() => {
      p.mgr.off('frame', on);
      reject(new Error(`only ${got.length}/${count} frames arrived`));
    }, timeoutMs);
    const on = ({ bytes }: { bytes: Uint8Array }) => {
      got.push(new Uint8Array(bytes)); // copy: the decoder may hand out views of socket buffers
      if (got.length === count) {
        clearTimeout(timer);
        p.mgr.off('frame', on);
        resolve(got);
      }
    };
    p.mgr.on('frame', on);
  });
}

/** A raw TLS client (not a LinkManager) to speak bytes the manager would never send. */
export function rawClient(
  port: number,
  ca: TestCa,
  cert: TestPeerCert | null,
): Promise<{ socket: tls.TLSSocket; data: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const data: Buffer[] = [];
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: ca.certPem,
      ...(cert ? { key: cert.keyPem, cert: cert.certPem } : {}),
      minVersion: 'TLSv1.3',
      checkServerIdentity: () => undefined,
    });
    socket.on('data', (d: Buffer) => data.push(d));
    socket.once('secureConnect', () => resolve({ socket, data }));
    socket.once('error', reject);
  });
}

export function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

export function warned(p: Peer, msg: string): LogEntry[] {
  return p.logs.filter((e) => e.level === 'warn' && e.msg === msg);
}

/** A raw TLS server with an office certificate that answers every connection with `preface`. */
export async function rawServer(
  ca: TestCa,
  cert: TestPeerCert,
  preface: Uint8Array,
): Promise<{ server: tls.Server; port: number }> {
  const server = tls.createServer({
    key: cert.keyPem,
    cert: cert.certPem,
    ca: ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
  });
  server.on('secureConnection', (s) => {
    s.on('error', () => {});
    s.end(preface);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

/** Splits a byte stream into its length-prefixed frames (test side, trusted input). */
export function splitFrames(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 4 <= bytes.length; ) {
    const n = bytes.readUInt32BE(i);
    out.push(bytes.subarray(i + 4, i + 4 + n));
    i += 4 + n;
  }
  return out;
}
