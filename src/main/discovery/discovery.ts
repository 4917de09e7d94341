// Discovery service: advertises this peer and reports peers of the same office found on the LAN,
// by mDNS/DNS-SD and by UDP broadcast beacons. It only finds; joining (and verifying a candidate
// address by connecting to it) is the caller's job.
//
//   const d = new Discovery({ self: { nodeId, office, caFingerprint, port, sipPort, version } });
//   d.on('peer', (p) => tryConnect(p.candidates, p.port));   // same-subnet addresses first
//   d.on('lost', ({ nodeId }) => ...);                         // mDNS goodbye
//   await d.start(); ... d.forget(nodeId) when a link to it failed; await d.stop();
import { EventEmitter } from 'node:events';
import { createLogger, type Logger } from '../log.ts';
import { type Announcement, sameOffice } from './announcement.ts';
import { BeaconAgent, type BeaconTiming, DEFAULT_BEACON_PORT, localInterfaces } from './broadcast.ts';
import { orderCandidates } from './candidates.ts';
import { MdnsAgent } from './mdns.ts';

export type DiscoveryVia = 'mdns' | 'broadcast';

export interface FoundPeer extends Announcement {
  /** Best candidate address (candidates[0]). */
  host: string;
  /** Every address the peer may be reached at, same-subnet first; the caller verifies by connecting. */
  candidates: string[];
  /** How the peer was first found (or last changed). */
  via: DiscoveryVia;
}

export interface DiscoveryOptions {
  /**
   * What we advertise; also our office filter (office name + CA fingerprint). Omit it to browse
   * without advertising (a PC not enrolled yet, looking for an office), and give `accept`.
   */
  self?: Announcement;
  /** Which announcements count; default: the same office name and CA fingerprint as `self`. */
  accept?: (a: Announcement) => boolean;
  /** Restrict mDNS and beacons to the interface with this IPv4 address. */
  interfaceAddress?: string;
  /** Default true. */
  mdns?: boolean;
  /** Default true. */
  broadcast?: boolean;
  /** UDP port of the beacons (default 5199); all peers of an office must agree on it. */
  beaconPort?: number;
  /** Explicit beacon destinations, instead of each interface's broadcast address. */
  beaconAddresses?: readonly string[];
  beaconTiming?: Partial<BeaconTiming>;
  /** mDNS re-query delays after start (fast: a new peer must find the office within ~1 s). */
  mdnsRequeryScheduleMs?: readonly number[];
  /** Then re-query every mdnsRefreshMs (default 5 s), doubling up to mdnsMaxRefreshMs (60 s). */
  mdnsRefreshMs?: number;
  mdnsMaxRefreshMs?: number;
  logger?: Logger;
}

export interface DiscoveryEvents {
  /** A peer of our office seen for the first time, or seen again with a changed endpoint. */
  peer: [FoundPeer];
  /** A found peer said goodbye over mDNS (it stopped); it is forgotten and reported anew if it returns. */
  lost: [{ nodeId: string; via: DiscoveryVia }];
}

/**
 * Offices have up to hundreds of peers; anyone on the LAN can forge announcements with fresh
 * Node-IDs, so the table of found peers is bounded (verification happens when the caller connects).
 */
export const MAX_FOUND_PEERS = 2048;

const DEFAULT_TIMING: BeaconTiming = { fastMs: 200, fastForMs: 2000, intervalMs: 1000 };
const DEFAULT_REQUERY_MS = [150, 400, 900, 2000];
const DEFAULT_REFRESH_MS = 5000;
const DEFAULT_MAX_REFRESH_MS = 60_000;

function sameEndpoint(a: FoundPeer, b: FoundPeer): boolean {
  return (
    a.port === b.port &&
    a.sipPort === b.sipPort &&
    a.version === b.version &&
    a.candidates.length === b.candidates.length &&
    a.candidates.every((c) => b.candidates.includes(c))
  );
}

export class Discovery extends EventEmitter<DiscoveryEvents> {
  private readonly log: Logger;
  private readonly found = new Map<string, FoundPeer>();
  /** Peers whose beacon we answered with a unicast beacon. */
  private readonly answered = new Set<string>();
  private mdnsAgent?: MdnsAgent;
  private beaconAgent?: BeaconAgent;
  private running = false;
  private warnedFull = false;

  private readonly accept: (a: Announcement) => boolean;

  constructor(private readonly opts: DiscoveryOptions) {
    super();
    const self = opts.self;
    if (opts.accept) this.accept = opts.accept;
    else if (self) this.accept = (a) => sameOffice(a, self);
    // A programming error, not input: without an office or a predicate everything would match.
    else throw new TypeError('Discovery needs `self` or `accept`');
    this.log = opts.logger ?? createLogger({ component: 'discovery' });
  }

  /** Starts advertising and listening; resolves once the beacon socket is bound. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { self, interfaceAddress } = this.opts;
    if (this.opts.mdns !== false) {
      this.mdnsAgent = new MdnsAgent({
        self,
        interfaceAddress,
        log: this.log,
        requeryScheduleMs: this.opts.mdnsRequeryScheduleMs ?? DEFAULT_REQUERY_MS,
        refreshMs: this.opts.mdnsRefreshMs ?? DEFAULT_REFRESH_MS,
        maxRefreshMs: Math.max(
          this.opts.mdnsRefreshMs ?? DEFAULT_REFRESH_MS,
          this.opts.mdnsMaxRefreshMs ?? DEFAULT_MAX_REFRESH_MS,
        ),
        onSighting: (s) => this.onSighting(s.announcement, s.addresses, 'mdns'),
        onGoodbye: (nodeId) => {
          if (!this.running || !this.found.has(nodeId)) return;
          this.forget(nodeId);
          this.log.info('peer said goodbye', { nodeId });
          this.safeEmit('lost', { nodeId, via: 'mdns' });
        },
      });
      this.mdnsAgent.start();
    }
    if (this.opts.broadcast !== false) {
      const agent = new BeaconAgent({
        self,
        port: this.opts.beaconPort ?? DEFAULT_BEACON_PORT,
        interfaceAddress,
        addresses: this.opts.beaconAddresses,
        timing: { ...DEFAULT_TIMING, ...this.opts.beaconTiming },
        log: this.log,
        onBeacon: (b, from) => {
          // The first beacon of an office peer gets a unicast answer: it learns of us right away
          // rather than at our next beacon (up to a second away), even if we knew it from mDNS.
          if (
            this.onSighting(b, [from], 'broadcast') !== 'ignored' &&
            !this.answered.has(b.nodeId) &&
            this.answered.size < MAX_FOUND_PEERS
          ) {
            this.answered.add(b.nodeId);
            agent.sendTo(from);
          }
        },
      });
      this.beaconAgent = agent;
      try {
        await agent.start();
        if (!this.running) await agent.stop(); // stop() came while binding
      } catch (err) {
        // mDNS may still work; a peer without discovery still joins by --peer or the peer cache.
        if (this.running)
          this.log.warn('beacon socket could not bind; broadcast discovery off', { err: err as Error });
        this.beaconAgent = undefined;
        await agent.stop();
      }
    }
    this.log.info('discovery started', {
      nodeId: self?.nodeId,
      office: self?.office,
      advertising: !!self,
      mdns: !!this.mdnsAgent,
      broadcast: !!this.beaconAgent,
    });
  }

  /**
   * Forgets a peer, so its next announcement is reported again as new. The caller uses it when a
   * link to the peer failed: a peer that crashed and restarted on the same ports would otherwise
   * look unchanged and never be reported again.
   */
  forget(nodeId: string): void {
    this.found.delete(nodeId);
    this.answered.delete(nodeId);
  }

  /** Peers found so far (one per Node-ID). */
  peers(): FoundPeer[] {
    return [...this.found.values()];
  }

  private onSighting(
    a: Announcement,
    addresses: string[],
    via: DiscoveryVia,
  ): 'new' | 'changed' | 'known' | 'ignored' {
    if (!this.running) return 'ignored';
    if (a.nodeId === this.opts.self?.nodeId) return 'ignored';
    if (!this.accepts(a)) {
      this.log.debug('peer not accepted (another office?)', {
        via,
        nodeId: a.nodeId,
        office: a.office,
        from: addresses[0],
      });
      return 'ignored';
    }
    const prev = this.found.get(a.nodeId);
    if (!prev && this.found.size >= MAX_FOUND_PEERS) {
      if (!this.warnedFull)
        this.log.warn('too many peers announced; ignoring new ones', { max: MAX_FOUND_PEERS, via });
      this.warnedFull = true;
      return 'ignored';
    }
    // Candidates accumulate across both mechanisms while the peer keeps its ports; a changed port
    // means it restarted, and old addresses may be stale.
    const keep = prev && prev.port === a.port && prev.sipPort === a.sipPort ? prev.candidates : [];
    const candidates = orderCandidates([...keep, ...addresses], localInterfaces());
    if (candidates.length === 0) {
      this.log.debug('peer without usable address ignored', { via, nodeId: a.nodeId });
      return 'ignored';
    }
    const peer: FoundPeer = { ...a, host: candidates[0], candidates, via };
    if (prev && sameEndpoint(prev, peer)) return 'known';
    this.found.set(a.nodeId, peer);
    this.log.info(prev ? 'peer changed' : 'peer found', { via, nodeId: a.nodeId, candidates, port: a.port });
    this.safeEmit('peer', peer);
    return prev ? 'changed' : 'new';
  }

  /** A throwing listener must not take the socket handler (and the process) down with it. */
  private safeEmit<K extends keyof DiscoveryEvents>(event: K, ...args: DiscoveryEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: DiscoveryEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error(`discovery ${event} listener threw`, { err: err instanceof Error ? err : String(err) });
    }
  }

  private accepts(a: Announcement): boolean {
    try {
      return this.accept(a);
    } catch (err) {
      this.log.error('discovery accept predicate threw', { err: err instanceof Error ? err : String(err) });
      return false;
    }
  }

  /** Unpublishes (mDNS goodbye) and closes every socket and timer. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await Promise.all([this.mdnsAgent?.stop(), this.beaconAgent?.stop()]);
    this.mdnsAgent = undefined;
    this.beaconAgent = undefined;
    this.log.info('discovery stopped');
  }
}
