// UDP broadcast half of discovery: for networks whose switches or Wi-Fi drop multicast.
// A beacon goes to the directed broadcast address of each IPv4 interface (or configured ones),
// fast right after start so a new peer is seen at once, then about once a second. The socket is
// bound to 0.0.0.0 (Linux drops broadcasts for sockets bound to a unicast address) with
// SO_REUSEADDR, so several peers on one host share the port.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../log.ts';
import type { Announcement } from './announcement.ts';
import { decodeBeacon, encodeBeacon } from './beacon.ts';
import { broadcastAddress, type LocalInterface } from './candidates.ts';

export const DEFAULT_BEACON_PORT = 5199;

export interface BeaconTiming {
  /** Period during the first `fastForMs` after start. */
  fastMs: number;
  fastForMs: number;
  /** Steady period afterwards. */
  intervalMs: number;
}

export interface BeaconAgentOptions {
  /** What to beacon; undefined = listen only. */
  self?: Announcement;
  port: number;
  /** Only this interface's broadcast address is used (when `addresses` is not given). */
  interfaceAddress?: string;
  /** Explicit destinations (e.g. 192.168.1.255); replaces the per-interface computation. */
  addresses?: readonly string[];
  timing: BeaconTiming;
  log: Logger;
  onBeacon: (b: Announcement, from: string) => void;
}

/** Broadcast destinations for the current interfaces (re-read each tick: laptops change networks). */
export function beaconTargets(locals: readonly LocalInterface[], interfaceAddress?: string): string[] {
  const out = new Set<string>();
  for (const l of locals) {
    if (l.family !== 'IPv4' || l.internal) continue;
    if (interfaceAddress && l.address !== interfaceAddress) continue;
    const b = broadcastAddress(l.address, l.netmask);
    // A /32 (point-to-point, VPN) has no broadcast domain: its "broadcast" is itself.
    if (b && b !== l.address) out.add(b);
  }
  return [...out];
}

export function localInterfaces(): LocalInterface[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => ({ address: i.address, netmask: i.netmask, family: i.family, internal: i.internal }));
}

export class BeaconAgent {
  private socket?: Socket;
  private timer?: NodeJS.Timeout;
  private startedAt = 0;
  private readonly beacon?: Buffer;
  /** Send failures logged once per destination+code, not once per second. */
  private readonly loggedFailures = new Set<string>();

  constructor(private readonly opts: BeaconAgentOptions) {
    this.beacon = opts.self && encodeBeacon(opts.self);
  }

  async start(): Promise<void> {
    const { log, port } = this.opts;
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    socket.on('error', (err) => log.warn('beacon socket error', { err }));
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      socket.once('error', onError);
      // stop() while binding: settle instead of hanging start().
      socket.once('close', () => reject(new Error('beacon socket closed while binding')));
      socket.bind(port, '0.0.0.0', () => {
        socket.off('error', onError);
        resolve();
      });
    });
    if (this.socket !== socket) return;
    socket.setBroadcast(true);
    this.startedAt = Date.now();
    this.tick();
    log.debug('beacons started', { port });
  }

  private tick(): void {
    if (!this.beacon) return; // listen-only
    this.sendAll();
    const { fastMs, fastForMs, intervalMs } = this.opts.timing;
    const delay = Date.now() - this.startedAt < fastForMs ? fastMs : intervalMs;
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private sendAll(): void {
    const targets = this.opts.addresses ?? beaconTargets(localInterfaces(), this.opts.interfaceAddress);
    if (targets.length === 0)
      this.logOnce('none', () => this.opts.log.warn('no IPv4 broadcast address to beacon to'));
    for (const t of targets) this.sendTo(t);
  }

  /** Sends our beacon to one address (a broadcast address, or a peer we just met: it learns of us now). */
  sendTo(address: string): void {
    const socket = this.socket;
    if (!socket || !this.beacon) return;
    socket.send(this.beacon, this.opts.port, address, (err) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        this.logOnce(`${address}/${code}`, () =>
          this.opts.log.warn('beacon send failed', { to: address, code }),
        );
      }
    });
  }

  private logOnce(key: string, log: () => void): void {
    if (this.loggedFailures.has(key)) return;
    this.loggedFailures.add(key);
    log();
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const r = decodeBeacon(msg);
    if (!r.ok) {
      this.opts.log.debug('beacon dropped', { from: rinfo.address, error: r.error, detail: r.detail });
      return;
    }
    if (r.beacon.nodeId === this.opts.self?.nodeId) return; // our own, looped back
    this.opts.onBeacon(r.beacon, rinfo.address);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((r) => socket.close(() => r()));
  }
}
