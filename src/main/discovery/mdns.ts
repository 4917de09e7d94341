// mDNS/DNS-SD half of discovery, on bonjour-service: publish `_peerpbx._tcp`, browse, re-query.
// bonjour-service quirks handled here (each one has bitten someone):
// - its default error callback THROWS (crashing the main process): we pass our own;
// - its multicast-dns socket emits 'error' with no listener attached (an unhandled 'error' event
//   throws): we listen; exceptions inside its response/query handlers (hostile packets) are caught;
// - a service published before our browser started can be missed: we re-query on a schedule;
// - binding the socket to a unicast address makes Linux drop multicast, so with a configured
//   interface we set `interface` (membership + outgoing interface) and bind to 0.0.0.0.
import { Bonjour, type Browser, type Service } from 'bonjour-service';
import type { Logger } from '../log.ts';
import type { Announcement } from './announcement.ts';
import { decodeTxt, encodeTxt, SERVICE_TYPE } from './txt.ts';

export interface MdnsSighting {
  announcement: Announcement;
  /** Addresses from the A/AAAA records, the packet's source address first. */
  addresses: string[];
}

export interface MdnsAgentOptions {
  /** What to publish; undefined = browse only. */
  self?: Announcement;
  interfaceAddress?: string;
  log: Logger;
  onSighting: (s: MdnsSighting) => void;
  /** A peer said goodbye (TTL 0): it is leaving now. */
  onGoodbye: (nodeId: string) => void;
  /** Delays (ms after start) of the early re-queries; fast so a peer is found within the join budget. */
  requeryScheduleMs: readonly number[];
  /**
   * Re-query period after the schedule ran out: starts at refreshMs and doubles up to
   * maxRefreshMs. Every query draws a multicast answer from every peer, so a steady fast period
   * would cost N^2 packets; new peers announce themselves anyway, this only repairs losses.
   */
  refreshMs: number;
  maxRefreshMs: number;
}

/** The part of multicast-dns we touch (bonjour-service keeps it private). */
interface MdnsSocket {
  on(event: 'error' | 'warning', fn: (err: Error) => void): void;
  emit(event: string, ...args: unknown[]): boolean;
  query(name: string, type: string, cb: (err: Error | null) => void): void;
}

/** The PTR name the browser asks for. */
const BROWSE_NAME = `_${SERVICE_TYPE}._tcp.local`;

/** DNS labels are at most 63 bytes; Node-IDs are unique, so they make unique instance names. */
export function instanceName(nodeId: string): string {
  return `peerpbx-${nodeId}`.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63);
}

export class MdnsAgent {
  private bonjour?: Bonjour;
  private browser?: Browser;
  private service?: Service;
  private timers: NodeJS.Timeout[] = [];
  private mdns?: MdnsSocket;
  private stopped = false;
  /** Query failures are logged once per error code (they repeat every few seconds). */
  private readonly loggedQueryErrors = new Set<string>();

  constructor(private readonly opts: MdnsAgentOptions) {}

  start(): void {
    const { self, log, interfaceAddress } = this.opts;
    const socketOpts: Record<string, unknown> = interfaceAddress
      ? { interface: interfaceAddress, bind: '0.0.0.0' }
      : {};
    // The options object goes straight to multicast-dns, whose `interface`/`bind` are not in
    // bonjour-service's declared type.
    this.bonjour = new Bonjour(socketOpts as never, (err: unknown) =>
      log.warn('mdns send failed', { err: err instanceof Error ? err : String(err) }),
    );
    this.guardSocket(log);
    if (self) this.publish(this.bonjour, self);
    this.browser = this.bonjour.find({ type: SERVICE_TYPE, protocol: 'tcp' });
    const seen = (s: Service) => this.onService(s);
    this.browser.on('up', seen);
    this.browser.on('txt-update', seen);
    this.browser.on('down', (s: Service) => {
      const decoded = decodeTxt(s.txt, s.port);
      if (decoded.ok) this.opts.onGoodbye(decoded.announcement.nodeId);
    });
    this.browser.on('srv-update', seen);
    for (const at of this.opts.requeryScheduleMs) this.timers.push(setTimeout(() => this.requery(), at));
    this.scheduleRefresh(this.opts.refreshMs);
    log.debug('mdns started', { interfaceAddress });
  }

  private publish(bonjour: Bonjour, self: Announcement): void {
    this.service = bonjour.publish({
      name: instanceName(self.nodeId),
      type: SERVICE_TYPE,
      protocol: 'tcp',
      port: self.port,
      // Unique host name per peer: PCs (and our test namespaces) may share an OS hostname.
      host: `${instanceName(self.nodeId).slice(0, 40)}.local`,
      txt: encodeTxt(self),
      // Probing costs up to 1 s before the first announcement; the name embeds the Node-ID, so a
      // collision means the same peer twice, which probing would not fix anyway.
      probe: false,
    });
    this.service.on('error', (err: unknown) =>
      this.opts.log.warn('mdns publish failed', { err: String(err) }),
    );
  }

  private guardSocket(log: Logger): void {
    const mdns = (this.bonjour as unknown as { server?: { mdns?: MdnsSocket } }).server?.mdns;
    if (!mdns) {
      log.warn('mdns socket not reachable: bonjour-service internals changed; errors may be unguarded');
      return;
    }
    this.mdns = mdns;
    mdns.on('error', (err) => log.warn('mdns socket error', { err }));
    mdns.on('warning', (err) => log.debug('mdns socket warning', { err: String(err) }));
    const emit = mdns.emit.bind(mdns);
    mdns.emit = (event: string, ...args: unknown[]) => {
      try {
        return emit(event, ...args);
      } catch (err) {
        log.warn('mdns packet handler threw; packet dropped', {
          event,
          err: err instanceof Error ? err : String(err),
        });
        return true;
      }
    };
  }

  private requery(): void {
    try {
      // What browser.update() does, but with a callback: bonjour-service drops query send errors,
      // and "multicast unreachable" is worth one line in the log.
      if (this.mdns) this.mdns.query(BROWSE_NAME, 'PTR', (err) => err && this.queryFailed(err));
      else this.browser?.update();
    } catch (err) {
      this.opts.log.warn('mdns re-query failed', { err: err instanceof Error ? err : String(err) });
    }
  }

  private scheduleRefresh(period: number): void {
    // ±10 % jitter so peers started together do not query in lockstep.
    const delay = period * (0.9 + Math.random() * 0.2);
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      this.requery();
      this.scheduleRefresh(Math.min(period * 2, this.opts.maxRefreshMs));
    }, delay);
    this.timers.push(t);
  }

  private queryFailed(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code ?? err.message;
    if (this.loggedQueryErrors.has(code)) return;
    this.loggedQueryErrors.add(code);
    this.opts.log.warn(
      'mdns query could not be sent (multicast unavailable?); beacons and --peer still work',
      {
        code,
      },
    );
  }

  private onService(s: Service): void {
    const decoded = decodeTxt(s.txt, s.port);
    if (!decoded.ok) {
      this.opts.log.debug('mdns service ignored: bad TXT', {
        name: s.name,
        field: decoded.field,
        from: s.referer?.address,
      });
      return;
    }
    const addresses = [...(s.referer?.address ? [s.referer.address] : []), ...(s.addresses ?? [])];
    this.opts.onSighting({ announcement: decoded.announcement, addresses });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.browser?.stop();
    this.browser = undefined;
    this.mdns = undefined;
    const bonjour = this.bonjour;
    this.bonjour = undefined;
    if (!bonjour) return;
    // Goodbye (TTL 0) so others drop us now rather than at TTL expiry; bounded, since a send
    // callback may never come on a broken network.
    await withTimeout(new Promise<void>((r) => bonjour.unpublishAll(() => r())), 500);
    await withTimeout(new Promise<void>((r) => bonjour.destroy(() => r())), 500);
  }
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t));
}
