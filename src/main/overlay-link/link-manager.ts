// The overlay's link layer: mutual TLS 1.3 between peers (office-CA certificates both ways),
// carrying length-prefixed opaque frames. One link per peer pair: when both peers dial each other
// at once, the connection initiated by the lower Node-ID wins, decided by the accepting side before
// any overlay frame is sent (see link-control.ts), so no frame is lost to the race.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { createLogger, type Logger } from '../log.ts';
import { DEFAULT_MAX_FRAME_BYTES } from './frame-codec.ts';
import {
  BoundedFrameQueue,
  FramedSocket,
  type FramedSocketLimits,
  type SendError,
  type SendResult,
} from './framed-socket.ts';
import { decodeLinkControl, encodeLinkControl } from './link-control.ts';
import { identityFromCertificate, type PeerIdentity } from './peer-identity.ts';

export type { SendError, SendResult };

export interface LinkManagerOptions {
  /** This peer's Node-ID (the one in its own certificate). */
  nodeId: string;
  keyPem: string;
  certPem: string;
  /** The office CA: the only trust anchor, for both directions. */
  caPem: string | string[];
  /** Bind address (default 0.0.0.0) and port (default 0: any free port). */
  host?: string;
  port?: number;
  maxFrameBytes?: number;
  /** Per link, bytes allowed to wait behind a full socket buffer before the link is closed. */
  maxQueuedBytes?: number;
  /** TCP connect + TLS handshake + link preface must complete within this (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Inbound TCP connections (links and handshakes in progress) beyond which new ones are dropped. */
  maxConnections?: number;
  log?: Logger;
}

export type Initiator = 'local' | 'remote';

export interface LinkUpEvent {
  nodeId: string;
  user: string;
  /** Remote host:port of the connection. */
  address: string;
  initiator: Initiator;
}
export interface FrameEvent {
  nodeId: string;
  /** May be a view into a larger receive buffer: copy it to keep it for long. */
  bytes: Uint8Array;
}
export interface LinkDownEvent {
  nodeId: string;
  reason: string;
  /** False when a dial failed before the link came up (queued frames were dropped). */
  wasUp: boolean;
}
export interface RefusedEvent {
  /** Remote host:port. */
  address: string;
  reason: string;
  /** Which end refused: 'server' (we accepted the TCP connection) or 'client' (we dialed). */
  side: 'server' | 'client';
  /** The Node-ID we dialed, when we dialed. */
  nodeId?: string;
}

export interface LinkManagerEvents {
  'link-up': [LinkUpEvent];
  frame: [FrameEvent];
  'link-down': [LinkDownEvent];
  refused: [RefusedEvent];
}

export interface LinkInfo extends LinkUpEvent {
  localPort: number;
  remotePort: number;
  queuedBytes: number;
}

interface Link extends PeerIdentity {
  address: string;
  initiator: Initiator;
  framed: FramedSocket;
}

interface Dial {
  nodeId: string;
  address: string;
  socket: tls.TLSSocket;
  queue: BoundedFrameQueue;
  timer: NodeJS.Timeout;
  tcpConnected: boolean;
  done: boolean;
}

/** Frames for a peer whose connection to us won a simultaneous dial that is still in flight. */
interface AwaitingInbound {
  queue: BoundedFrameQueue;
  timer: NodeJS.Timeout;
}

const DUPLICATE = 'duplicate';

export class LinkManager extends EventEmitter<LinkManagerEvents> {
  private server: tls.Server | null = null;
  private boundPort = 0;
  private stopped = false;
  private readonly links = new Map<string, Link>();
  private readonly dials = new Map<string, Dial>();
  private readonly awaiting = new Map<string, AwaitingInbound>();
  private readonly addresses = new Map<string, { host: string; port: number }>();
  private readonly sockets = new Set<Socket>();
  private readonly tcpPeers = new WeakMap<Socket, string>();
  private readonly limits: FramedSocketLimits;
  private readonly connectTimeoutMs: number;
  private readonly log: Logger;

  constructor(private readonly opts: LinkManagerOptions) {
    super();
    const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.limits = {
      maxFrameBytes,
      maxQueuedBytes: opts.maxQueuedBytes ?? Math.max(32 << 20, 2 * maxFrameBytes),
    };
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.log = (opts.log ?? createLogger()).child({
      component: 'overlay-link',
      node: opts.nodeId.slice(0, 8),
    });
  }

  get nodeId(): string {
    return this.opts.nodeId;
  }

  /** The listening port (after start()). */
  get port(): number {
    return this.boundPort;
  }

  /** Listens; resolves with the bound port. A manager starts once: stop() is final. */
  start(): Promise<number> {
    if (this.server || this.stopped)
      return Promise.reject(new Error('LinkManager already started or stopped'));
    const server = tls.createServer({
      key: this.opts.keyPem,
      cert: this.opts.certPem,
      ca: this.opts.caPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      handshakeTimeout: this.connectTimeoutMs,
    });
    this.server = server;
    server.maxConnections = this.opts.maxConnections ?? 1024;
    server.on('drop', (d) =>
      this.log.warn('overlay link: connection limit reached, dropping', {
        address: `${d?.remoteAddress}:${d?.remotePort}`,
        limit: server.maxConnections,
      }),
    );
    server.on('connection', (socket: Socket) => {
      this.track(socket);
      // After a failed handshake the socket is already destroyed when 'tlsClientError' fires and
      // has forgotten its peer: remember the address now so the refusal names who it was.
      this.tcpPeers.set(socket, remoteAddress(socket));
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => this.onInbound(socket));
    server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      // Node keeps the accepted TCP socket as the TLS socket's (untyped) _parent.
      const tcp = (socket as unknown as { _parent?: Socket })._parent;
      const address = (tcp && this.tcpPeers.get(tcp)) ?? remoteAddress(socket);
      // With rejectUnauthorized, Node destroys a socket whose client chain fails verification
      // without an alert: the only trace of the real reason is authorizationError.
      const why = socket.authorizationError;
      this.refuse('server', address, why ? `client certificate refused: ${why}` : describeError(err));
      // Not every TLS error tears the socket down by itself (a handshake timeout does not).
      socket.destroy();
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.opts.host ?? '0.0.0.0', port: this.opts.port ?? 0, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error('overlay link server error', { err }));
        const addr = server.address();
        this.boundPort = typeof addr === 'object' && addr ? addr.port : (this.opts.port ?? 0);
        this.log.info('overlay link listening', { port: this.boundPort });
        resolve(this.boundPort);
      });
    });
  }

  /** Closes every link, dial and handshake in progress, and the listening socket. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const dial of [...this.dials.values()]) this.failDial(dial, 'link manager stopped');
    for (const [nodeId, w] of this.awaiting) this.dropAwaiting(nodeId, w, 'link manager stopped');
    for (const link of [...this.links.values()]) link.framed.close('link manager stopped');
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log.info('overlay link stopped');
  }

  /** The address book entry used to dial `nodeId` (kept by the caller: discovery, ring updates). */
  setAddress(nodeId: string, host: string, port: number): void {
    this.addresses.set(nodeId, { host, port });
  }

  removeAddress(nodeId: string): void {
    this.addresses.delete(nodeId);
  }

  hasLink(nodeId: string): boolean {
    return this.links.has(nodeId);
  }

  linkInfos(): LinkInfo[] {
    return [...this.links.values()].map((l) => ({
      nodeId: l.nodeId,
      user: l.user,
      address: l.address,
      initiator: l.initiator,
      localPort: l.framed.socket.localPort ?? 0,
      remotePort: l.framed.socket.remotePort ?? 0,
      queuedBytes: l.framed.queuedBytes,
    }));
  }

  /**
   * Bytes accepted by send() for this peer and not yet passed to the kernel (0 without a link). A
   * bulk sender (voicemail chunks) keeps this low rather than running into the overload limit.
   */
  pendingBytes(nodeId: string): number {
    const link = this.links.get(nodeId);
    if (link) return link.framed.pendingBytes;
    return this.dials.get(nodeId)?.queue.bytes ?? this.awaiting.get(nodeId)?.queue.bytes ?? 0;
  }

  /**
   * Sends one frame to a peer, dialing it first when there is no link (frames wait, bounded, until
   * the link is up). Delivery is in order per link; a failed dial reports `link-down` (wasUp false).
   */
  send(nodeId: string, bytes: Uint8Array): SendResult {
    if (this.stopped) return { ok: false, error: 'stopped' };
    if (nodeId === this.opts.nodeId) {
      this.log.warn('overlay send to our own Node-ID');
      return { ok: false, error: 'self' };
    }
    if (bytes.length > this.limits.maxFrameBytes) {
      this.log.warn('overlay frame too large to send', { peer: nodeId, bytes: bytes.length });
      return { ok: false, error: 'too-large' };
    }
    const link = this.links.get(nodeId);
    if (link) {
      const r = link.framed.send(bytes);
      if (!r.ok) this.log.warn('overlay send failed', { peer: nodeId, error: r.error });
      return r;
    }
    const queue = this.dials.get(nodeId)?.queue ?? this.awaiting.get(nodeId)?.queue ?? this.startDial(nodeId);
    if (!queue) {
      this.log.warn('overlay send: no address for peer', { peer: nodeId });
      return { ok: false, error: 'no-address' };
    }
    if (!queue.push(bytes)) {
      this.log.warn('overlay send: queue for a connecting peer is full', {
        peer: nodeId,
        queued: queue.bytes,
      });
      return { ok: false, error: 'overloaded' };
    }
    return { ok: true };
  }

  /** Closes the link to a peer (e.g. the overlay decoded a malformed frame), logging the reason. */
  close(nodeId: string, reason: string): void {
    const link = this.links.get(nodeId);
    const dial = this.dials.get(nodeId);
    const waiting = this.awaiting.get(nodeId);
    if (!link && !dial && !waiting) return;
    this.log.warn('closing overlay link', { peer: nodeId, reason });
    link?.framed.close(reason, true);
    if (dial) this.failDial(dial, reason);
    if (waiting) this.dropAwaiting(nodeId, waiting, reason);
  }

  // --- dialing ---

  private startDial(nodeId: string): BoundedFrameQueue | null {
    const target = this.addresses.get(nodeId);
    if (!target) return null;
    const address = `${target.host}:${target.port}`;
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      key: this.opts.keyPem,
      cert: this.opts.certPem,
      ca: this.opts.caPem,
      minVersion: 'TLSv1.3',
      // Peers are named by Node-ID, not host name: the chain is checked by OpenSSL against the
      // office CA, and here the certificate must name exactly the peer we meant to reach.
      checkServerIdentity: (_host, cert) => {
        const id = identityFromCertificate(cert);
        if (!id.ok) return new Error(id.error);
        if (id.identity.nodeId !== nodeId) {
          return new Error(`Node-ID mismatch: expected ${nodeId}, certificate names ${id.identity.nodeId}`);
        }
        return undefined;
      },
    });
    this.track(socket);
    const dial: Dial = {
      nodeId,
      address,
      socket,
      queue: new BoundedFrameQueue(this.limits.maxQueuedBytes),
      timer: setTimeout(
        () => this.failDial(dial, `no link within ${this.connectTimeoutMs} ms`),
        this.connectTimeoutMs,
      ),
      tcpConnected: false,
      done: false,
    };
    this.dials.set(nodeId, dial);
    this.log.debug('dialing overlay peer', { peer: nodeId, address });
    socket.once('connect', () => {
      dial.tcpConnected = true;
    });
    socket.once('secureConnect', () => {
      // The server has not necessarily accepted our certificate yet (TLS 1.3): wait for its ACCEPT.
      const framed = new FramedSocket(socket, this.limits, {
        onFrame: (f) => this.onDialPreface(dial, framed, f),
        onClose: (reason) =>
          this.failDial(dial, `${reason} before the peer accepted the link (our certificate refused?)`),
      });
    });
    socket.on('error', (err) => this.failDial(dial, describeError(err)));
    socket.on('close', () => this.failDial(dial, 'connection closed before the link came up'));
    return dial.queue;
  }

  private onDialPreface(dial: Dial, framed: FramedSocket, frame: Uint8Array): void {
    if (dial.done) return;
    const r = decodeLinkControl(frame);
    if (!r.ok) {
      this.failDial(dial, `bad link preface: ${r.error}`);
      return;
    }
    if (r.control.type === 'reject') {
      if (r.control.reason === DUPLICATE) {
        // The peer's own dial to us wins: our frames wait for that inbound link.
        this.log.debug('simultaneous dial: ours lost, awaiting the peer-initiated link', {
          peer: dial.nodeId,
        });
        const queue = this.endDial(dial);
        const timer = setTimeout(() => {
          const w = this.awaiting.get(dial.nodeId);
          if (w) this.dropAwaiting(dial.nodeId, w, 'simultaneous dial: the winning inbound link never came');
        }, this.connectTimeoutMs);
        this.awaiting.set(dial.nodeId, { queue, timer });
        framed.close('duplicate of the peer-initiated link');
        return;
      }
      this.failDial(dial, `rejected by peer: ${r.control.reason}`);
      return;
    }
    const id = identityFromCertificate(dial.socket.getPeerCertificate());
    if (!id.ok) {
      this.failDial(dial, id.error); // unreachable: checkServerIdentity already required it
      return;
    }
    const queue = this.endDial(dial);
    const link = this.promote({ ...id.identity, address: dial.address, initiator: 'local', framed });
    for (const f of queue.takeAll()) link.framed.send(f);
  }

  /** Retires a dial without reporting anything; returns its queued frames. */
  private endDial(dial: Dial): BoundedFrameQueue {
    dial.done = true;
    clearTimeout(dial.timer);
    if (this.dials.get(dial.nodeId) === dial) this.dials.delete(dial.nodeId);
    return dial.queue;
  }

  private failDial(dial: Dial, reason: string): void {
    if (dial.done) return;
    const dropped = this.endDial(dial).takeAll().length;
    dial.socket.destroy();
    // Past TCP connect, a failure is the TLS handshake or the peer's preface refusing us.
    if (dial.tcpConnected && !this.stopped) this.refuse('client', dial.address, reason, dial.nodeId);
    else this.log.warn('overlay dial failed', { peer: dial.nodeId, address: dial.address, reason, dropped });
    this.emit('link-down', { nodeId: dial.nodeId, reason, wasUp: false });
  }

  private dropAwaiting(nodeId: string, w: AwaitingInbound, reason: string): void {
    clearTimeout(w.timer);
    this.awaiting.delete(nodeId);
    const dropped = w.queue.takeAll().length;
    this.log.warn('overlay frames dropped', { peer: nodeId, reason, dropped });
    this.emit('link-down', { nodeId, reason, wasUp: false });
  }

  // --- accepting ---

  private onInbound(socket: tls.TLSSocket): void {
    const address = remoteAddress(socket);
    const framed = new FramedSocket(socket, this.limits, {
      onFrame: () => {},
      onClose: () => {},
    });
    const id = identityFromCertificate(socket.getPeerCertificate());
    if (!id.ok || id.identity.nodeId === this.opts.nodeId) {
      const reason = id.ok ? 'certificate names our own Node-ID' : id.error;
      this.refuse('server', address, reason);
      framed.endAfter(encodeLinkControl({ type: 'reject', reason }), reason);
      return;
    }
    const peer = id.identity.nodeId;
    const peerInitiatedWins = peer < this.opts.nodeId;
    if (!peerInitiatedWins) {
      const link = this.links.get(peer);
      if (this.dials.has(peer) || link?.initiator === 'local') {
        this.log.debug('simultaneous dial: dropping the peer-initiated duplicate', { peer, address });
        framed.endAfter(encodeLinkControl({ type: 'reject', reason: DUPLICATE }), DUPLICATE);
        return;
      }
    }
    framed.send(encodeLinkControl({ type: 'accept' }));
    const carried: Uint8Array[] = [];
    const dial = this.dials.get(peer);
    if (dial) {
      // Our own dial to this peer loses the race: abandon it, keep its frames for this link.
      this.log.debug('simultaneous dial: ours lost, abandoning it for the inbound link', { peer });
      carried.push(...this.endDial(dial).takeAll());
      dial.socket.destroy();
    }
    const waiting = this.awaiting.get(peer);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.awaiting.delete(peer);
      carried.push(...waiting.queue.takeAll());
    }
    const link = this.promote({ ...id.identity, address, initiator: 'remote', framed });
    for (const f of carried) link.framed.send(f);
  }

  // --- links ---

  private promote(link: Link): Link {
    const old = this.links.get(link.nodeId);
    this.links.set(link.nodeId, link);
    link.framed.socket.setNoDelay(true);
    link.framed.socket.setKeepAlive(true, 5000);
    link.framed.setHandlers({
      onFrame: (bytes) => this.deliver(link.nodeId, bytes),
      onClose: (reason, abnormal) => this.onLinkClosed(link, reason, abnormal),
    });
    // A peer that dials again believes the old link dead (it restarted, or saw it fail first).
    if (old) old.framed.close('replaced by a newer link to the same peer');
    this.log.info('overlay link up', {
      peer: link.nodeId,
      user: link.user,
      address: link.address,
      initiator: link.initiator,
    });
    this.emit('link-up', {
      nodeId: link.nodeId,
      user: link.user,
      address: link.address,
      initiator: link.initiator,
    });
    return link;
  }

  private deliver(nodeId: string, bytes: Uint8Array): void {
    try {
      this.emit('frame', { nodeId, bytes });
    } catch (err) {
      this.log.error('overlay frame handler threw', { peer: nodeId, err });
    }
  }

  private onLinkClosed(link: Link, reason: string, abnormal: boolean): void {
    if (this.links.get(link.nodeId) !== link) {
      this.log.debug('superseded overlay link closed', { peer: link.nodeId, reason });
      return;
    }
    this.links.delete(link.nodeId);
    const fields = { peer: link.nodeId, address: link.address, reason };
    if (abnormal) this.log.warn('overlay link down', fields);
    else this.log.info('overlay link down', fields);
    this.emit('link-down', { nodeId: link.nodeId, reason, wasUp: true });
  }

  private refuse(side: 'server' | 'client', address: string, reason: string, nodeId?: string): void {
    this.log.warn('overlay link refused', { side, address, reason, ...(nodeId ? { peer: nodeId } : {}) });
    this.emit('refused', { address, reason, side, ...(nodeId ? { nodeId } : {}) });
  }

  private track(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}

function remoteAddress(socket: Socket): string {
  const host = socket.remoteAddress ?? 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
}

function describeError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}
