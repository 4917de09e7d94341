// SIP over UDP: each datagram is one message (RFC 3261 section 18.3).
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import type { Address } from '../../core/net.ts';
import type { Logger } from '../log.ts';
import type { InboundHandler } from './types.ts';

export class UdpTransport {
  private socket: dgram.Socket | null = null;
  private dropped = 0;
  private ipv6 = false;

  constructor(
    private readonly onMessage: InboundHandler,
    private readonly log: Logger,
    private readonly maxMessageBytes: number,
  ) {}

  /** Binds; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    this.ipv6 = isIPv6(host);
    const socket = dgram.createSocket({ type: this.ipv6 ? 'udp6' : 'udp4', reuseAddr: false });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.log.error('udp socket error', { err }));
        socket.on('message', (data, rinfo) => this.receive(data, rinfo));
        resolve(socket.address().port);
      });
    });
  }

  private receive(data: Buffer, rinfo: dgram.RemoteInfo): void {
    const from: Address = { transport: 'UDP', host: unmapIPv4(rinfo.address), port: rinfo.port };
    if (data.length > this.maxMessageBytes) {
      this.drop('oversize datagram', from, { bytes: data.length });
      return;
    }
    // A bare CRLF or CRLFCRLF is a keepalive (RFC 5626 section 4.4.1), not a message.
    if (data.length <= 4 && data.every((b) => b === 13 || b === 10)) return;
    this.onMessage({ data: new Uint8Array(data.buffer, data.byteOffset, data.length), from });
  }

  private drop(reason: string, from: Address, fields: Record<string, unknown>): void {
    this.dropped++;
    this.log.warn(`udp: dropped ${reason}`, {
      from: `${from.host}:${from.port}`,
      dropped: this.dropped,
      ...fields,
    });
  }

  send(to: Address, data: Uint8Array, onError?: (err: Error) => void): void {
    const fail = (msg: string, fields: Record<string, unknown>) => {
      this.log.warn(msg, { to: `${to.host}:${to.port}`, ...fields });
      if (onError) setImmediate(() => onError(new Error(msg)));
    };
    if (!this.socket) {
      fail('udp: send on closed transport', {});
      return;
    }
    if (data.length > this.maxMessageBytes) {
      fail('udp: refusing to send oversize message', { bytes: data.length });
      return;
    }
    // A dual-stack (udp6) socket reaches IPv4 peers through their mapped address.
    const plain = stripBrackets(to.host);
    const host = this.ipv6 && isIPv4(plain) ? `::ffff:${plain}` : plain;
    this.socket.send(data, to.port, host, (err) => {
      if (err) fail('udp send failed', { err: err.message });
    });
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; SIP (Via received) wants a.b.c.d. */
export function unmapIPv4(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}
