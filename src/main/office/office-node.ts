// One PC as a member of its office: the overlay (mutual TLS, SQLite records), discovery (mDNS and
// broadcast: announce ourselves, merge with every same-office peer found), the peer cache and
// --peer addresses for the next start and for routed subnets, our CERTIFICATE record, and on the
// admin PC the enrollment endpoint. Start-up never waits for other peers: a peer alone forms the
// office, and overlays formed apart merge as soon as discovery or the cache connects them.
import { createServer } from 'node:net';
import type forge from 'node-forge';
import { openCaKey } from '../../core/security/ca.ts';
import { readCertificateIdentityPem } from '../../core/security/certificates.ts';
import { Discovery, type FoundPeer } from '../discovery/discovery.ts';
import { enrollmentPort } from '../enrollment/protocol.ts';
import { EnrollmentServer } from '../enrollment/server.ts';
import type { Identity } from '../identity/identity.ts';
import type { Logger } from '../log.ts';
import { probeNodeId } from '../overlay/address-probe.ts';
import { type Holding, OverlayError, OverlayRuntime } from '../overlay/runtime.ts';
import type { PeerDatabase } from '../store/peer-database.ts';

export const VERSION = '0.1.0';
const CERT_LIFETIME_MS = 7 * 24 * 3600 * 1000;
const CERT_REFRESH_MS = 12 * 3600 * 1000;
const MERGE_EVERY_MS = 3000;
const BOOT_PROBE_MS = 1500;
/** Batches the stores again after view changes (a merge brings several members within a moment). */
const REPUBLISH_DELAY_MS = 250;

export interface OfficeNodeOptions {
  identity: Identity;
  db: PeerDatabase;
  bind: string;
  overlayPort: number;
  sipPort: number;
  /** "host:port" overlay addresses given on the command line. */
  peers: string[];
  /** The admin passphrase, to open the CA key (admin PC only); without it joins are refused. */
  passphrase?: string;
  discovery?: { mdns?: boolean; broadcast?: boolean; beaconPort?: number };
  log: Logger;
}

/** Copies every record should have: the responsible peer and two replicas. */
export const REPLICA_TARGET = 3;

export interface ReplicaHealth {
  target: number;
  /** Copies the ring's size allows: min(target, members). */
  possible: number;
  /** Records held as responsible or replica. */
  records: number;
  /** The fewest confirmed copies of any held record (null: none held). */
  minCopies: number | null;
  underReplicated: Array<{ name: string; kind: string; key: string; role: string; copies: number }>;
  state: 'ok' | 'degraded';
}

export interface Contact {
  uri: string;
  nodeId: string;
  address: string;
  /** Registration contacts: whether it is a desk phone served by that peer. */
  deskPhone?: boolean;
}

export interface LookupResult {
  extension: string;
  user: string;
  reachable: boolean;
  /**
   * registration: live SIP-REGISTRATION contacts (what `peerpbx lookup` answers: where a call rings);
   * member / certificate: OfficeNode.lookup's membership view and CERTIFICATE record (who is enrolled).
   */
  via: Array<'registration' | 'member' | 'certificate'>;
  contacts: Contact[];
}

/** Picks a free TCP port p on `host` whose p+1 is free too (overlay + enrollment). */
export async function freePortPair(host: string): Promise<number> {
  const listen = (port: number) =>
    new Promise<import('node:net').Server | null>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(null));
      s.listen(port, host, () => resolve(s));
    });
  const close = (s: import('node:net').Server) => new Promise<void>((r) => s.close(() => r()));
  for (let i = 0; i < 50; i++) {
    const a = await listen(0);
    if (!a) break;
    const port = (a.address() as { port: number }).port;
    const b = port < 65535 ? await listen(port + 1) : null;
    await close(a);
    if (b) {
      await close(b);
      return port;
    }
  }
  throw new Error(`no free pair of ports on ${host}`);
}

export class OfficeNode {
  /** Created once the known addresses were probed (they become its bootstrap list). */
  overlay!: OverlayRuntime;
  readonly nodeId: string;
  enrollment: EnrollmentServer | null = null;
  private discovery: Discovery | null = null;
  private readonly log: Logger;
  private readonly found = new Map<string, FoundPeer>();
  private readonly contacting = new Set<string>();
  private mergeTimer: NodeJS.Timeout | null = null;
  private certTimer: NodeJS.Timeout | null = null;
  private republish: NodeJS.Timeout | null = null;
  private readonly republishers: Array<() => Promise<void>> = [];
  private stopped = false;
  readonly startedAt = Date.now();

  private constructor(
    private readonly opts: OfficeNodeOptions,
    private readonly port: number,
  ) {
    this.log = opts.log;
    const own = readCertificateIdentityPem(opts.identity.certPem);
    if (!own.ok) throw new Error(`own certificate unusable: ${own.reason}`);
    this.nodeId = own.identity.nodeId;
  }

  static async start(opts: OfficeNodeOptions): Promise<OfficeNode> {
    const port = opts.overlayPort === 0 ? await freePortPair(opts.bind) : opts.overlayPort;
    const node = new OfficeNode(opts, port);
    await node.begin();
    return node;
  }

  get identity(): Identity {
    return this.opts.identity;
  }

  get overlayPort(): number {
    return this.overlay.port;
  }

  private async begin(): Promise<void> {
    const { identity, log } = this.opts;
    // Enrollment first: its port (overlay + 1) must be ours before the office learns of us.
    if (identity.admin && identity.caKeyEncryptedPem) {
      let caKey: forge.pki.rsa.PrivateKey | null = null;
      if (this.opts.passphrase) {
        const opened = openCaKey(identity.caKeyEncryptedPem, this.opts.passphrase);
        if (opened.ok) caKey = opened.privateKey;
        else
          log.error('admin passphrase does not open the CA key: joins will be refused', {
            reason: opened.reason,
          });
      } else
        log.warn(
          'no admin passphrase (PEERPBX_PASSPHRASE): this admin peer cannot enroll PCs until restarted with it',
        );
      this.enrollment = new EnrollmentServer({
        identity,
        db: this.opts.db,
        caPrivateKey: caKey,
        host: this.opts.bind,
        port: enrollmentPort(this.port),
        overlayHolder: (ext) => this.certificateHolder(ext),
        log: log.child({ component: 'enrollment' }),
      });
      await this.enrollment.start();
    }

    // Known addresses (--peer, peer cache) that answer join properly; the rest are merged later.
    const known = [...new Set([...this.opts.peers, ...this.cachedAddresses()])];
    const answering = await this.probeAll(known);
    this.overlay = new OverlayRuntime({
      certPem: identity.certPem,
      keyPem: identity.keyPem,
      caPem: identity.caPem,
      store: this.opts.db.records,
      host: this.opts.bind,
      port: this.port,
      bootstrap: answering,
      log,
      joinTimeoutMs: 20_000,
    });
    try {
      await this.overlay.start();
    } catch (err) {
      await this.enrollment?.stop();
      throw err;
    }
    this.overlay.on('member-up', ({ nodeId }) => this.onMemberUp(nodeId));
    this.overlay.on('joined', () => this.scheduleRepublish());
    this.rememberMembers();

    await this.publishCertificate();
    this.certTimer = setInterval(() => void this.publishCertificate(), CERT_REFRESH_MS);
    this.certTimer.unref();

    const d = new Discovery({
      self: {
        nodeId: this.overlay.nodeId,
        office: identity.office,
        caFingerprint: identity.caFingerprint,
        port: this.overlay.port,
        sipPort: this.opts.sipPort,
        version: VERSION,
      },
      mdns: this.opts.discovery?.mdns,
      broadcast: this.opts.discovery?.broadcast,
      beaconPort: this.opts.discovery?.beaconPort,
      logger: log.child({ component: 'discovery' }),
    });
    d.on('peer', (p) => {
      this.found.set(p.nodeId, p);
      void this.merge(
        p.nodeId,
        p.candidates.map((h) => `${h}:${p.port}`),
      );
    });
    d.on('lost', ({ nodeId }) => this.found.delete(nodeId));
    this.discovery = d;
    try {
      await d.start();
    } catch (err) {
      log.warn('discovery failed to start; the office is found by --peer and the peer cache only', { err });
    }
    this.mergeTimer = setInterval(() => this.mergeRound(), MERGE_EVERY_MS);
    this.mergeTimer.unref();
  }

  private cachedAddresses(): string[] {
    return this.opts.db.peers
      .recent(20)
      .filter((p) => p.nodeId !== this.nodeId)
      .map((p) => p.address);
  }

  /** Addresses whose peer is an office member (mutual TLS with our CA) and not ourselves. */
  private async probeAll(addresses: string[]): Promise<string[]> {
    const id = this.opts.identity;
    const results = await Promise.all(
      addresses.map(async (a) => {
        const i = a.lastIndexOf(':');
        const r = await probeNodeId({
          host: a.slice(0, i).replace(/^\[|\]$/g, ''),
          port: Number(a.slice(i + 1)),
          keyPem: id.keyPem,
          certPem: id.certPem,
          caPem: id.caPem,
          timeoutMs: BOOT_PROBE_MS,
        });
        if (!r.ok) this.log.info('known peer not answering at start', { address: a, reason: r.reason });
        return r.ok && r.identity.nodeId !== this.nodeId ? a : null;
      }),
    );
    return results.filter((a): a is string => a !== null);
  }

  /** Every few seconds: found, cached and --peer addresses of peers not in our view get a contact. */
  private mergeRound(): void {
    if (this.stopped || !this.overlay.joined) return;
    this.rememberMembers();
    for (const p of this.found.values())
      void this.merge(
        p.nodeId,
        p.candidates.map((h) => `${h}:${p.port}`),
      );
    const members = new Set(this.overlay.members().map((m) => m.address));
    for (const a of [...this.opts.peers, ...this.cachedAddresses()])
      if (!members.has(a)) void this.merge(undefined, [a]);
  }

  private async merge(nodeId: string | undefined, addresses: string[]): Promise<void> {
    if (this.stopped || !this.overlay.joined) return;
    const members = this.overlay.members();
    if (nodeId && members.some((m) => m.nodeId === nodeId)) return;
    const key = nodeId ?? addresses.join(',');
    if (this.contacting.has(key)) return;
    this.contacting.add(key);
    try {
      // The announced addresses are unverified (any interface, anyone may announce): the TLS
      // handshake in contact() checks the peer holds an office certificate for the Node-ID.
      for (const a of addresses) {
        const i = a.lastIndexOf(':');
        const id = await this.overlay.contact(a.slice(0, i), Number(a.slice(i + 1)));
        if (id) {
          this.log.info('office peer contacted', { address: a, peer: id });
          break;
        }
      }
    } catch (err) {
      this.log.warn('contacting a found peer failed', { addresses, err });
    } finally {
      this.contacting.delete(key);
    }
  }

  private onMemberUp(nodeId: string): void {
    const m = this.overlay.members().find((x) => x.nodeId === nodeId);
    if (m) this.opts.db.peers.seen(nodeId, m.address, Date.now());
    this.scheduleRepublish();
  }

  /** The peer cache for the next start: every member in our view (those learned at join emit no member-up). */
  private rememberMembers(): void {
    const now = Date.now();
    for (const m of this.overlay.members()) if (!m.self) this.opts.db.peers.seen(m.nodeId, m.address, now);
  }

  /** After the view changed (a merge), our record may sit on the wrong peer: store it again, batched. */
  private scheduleRepublish(): void {
    if (this.republish || this.stopped) return;
    this.republish = setTimeout(() => {
      this.republish = null;
      void this.publishCertificate();
      for (const r of this.republishers) {
        r().catch((err) => this.log.warn('republishing after a ring change failed', { err }));
      }
    }, REPUBLISH_DELAY_MS);
  }

  /** Also stores `fn`'s records again whenever ours are (the phone system's registrations). */
  onRepublish(fn: () => Promise<void>): void {
    this.republishers.push(fn);
  }

  /** Stores our CERTIFICATE record (callers fetch it to encrypt voicemail; `lookup` uses it too). */
  async publishCertificate(): Promise<void> {
    if (this.stopped) return;
    const id = this.opts.identity;
    try {
      const v = this.overlay.sign(
        id.user,
        'CERTIFICATE',
        new TextEncoder().encode(id.certPem),
        CERT_LIFETIME_MS,
      );
      const ack = await this.overlay.store([v]);
      this.log.debug('certificate record stored', { copies: ack.copies });
    } catch (err) {
      if (!this.stopped)
        this.log.warn('certificate record not stored (will retry)', { err: (err as Error).message });
    }
  }

  /** The Node-ID whose certificate the overlay holds for `extension`, if any. */
  private async certificateHolder(extension: string): Promise<string | undefined> {
    const user = `${extension}@${this.opts.identity.office}`;
    const member = this.overlay.members().find((m) => m.user === user);
    if (member) return member.nodeId;
    const r = await this.overlay.fetch(user, 'CERTIFICATE');
    for (const v of r.values) {
      if (!v.exists) continue;
      const c = readCertificateIdentityPem(new TextDecoder().decode(v.value));
      if (c.ok && c.identity.user === user) return c.identity.nodeId;
    }
    return undefined;
  }

  /** Whether `extension` is reachable; see LookupResult. */
  async lookup(extension: string): Promise<LookupResult> {
    const user = `${extension}@${this.opts.identity.office}`;
    const via: LookupResult['via'] = [];
    const contacts: Contact[] = [];
    const members = this.overlay.members();
    for (const m of members) {
      if (m.user !== user) continue;
      via.push('member');
      contacts.push({ uri: `sip:${user}`, nodeId: m.nodeId, address: m.address });
    }
    try {
      const r = await this.overlay.fetch(user, 'CERTIFICATE');
      for (const v of r.values) {
        if (!v.exists || v.signer.user !== user) continue;
        if (!via.includes('certificate')) via.push('certificate');
        if (!contacts.some((c) => c.nodeId === v.signer.nodeId)) {
          const m = members.find((x) => x.nodeId === v.signer.nodeId);
          contacts.push({ uri: `sip:${user}`, nodeId: v.signer.nodeId, address: m?.address ?? '' });
        }
      }
    } catch (err) {
      if (!(err instanceof OverlayError)) throw err;
      this.log.info('certificate fetch failed during lookup', { user, reason: err.message });
    }
    return { extension, user, reachable: via.length > 0, via, contacts };
  }

  status() {
    const id = this.opts.identity;
    const holdings = this.overlay.holdings();
    const count = (role: string) => holdings.filter((h) => h.role === role).length;
    return {
      office: id.office,
      extension: id.extension,
      user: id.user,
      admin: id.admin,
      nodeId: this.overlay.nodeId,
      overlayPort: this.overlay.port,
      enrollmentPort: this.enrollment?.port ?? null,
      upSince: this.startedAt,
      joined: this.overlay.joined,
      peers: this.overlay.members().map((m) => ({
        extension: m.user?.split('@')[0] ?? null,
        user: m.user ?? null,
        address: m.address,
        nodeId: m.nodeId,
        upSince: m.upSince ?? null,
        self: m.self,
      })),
      records: {
        total: holdings.length,
        responsible: count('responsible'),
        replica: count('replica'),
        handingOff: count('handing-off'),
        list: holdings.map((h) => ({
          name: h.resourceName,
          kind: h.kind,
          key: h.key,
          role: h.role,
          copies: h.copies,
        })),
      },
      replicaHealth: this.replicaHealth(holdings),
      pendingJoinRequests: this.enrollment?.pending() ?? [],
    };
  }

  /**
   * Copies of the records this peer holds, as the ring confirmed them (Holding.copies: measured by
   * the overlay's digest acknowledgements, at most two anti-entropy periods old). `possible` is what
   * the ring's size allows; 'degraded' when any record has fewer than `target` confirmed copies.
   */
  replicaHealth(holdings: Holding[] = this.overlay.holdings()): ReplicaHealth {
    const target = REPLICA_TARGET;
    const possible = Math.min(target, this.overlay.members().length);
    const held = holdings.filter((h) => h.role !== 'handing-off');
    const underReplicated = held
      .filter((h) => h.copies < target)
      .map((h) => ({ name: h.resourceName, kind: h.kind, key: h.key, role: h.role, copies: h.copies }));
    const minCopies = held.length === 0 ? null : Math.min(...held.map((h) => h.copies));
    return {
      target,
      possible,
      records: held.length,
      minCopies,
      underReplicated,
      state: underReplicated.length === 0 && possible >= target ? 'ok' : 'degraded',
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.mergeTimer, this.certTimer]) if (t) clearInterval(t);
    if (this.republish) clearTimeout(this.republish);
    if (this.overlay?.joined) this.rememberMembers();
    await this.discovery?.stop();
    await this.enrollment?.stop();
    await this.overlay?.stop({ graceful: true });
  }
}
