// SIP over TCP: Content-Length framing, a connection table (inbound and outbound share it, so a
// response or a later request to the same address reuses the link), idle timeout, size limits.
import net from 'node:net';
import { type Address, addressKey } from '../../core/net.ts';
import type { Logger } from '../log.ts';
import { StreamFramer } from './framing.ts';
import type { InboundHandler, SendOptions, TransportLimits } from './types.ts';
import { stripBrackets, unmapIPv4 } from './udp.ts';

interface Queued {
  data: Uint8Array;
  onError?: (err: Error) => void;
}

interface Connection {
  id: string;
  socket: net.Socket;
  remote: Address;
  framer: StreamFramer;
  /** Writes queued while an outbound connection is still connecting. */
  pending: Queued[] | null;
  /** Armed while the framer holds part of a message. */
  partialTimer: NodeJS.Timeout | null;
}

export class TcpTransport {
  private server: net.Server | null = null;
  private readonly byId = new Map<string, Connection>();
  private readonly byRemote = new Map<string, Connection>();
  private nextId = 1;
  private closing = false;

  constructor(
    private readonly onMessage: InboundHandler,
    private readonly log: Logger,
    private readonly limits: TransportLimits,
  ) {}

  get connectionCount(): number {
    return this.byId.size;
  }

  listen(host: string, port: number): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error('tcp server error', { err }));
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  private accept(socket: net.Socket): void {
    if (this.byId.size >= this.limits.maxTcpConnections) {
      this.log.warn('tcp: connection limit reached, refusing', {
        from: `${socket.remoteAddress}:${socket.remotePort}`,
      });
      socket.destroy();
      return;
    }
    const remote: Address = {
      transport: 'TCP',
      host: normalizeHost(socket.remoteAddress ?? '0.0.0.0'),
      port: socket.remotePort ?? 0,
    };
    this.adopt(socket, remote, null);
  }

  private adopt(socket: net.Socket, remote: Address, pending: Queued[] | null): Connection {
    const conn: Connection = {
      id: `tcp-${this.nextId++}`,
      socket,
      remote,
      framer: new StreamFramer(this.limits.maxMessageBytes),
      pending,
      partialTimer: null,
    };
    this.byId.set(conn.id, conn);
    this.byRemote.set(addressKey(remote), conn);
    socket.setNoDelay(true);
    socket.setTimeout(this.limits.tcpIdleMs);
    socket.on('timeout', () => {
      this.log.debug('tcp: idle connection closed', { conn: conn.id });
      socket.destroy();
    });
    socket.on('data', (chunk) => this.receive(conn, chunk));
    socket.on('error', (err) => this.log.debug('tcp connection error', { conn: conn.id, err: err.message }));
    socket.on('close', () => this.forget(conn));
    return conn;
  }

  private receive(conn: Connection, chunk: Buffer): void {
    const { messages, error } = conn.framer.push(
      new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length),
    );
    for (const data of messages) {
      if (this.closing) return;
      this.onMessage({ data, from: conn.remote, connectionId: conn.id });
    }
    if (error) {
      this.log.warn('tcp: closing connection on framing error', {
        conn: conn.id,
        from: `${conn.remote.host}:${conn.remote.port}`,
        code: error.code,
        reason: error.reason,
      });
      conn.socket.destroy();
      return;
    }
    this.watchPartial(conn);
  }

  private watchPartial(conn: Connection): void {
    if (conn.framer.buffered === 0) {
      if (conn.partialTimer) clearTimeout(conn.partialTimer);
      conn.partialTimer = null;
      return;
    }
    if (conn.partialTimer) return;
    conn.partialTimer = setTimeout(() => {
      this.log.warn('tcp: closing connection, message not completed in time', {
        conn: conn.id,
        from: `${conn.remote.host}:${conn.remote.port}`,
        buffered: conn.framer.buffered,
        ms: this.limits.partialMessageMs,
      });
      conn.socket.destroy();
    }, this.limits.partialMessageMs);
    conn.partialTimer.unref();
  }

  private forget(conn: Connection): void {
    if (conn.partialTimer) clearTimeout(conn.partialTimer);
    this.byId.delete(conn.id);
    const key = addressKey(conn.remote);
    if (this.byRemote.get(key) === conn) this.byRemote.delete(key);
  }

  /**
   * Sends on the given connection if it is still open, else on any open connection to `to`, else on a
   * new outbound connection to `opts.fallback ?? to` (RFC 3261 18.2.2: a response whose connection is
   * gone goes to the Via's received address and sent-by port).
   */
  send(to: Address, data: Uint8Array, opts: SendOptions = {}): void {
    const { onError } = opts;
    const fail = (msg: string) => {
      if (onError) setImmediate(() => onError(new Error(msg)));
    };
    if (this.closing) {
      fail('transport closed');
      return;
    }
    if (data.length > this.limits.maxMessageBytes) {
      this.log.warn('tcp: refusing to send oversize message', { bytes: data.length });
      fail('message too large');
      return;
    }
    const open = (a: Address) =>
      this.byRemote.get(addressKey({ ...a, transport: 'TCP', host: normalizeHost(a.host) }));
    const conn =
      (opts.connectionId ? this.byId.get(opts.connectionId) : undefined) ??
      open(to) ??
      (opts.fallback ? open(opts.fallback) : undefined) ??
      this.connect(opts.fallback ?? to);
    if (conn.pending) conn.pending.push({ data, onError });
    else this.write(conn, data, onError);
  }

  private write(conn: Connection, data: Uint8Array, onError?: (err: Error) => void): void {
    conn.socket.write(data, (err) => {
      if (err) onError?.(err);
    });
  }

  private connect(to: Address): Connection {
    const remote: Address = { transport: 'TCP', host: normalizeHost(to.host), port: to.port };
    const socket = net.connect({ host: stripBrackets(remote.host), port: remote.port });
    const conn = this.adopt(socket, remote, []);
    socket.once('connect', () => {
      const queued = conn.pending ?? [];
      conn.pending = null;
      for (const q of queued) this.write(conn, q.data, q.onError);
    });
    socket.once('error', (err) => {
      this.log.warn('tcp: outbound connection failed', {
        to: `${remote.host}:${remote.port}`,
        err: err.message,
      });
      // Everything still waiting for the connect is undeliverable.
      const queued = conn.pending ?? [];
      conn.pending = null;
      for (const q of queued) q.onError?.(err);
    });
    return conn;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const conn of this.byId.values()) conn.socket.destroy();
    this.byId.clear();
    this.byRemote.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d; SIP wants a.b.c.d. */
export const normalizeHost = unmapIPv4;
