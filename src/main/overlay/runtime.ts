// The I/O driver of one OverlayNode: real clock and timers, TLS links (LinkManager), a RecordStore
// and the office validator. Node effects become link sends, link closes and one setTimeout; link
// frames become node inputs after decoding. The rest of src/main talks to the overlay only through
// the typed promise API here (start/stop/store/fetch/stat/watch/members/holdings) and its events.
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { type Address, addressKey } from '../../core/net.ts';
import { decodeFrame, encodeFrame } from '../../core/overlay/frame.ts';
import { resourceIdFromName } from '../../core/overlay/ids.ts';
import type { ValueMeta } from '../../core/overlay/messages.ts';
import {
  type OverlayConfig,
  type OverlayEffect,
  type OverlayEvent,
  OverlayNode,
  type RequestResult,
} from '../../core/overlay/node.ts';
import type {
  KindName,
  NodeId,
  RecordStore,
  ResourceId,
  StoredValue,
  StoreOutcome,
  ValueValidator,
} from '../../core/records/types.ts';
import { nodeSignatureProvider } from '../../core/security/signature-provider.ts';
import { OfficeValueValidator } from '../../core/security/value-validator.ts';
import { createLogger, type Logger } from '../log.ts';
import { LinkManager } from '../overlay-link/link-manager.ts';
import { WarningBudget } from '../sip/warning-budget.ts';
import { parseHostPort, probeNodeId } from './address-probe.ts';
import { PeerSigner, type SignOptions } from './peer-signer.ts';

export interface OverlayRuntimeOptions {
  certPem: string;
  keyPem: string;
  caPem: string;
  store: RecordStore;
  /** Default: the office validator for `caPem` with Node's native RSA. */
  validator?: ValueValidator;
  /** Bind address of the link listener (default 0.0.0.0) and port (default 0: any). */
  host?: string;
  port?: number;
  /** The host other peers reach us at (default: `host` unless a wildcard, else the first LAN IPv4). */
  advertiseHost?: string;
  /** "host:port" of peers to join through; empty (or only ourselves) forms a new overlay. */
  bootstrap?: string[];
  config?: Partial<OverlayConfig>;
  /** start() fails when no bootstrap peer admitted us within this time (default 30 s). */
  joinTimeoutMs?: number;
  /** Handshake budget of links and bootstrap probes (default 3000 ms). */
  connectTimeoutMs?: number;
  log?: Logger;
}

export interface Member {
  nodeId: NodeId;
  user?: string;
  address: string;
  /** ms since epoch when this peer saw it come up (ours: when we started). */
  upSince?: number;
  self: boolean;
}

export type HolderRole = 'responsible' | 'replica' | 'handing-off';

export interface Holding {
  resourceId: ResourceId;
  resourceName: string;
  kind: KindName;
  key: string;
  storageTime: number;
  exists: boolean;
  role: HolderRole;
  /**
   * Copies the ring confirmed (measured, see OverlayNode.copiesOf): as responsible, ours plus the
   * replicas that acknowledged this value within two anti-entropy periods; as a replica, the
   * responsible peer's last figure for its range; 1 while handing off.
   */
  copies: number;
}

export interface StoreAck {
  /** Holders that confirmed (responsible + replicas). */
  copies: number;
  hops: number;
}

export interface FetchResult {
  values: StoredValue[];
  /** Values the answering peer sent that failed our own validation (dropped). */
  rejected: number;
  hops: number;
}

export type OverlayErrorCode = 'timeout' | 'refused' | 'stopped' | StoreOutcomeCode;
type StoreOutcomeCode = Extract<StoreOutcome, { ok: false }>['code'];

/** A request the overlay did not carry out, with the reason to show or log. */
export class OverlayError extends Error {
  constructor(
    readonly code: OverlayErrorCode,
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`);
    this.name = 'OverlayError';
  }
}

export interface OverlayRuntimeEvents {
  joined: [{ admittedBy: NodeId }];
  'member-up': [{ nodeId: NodeId }];
  'member-down': [{ nodeId: NodeId; reason: string }];
  'watch-notify': [{ watchId: number; resourceId: ResourceId; values: StoredValue[] }];
  'invalid-value': [{ from: NodeId; reason: string }];
}

export type ResourceRef = string | { id: ResourceId };

interface PendingRequest {
  resolve: (r: RequestResult) => void;
  reject: (e: OverlayError) => void;
}

interface ProbeWait {
  frames: Uint8Array[];
}

const MAX_FRAMES_AWAITING_PROBE = 64;
const REDIAL_MIN_MS = 500;
const REDIAL_MAX_MS = 5000;
const LEAVE_DRAIN_MS = 2000;
/** How long a non-authoritative local miss is asked again (failure detection takes ~4 s). */
const LOCAL_MISS_RETRY_MS = 8000;

/**
 * Real-I/O defaults over the node's (tuned for the simulator): a replica's acknowledgement includes
 * its SQLite commit (fsync) and, for a first contact, a TLS handshake, so it gets longer to arrive.
 */
export const RUNTIME_OVERLAY_CONFIG: Partial<OverlayConfig> = { replicaAckTimeoutMs: 2000 };

export class OverlayRuntime extends EventEmitter<OverlayRuntimeEvents> {
  readonly nodeId: NodeId;
  readonly user: string;
  readonly signer: PeerSigner;
  private readonly links: LinkManager;
  private readonly records: RecordStore;
  private readonly validator: ValueValidator;
  private readonly log: Logger;
  /** Refused values come per value from a misbehaving member (600 in one store): budgeted. */
  private readonly refusals: WarningBudget;
  private node: OverlayNode | null = null;
  private address: Address | null = null;
  private timer: NodeJS.Timeout | null = null;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private startedAt = 0;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly watches = new Map<
    number,
    { kind?: KindName; callback: (values: StoredValue[]) => void }
  >();
  private readonly idByAddress = new Map<string, NodeId>();
  private readonly probing = new Map<string, ProbeWait>();
  private readonly users = new Map<NodeId, string>();
  private readonly upSince = new Map<NodeId, number>();
  private readonly redial = new Map<NodeId, { until: number; backoff: number }>();
  private joinWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private readonly probes = new AbortController();

  constructor(private readonly opts: OverlayRuntimeOptions) {
    super();
    this.signer = new PeerSigner(opts.certPem, opts.keyPem);
    this.nodeId = this.signer.nodeId;
    this.user = this.signer.user;
    this.records = opts.store;
    this.validator =
      opts.validator ??
      new OfficeValueValidator({ caCertificatePem: opts.caPem, signatures: nodeSignatureProvider() });
    this.log = (opts.log ?? createLogger()).child({ component: 'overlay', node: this.nodeId.slice(0, 8) });
    this.refusals = new WarningBudget(this.log, Date.now);
    this.links = new LinkManager({
      nodeId: this.nodeId,
      keyPem: opts.keyPem,
      certPem: opts.certPem,
      caPem: opts.caPem,
      host: opts.host,
      port: opts.port,
      connectTimeoutMs: opts.connectTimeoutMs ?? 3000,
      log: opts.log,
    });
    this.links.on('frame', (e) => this.onFrame(e.nodeId, e.bytes));
    this.links.on('link-up', (e) => {
      this.users.set(e.nodeId, e.user);
      this.redial.delete(e.nodeId);
    });
    this.links.on('link-down', (e) => {
      // Failure detection stays with the node's keepalives; here only redials are paced.
      if (!e.wasUp) this.backOff(e.nodeId);
    });
  }

  /** The listening port (after start()). */
  get port(): number {
    return this.links.port;
  }

  get joined(): boolean {
    return this.node?.joined ?? false;
  }

  /** Whether a timer is armed (none after stop()). */
  get timerArmed(): boolean {
    return this.timer !== null;
  }

  /** The overlay node itself, for diagnostics and tests (do not feed it inputs). */
  get overlayNode(): OverlayNode | null {
    return this.node;
  }

  /** Listens, resolves the bootstrap peers and joins (or forms) the overlay. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('OverlayRuntime starts once');
    this.state = 'starting';
    let port: number;
    try {
      port = await this.links.start();
    } catch (e) {
      this.state = 'stopped';
      throw e;
    }
    this.address = {
      transport: 'TLS',
      host: this.opts.advertiseHost ?? defaultAdvertiseHost(this.opts.host),
      port,
    };
    this.node = new OverlayNode({
      id: this.nodeId,
      address: this.address,
      store: this.records,
      validator: this.validator,
      random: Math.random,
      config: { ...RUNTIME_OVERLAY_CONFIG, ...this.opts.config },
    });
    const boots = await this.resolveBootstraps(this.opts.bootstrap ?? []);
    if (this.isStopped()) throw new OverlayError('stopped', 'stopped while starting');
    this.startedAt = Date.now();
    const joined = new Promise<void>((resolve, reject) => {
      this.joinWaiter = { resolve, reject };
    });
    this.log.info('overlay starting', {
      address: `${this.address.host}:${port}`,
      bootstrap: boots.map((b) => `${b.host}:${b.port}`),
    });
    this.apply(this.node.start(Date.now(), boots));
    const limit = this.opts.joinTimeoutMs ?? 30_000;
    let deadline: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        joined,
        new Promise<never>((_, reject) => {
          deadline = setTimeout(
            () => reject(new OverlayError('timeout', `no bootstrap peer admitted us within ${limit} ms`)),
            limit,
          );
        }),
      ]);
    } catch (e) {
      await this.stop();
      throw e;
    } finally {
      clearTimeout(deadline);
      this.joinWaiter = null;
    }
    this.state = 'running';
  }

  /**
   * Stops. Graceful: the node leaves (hands its range to the successor, tells its neighbours) and the
   * leave frames are given time to reach the kernel. Every timer and socket is closed either way.
   */
  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    if (this.state === 'stopped') return;
    const wasJoined = this.node?.joined ?? false;
    this.state = 'stopped';
    if (opts.graceful && this.node && wasJoined) {
      const targets = new Set<NodeId>();
      const effects = this.node.leave(Date.now());
      for (const e of effects) if (e.type === 'send' && e.toId) targets.add(e.toId);
      this.apply(effects, true);
      await this.drain(targets, LEAVE_DRAIN_MS);
    }
    this.node?.stop();
    this.clearTimer();
    for (const [, p] of this.pending) p.reject(new OverlayError('stopped', 'overlay stopped'));
    this.pending.clear();
    this.watches.clear();
    this.joinWaiter?.reject(new OverlayError('stopped', 'stopped before joining'));
    this.probes.abort();
    await this.links.stop();
    this.log.info('overlay stopped', { graceful: Boolean(opts.graceful) });
  }

  // ---------------------------------------------------------------- records

  /** Signs a value as this peer (its certificate, its key, a fresh storage time). */
  sign(resourceName: string, kind: KindName, value: Uint8Array, lifetimeMs: number, opts?: SignOptions) {
    return this.signer.sign(resourceName, kind, value, lifetimeMs, opts);
  }

  /**
   * Stores values (grouped per resource). Resolves once the responsible peer committed them and
   * answered; rejects with the first refusal's code and reason (forbidden, bad-signature, stale...).
   */
  async store(values: StoredValue[]): Promise<StoreAck> {
    if (values.length === 0) throw new OverlayError('invalid', 'nothing to store');
    const groups = new Map<ResourceId, StoredValue[]>();
    for (const v of values) groups.set(v.resourceId, [...(groups.get(v.resourceId) ?? []), v]);
    const acks = await Promise.all(
      [...groups.values()].map(async (group) => {
        const r = await this.request((node, now) => node.storeValues(now, group));
        if (!r.ok) throw new OverlayError(r.error, r.reason);
        if (r.op !== 'store') throw new OverlayError('invalid', `unexpected ${r.op} answer`);
        const bad = r.outcomes.find((o) => !o.ok);
        if (bad && !bad.ok) throw new OverlayError(bad.code, bad.reason);
        if (r.outcomes.length !== group.length)
          throw new OverlayError('invalid', `${r.outcomes.length} outcomes for ${group.length} values`);
        return { copies: r.copies, hops: r.hops };
      }),
    );
    return {
      copies: Math.min(...acks.map((a) => a.copies)),
      hops: Math.max(...acks.map((a) => a.hops)),
    };
  }

  /** Fetches a resource's values (optionally one kind and key); each one passed our validator. */
  async fetch(resource: ResourceRef, kind?: KindName, key?: string): Promise<FetchResult> {
    const rid = resourceIdOf(resource);
    const r = await this.readRequest(
      rid,
      (node, now) => node.fetch(now, rid, kind, key),
      (a) => (a.op === 'fetch' ? a.values.length : -1),
    );
    if (r.op !== 'fetch') throw new OverlayError('invalid', `unexpected ${r.op} answer`);
    return { values: r.values, rejected: r.rejected, hops: r.hops };
  }

  async stat(resource: ResourceRef, kind?: KindName, key?: string): Promise<ValueMeta[]> {
    const rid = resourceIdOf(resource);
    const r = await this.readRequest(
      rid,
      (node, now) => node.stat(now, rid, kind, key),
      (a) => (a.op === 'stat' ? a.meta.length : -1),
    );
    if (r.op !== 'stat') throw new OverlayError('invalid', `unexpected ${r.op} answer`);
    return r.meta;
  }

  /**
   * A fetch/stat that the node answered from its own store while NOT responsible, with nothing
   * found, is not an answer: the node routes to itself when every peer between the key and itself
   * is suspected, which happens for a few seconds after a crash while a live holder sits behind a
   * dead one. Such a "not found" is asked again until the view settles (bounded); an authoritative
   * answer or a local hit returns at once. (Belongs in the core's routing; harmless once fixed.)
   */
  private async readRequest(
    rid: ResourceId,
    run: (node: OverlayNode, now: number) => { requestId: number; effects: OverlayEffect[] },
    found: (r: Extract<RequestResult, { ok: true }>) => number,
  ): Promise<Extract<RequestResult, { ok: true }>> {
    const end = Date.now() + LOCAL_MISS_RETRY_MS;
    for (;;) {
      const r = await this.request(run);
      if (!r.ok) throw new OverlayError(r.error, r.reason);
      const unsure = r.hops === 0 && found(r) === 0 && !this.node?.table.responsibleFor(rid);
      if (!unsure || Date.now() >= end) return r;
      this.log.debug('local miss while not responsible: asking again', { resource: rid });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * Watches a resource at its responsible peer (kept registered by the node); `callback` gets the
   * resource's values of `kind` (all kinds when omitted) on every change. Resolves once registered.
   */
  async watch(
    resource: ResourceRef,
    kind: KindName | undefined,
    callback: (values: StoredValue[]) => void,
    lifetimeMs = 60_000,
  ): Promise<{ watchId: number; cancel: () => void }> {
    const node = this.requireNode();
    const rid = resourceIdOf(resource);
    const w = node.watch(Date.now(), rid, lifetimeMs);
    this.watches.set(w.watchId, { kind, callback });
    const result = new Promise<RequestResult>((resolve, reject) =>
      this.pending.set(w.requestId, { resolve, reject }),
    );
    this.apply(w.effects);
    const r = await result;
    const cancel = () => {
      this.watches.delete(w.watchId);
      this.node?.unwatch(w.watchId);
    };
    if (!r.ok) {
      cancel();
      throw new OverlayError(r.error, r.reason);
    }
    return { watchId: w.watchId, cancel };
  }

  /**
   * Introduces this peer to a peer found outside the overlay (discovery, peer cache): probes
   * host:port over mutual TLS and sends it our view digest, so two overlays that formed apart
   * (peers started at once, a healed LAN) merge their membership views. Resolves to the Node-ID
   * there, or null when unreachable, refused, ourselves, or we are not joined yet.
   */
  async contact(host: string, port: number): Promise<NodeId | null> {
    if (!this.node?.joined || this.isStopped()) return null;
    const id = await this.probe(host, port);
    const node = this.node;
    if (!id || id === this.nodeId || !node?.joined || this.isStopped()) return null;
    const digest = { t: 'view-digest' as const, from: node.me, buckets: [...node.table.buckets] };
    this.send({ transport: 'TLS', host, port }, id, encodeFrame(digest));
    return id;
  }

  // ---------------------------------------------------------------- views

  /** The membership view: ourselves and every peer the node believes alive. */
  members(): Member[] {
    const node = this.node;
    if (!node || !this.address) return [];
    const out: Member[] = [
      {
        nodeId: this.nodeId,
        user: this.user,
        address: `${this.address.host}:${this.address.port}`,
        upSince: this.startedAt,
        self: true,
      },
    ];
    for (const m of node.table.members.values()) {
      if (m.status !== 'alive') continue;
      out.push({
        nodeId: m.id,
        user: this.users.get(m.id),
        address: `${m.address.host}:${m.address.port}`,
        upSince: this.upSince.get(m.id),
        self: false,
      });
    }
    return out;
  }

  /** Every value this peer holds, and why: responsible for it, a replica, or handing it off. */
  holdings(): Holding[] {
    const node = this.node;
    const now = Date.now();
    const replicas = node?.config.replicas ?? 2;
    return this.records.range(this.nodeId, this.nodeId, now).map((v) => {
      const role: HolderRole = !node
        ? 'replica'
        : node.table.responsibleFor(v.resourceId)
          ? 'responsible'
          : node.table.holds(v.resourceId, replicas)
            ? 'replica'
            : 'handing-off';
      return {
        resourceId: v.resourceId,
        resourceName: v.resourceName,
        kind: v.kind,
        key: v.key,
        storageTime: v.storageTime,
        exists: v.exists,
        role,
        copies: node && role !== 'handing-off' ? node.copiesOf(now, v) : 1,
      };
    });
  }

  // ---------------------------------------------------------------- node <-> I/O

  private requireNode(): OverlayNode {
    if (!this.node || this.isStopped()) throw new OverlayError('stopped', 'overlay is not running');
    return this.node;
  }

  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private request(
    run: (node: OverlayNode, now: number) => { requestId: number; effects: OverlayEffect[] },
  ): Promise<RequestResult> {
    const node = this.requireNode();
    const r = run(node, Date.now());
    const result = new Promise<RequestResult>((resolve, reject) =>
      this.pending.set(r.requestId, { resolve, reject }),
    );
    this.apply(r.effects);
    return result;
  }

  /** Carries out node effects. `leaving`: sends only (the node is gone after leave()). */
  private apply(effects: OverlayEffect[], leaving = false): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          this.send(e.to, e.toId, encodeFrame(e.message));
          break;
        case 'set-timer':
          if (!leaving && !this.isStopped()) this.armTimer(e.at);
          break;
        case 'close-link': {
          const id = this.idByAddress.get(addressKey(e.peer));
          this.log.warn('overlay closes link', {
            peer: id ?? `${e.peer.host}:${e.peer.port}`,
            reason: e.reason,
          });
          if (id) this.links.close(id, e.reason);
          break;
        }
        case 'event':
          this.onNodeEvent(e.event);
          break;
      }
    }
  }

  /** The node keeps one timer: each set-timer replaces the previous one (as in the simulator). */
  private armTimer(at: number): void {
    this.clearTimer();
    this.timer = setTimeout(
      () => {
        this.timer = null;
        if (this.node && !this.isStopped()) this.apply(this.node.tick(Date.now()));
      },
      Math.max(0, at - Date.now()),
    );
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private send(to: Address, toId: NodeId | undefined, bytes: Uint8Array): void {
    const id = toId ?? this.idByAddress.get(addressKey(to));
    if (!id) {
      this.sendByAddress(to, bytes);
      return;
    }
    if (id === this.nodeId) return;
    this.links.setAddress(id, to.host, to.port);
    const r = this.redial.get(id);
    if (r && r.until > Date.now() && !this.links.hasLink(id)) {
      this.log.debug('overlay send skipped: peer unreachable, redial paced', { peer: id });
      return;
    }
    this.links.send(id, bytes);
  }

  private backOff(id: NodeId): void {
    const prev = this.redial.get(id);
    const backoff = prev ? Math.min(prev.backoff * 2, REDIAL_MAX_MS) : REDIAL_MIN_MS;
    this.redial.set(id, { until: Date.now() + backoff, backoff });
  }

  /** Frames for an address whose Node-ID we do not know yet (a join to a bootstrap address). */
  private sendByAddress(to: Address, bytes: Uint8Array): void {
    const key = addressKey(to);
    const waiting = this.probing.get(key);
    if (waiting) {
      if (waiting.frames.length < MAX_FRAMES_AWAITING_PROBE) waiting.frames.push(bytes);
      return;
    }
    const wait: ProbeWait = { frames: [bytes] };
    this.probing.set(key, wait);
    void this.probe(to.host, to.port).then((id) => {
      this.probing.delete(key);
      if (!id || id === this.nodeId || this.isStopped()) return;
      for (const f of wait.frames) this.send(to, id, f);
    });
  }

  /** Learns (and remembers) the Node-ID at host:port; null when unreachable or refused. */
  private async probe(host: string, port: number): Promise<NodeId | null> {
    const r = await probeNodeId({
      host,
      port,
      keyPem: this.opts.keyPem,
      certPem: this.opts.certPem,
      caPem: this.opts.caPem,
      timeoutMs: this.opts.connectTimeoutMs ?? 3000,
      signal: this.probes.signal,
    });
    if (!r.ok) {
      if (!this.isStopped())
        this.log.warn('bootstrap peer unusable', { address: `${host}:${port}`, reason: r.reason });
      return null;
    }
    this.idByAddress.set(addressKey({ transport: 'TLS', host, port }), r.identity.nodeId);
    this.users.set(r.identity.nodeId, r.identity.user);
    return r.identity.nodeId;
  }

  /**
   * Bootstrap addresses to join through: those that answered (without ourselves). When none
   * answered, all of them: the node retries its join round-robin and each retry probes again.
   */
  private async resolveBootstraps(list: string[]): Promise<Address[]> {
    const parsed: Address[] = [];
    for (const s of list) {
      const hp = parseHostPort(s);
      if (!hp) this.log.warn('bootstrap address malformed, ignored', { address: s });
      else parsed.push({ transport: 'TLS', ...hp });
    }
    const ids = await Promise.all(parsed.map((a) => this.probe(a.host, a.port)));
    const others = parsed.filter((_, i) => ids[i] !== this.nodeId);
    const answered = parsed.filter((_, i) => ids[i] !== null && ids[i] !== this.nodeId);
    return answered.length > 0 ? answered : others;
  }

  private onFrame(from: NodeId, bytes: Uint8Array): void {
    const node = this.node;
    if (!node || this.isStopped()) return;
    const r = decodeFrame(bytes);
    let problem: string | null = null;
    if (!r.ok) problem = `${r.error.code}: ${r.error.reason}`;
    else if (r.bytesUsed !== bytes.length) problem = `${bytes.length - r.bytesUsed} bytes after the frame`;
    else if (r.message.from.id !== from)
      problem = `sender claims Node-ID ${r.message.from.id} on a link with ${from}`;
    if (problem || !r.ok) {
      this.log.warn('malformed overlay frame, closing the link', { peer: from, reason: problem });
      this.links.close(from, `malformed frame: ${problem}`);
      return;
    }
    this.idByAddress.set(addressKey(r.message.from.address), from);
    this.apply(node.receive(Date.now(), r.message.from.address, r.message));
  }

  private onNodeEvent(ev: OverlayEvent): void {
    switch (ev.type) {
      case 'result': {
        const p = this.pending.get(ev.requestId);
        if (p) {
          this.pending.delete(ev.requestId);
          p.resolve(ev.result);
        } else if (ev.result.op === 'join' && !ev.result.ok) {
          this.log.error('join failed', { reason: ev.result.reason });
          this.joinWaiter?.reject(new OverlayError(ev.result.error, `join failed: ${ev.result.reason}`));
        }
        break;
      }
      case 'joined': {
        // The admitting peer's view arrives without peer-up events: those members are up since now.
        const now = Date.now();
        for (const m of this.node?.table.members.values() ?? [])
          if (m.status === 'alive' && !this.upSince.has(m.id)) this.upSince.set(m.id, now);
        this.log.info('joined the overlay', { admittedBy: ev.admittedBy });
        this.joinWaiter?.resolve();
        this.emit('joined', { admittedBy: ev.admittedBy });
        break;
      }
      case 'peer-up':
        this.upSince.set(ev.id, Date.now());
        this.log.info('member up', { peer: ev.id, user: this.users.get(ev.id) });
        this.emit('member-up', { nodeId: ev.id });
        break;
      case 'peer-down':
        this.upSince.delete(ev.id);
        this.log.info('member down', { peer: ev.id, reason: ev.reason });
        this.emit('member-down', { nodeId: ev.id, reason: ev.reason });
        break;
      case 'watch-notify': {
        const w = this.watches.get(ev.watchId);
        if (w) w.callback(w.kind ? ev.values.filter((v) => v.kind === w.kind) : ev.values);
        this.emit('watch-notify', { watchId: ev.watchId, resourceId: ev.resourceId, values: ev.values });
        break;
      }
      case 'invalid-value':
        this.refusals.warn('value refused', { from: ev.from, reason: ev.reason });
        this.emit('invalid-value', { from: ev.from, reason: ev.reason });
        break;
      case 'false-claim':
        // Fake members or false deaths gossiped by a member: the sender is named for the admin.
        this.refusals.warn(
          ev.claim === 'alive'
            ? 'gossiped member never verified, ignored'
            : 'death claim refuted by a direct probe, ignored',
          { from: ev.from, about: ev.about, claim: ev.claim },
        );
        break;
      case 'warning':
        this.log.warn(ev.message);
        break;
      case 'dropped':
        if (ev.reason === 'not-ready')
          this.log.debug('request dropped', { reason: ev.reason, detail: ev.detail });
        else this.log.warn('request dropped', { reason: ev.reason, detail: ev.detail });
        break;
    }
  }

  /** Waits until the links to `targets` have passed their frames to the kernel (bounded). */
  private async drain(targets: Set<NodeId>, maxMs: number): Promise<void> {
    const end = Date.now() + maxMs;
    const pending = () => [...targets].reduce((n, id) => n + this.links.pendingBytes(id), 0);
    while (pending() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    // The kernel still needs a moment to hand the last TLS records to the peers before we close.
    await new Promise((r) => setTimeout(r, 50));
  }
}

function resourceIdOf(r: ResourceRef): ResourceId {
  return typeof r === 'string' ? resourceIdFromName(r) : r.id;
}

/** The address peers reach us at: the bind host, or for a wildcard bind the first LAN IPv4. */
export function defaultAdvertiseHost(bindHost?: string): string {
  if (bindHost && bindHost !== '0.0.0.0' && bindHost !== '::') return bindHost;
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}
