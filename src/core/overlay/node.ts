// One overlay peer as a sans-IO state machine: messages, timer ticks and user commands in; sends,
// timers and events out. RFC 6940 semantics (join/update/leave, store/fetch/stat, recursive
// routing with TTL and via list), CHORD-RELOAD ring, office-LAN timers, SWIM-style gossip for the
// membership view, 3 copies (responsible + 2 successors) and range-digest anti-entropy.
//
// Store acknowledgement: the responsible peer answers once its own put succeeded AND its replicas
// acknowledged, or `replicaAckTimeoutMs` passed; `copies` in the answer says how many holders
// confirmed, so a caller that needs 2+ durable copies can check.
import type { Address } from '../net.ts';
import { kindSpec } from '../records/kinds.ts';
import { slotKey } from '../records/slot.ts';
import type {
  KindName,
  NodeId,
  RecordStore,
  ResourceId,
  StoredValue,
  StoreOutcome,
  ValueValidator,
} from '../records/types.ts';
import { decodeFrame } from './frame.ts';
import { GossipQueue } from './gossip.ts';
import { between, idBefore } from './ids.ts';
import type {
  AnswerBody,
  AnswerMessage,
  GossipEvent,
  MessageType,
  OverlayMessage,
  PeerInfo,
  RequestMessage,
  RequestOp,
  ValueMeta,
  WatchRegistration,
} from './messages.ts';
import { RangeReports, ReplicaConfirmations, type SlotStamp } from './replica-health.ts';
import { bucketOf, memberEvent, RoutingTable } from './routing-table.ts';

export interface OverlayConfig {
  successors: number;
  predecessors: number;
  /** Copies beyond the responsible peer (2 -> 3 copies). */
  replicas: number;
  /** Neighbours on each side that get keepalives and are watched for failure. */
  keepaliveTargets: number;
  tickMs: number;
  keepaliveMs: number;
  failAfterMs: number;
  probeTimeoutMs: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  replicaAckTimeoutMs: number;
  antiEntropyMs: number;
  /** Delay between a neighbour change and the digest exchange it triggers (batches churn). */
  syncDelayMs: number;
  maxView: number;
  ttl: number;
  gossipPerMessage: number;
  gossipQueue: number;
  gossipFactor: number;
  suspectMs: number;
  deadRetentionMs: number;
  /** Resources handed off per anti-entropy round (values outside this peer's holder range). */
  handoffsPerRound: number;
  /** Period of the membership digest exchange with one random peer. */
  viewSyncMs: number;
  /** Members learned second-hand waiting for a direct contact (bounded against fake-member floods). */
  maxCandidates: number;
  /** Verification pings sent per tick (a fresh joiner verifies the whole view in a few ticks). */
  candidateProbesPerTick: number;
  /** Pings to a candidate before it is given up (then ignored for `candidateRetryMs`). */
  candidateTries: number;
  candidateRetryMs: number;
  /**
   * Bytes of values per message when a range changes hands (join, leave): 10,000 records are tens
   * of MB, past the link's frame limit; the rest follows in `replicate` messages of this size.
   */
  transferBatchBytes: number;
}

export const DEFAULT_OVERLAY_CONFIG: OverlayConfig = {
  successors: 5,
  predecessors: 5,
  replicas: 2,
  keepaliveTargets: 3,
  tickMs: 500,
  keepaliveMs: 1000,
  failAfterMs: 3000,
  probeTimeoutMs: 1000,
  requestTimeoutMs: 1000,
  maxAttempts: 6,
  replicaAckTimeoutMs: 300,
  antiEntropyMs: 10_000,
  syncDelayMs: 500,
  maxView: 1200,
  ttl: 32,
  gossipPerMessage: 8,
  gossipQueue: 256,
  gossipFactor: 3,
  suspectMs: 5000,
  deadRetentionMs: 600_000,
  handoffsPerRound: 32,
  viewSyncMs: 3000,
  maxCandidates: 4096,
  candidateProbesPerTick: 256,
  candidateTries: 4,
  candidateRetryMs: 15_000,
  transferBatchBytes: 1_000_000,
};

export type OverlayEffect =
  | { type: 'send'; to: Address; toId?: NodeId; message: OverlayMessage }
  | { type: 'set-timer'; at: number }
  | { type: 'close-link'; peer: Address; reason: string }
  | { type: 'event'; event: OverlayEvent };

export type RequestResult =
  | { ok: true; op: 'join'; admittedBy: NodeId; hops: number }
  | { ok: true; op: 'lookup'; responsible: NodeId; hops: number }
  | { ok: true; op: 'store'; outcomes: StoreOutcome[]; copies: number; hops: number }
  | { ok: true; op: 'fetch'; values: StoredValue[]; hops: number; rejected: number }
  | { ok: true; op: 'stat'; meta: ValueMeta[]; hops: number }
  | { ok: true; op: 'watch'; expires: number; hops: number }
  | { ok: false; op: RequestOp['op']; error: 'timeout' | 'refused'; reason: string };

export type OverlayEvent =
  | { type: 'joined'; admittedBy: NodeId }
  | { type: 'peer-up'; id: NodeId }
  | { type: 'peer-down'; id: NodeId; reason: string }
  | { type: 'dropped'; reason: 'loop' | 'ttl' | 'not-ready'; detail: string }
  | { type: 'result'; requestId: number; result: RequestResult }
  | { type: 'watch-notify'; watchId: number; resourceId: ResourceId; values: StoredValue[] }
  | { type: 'invalid-value'; from: NodeId; reason: string }
  /** Membership news from `from` that a direct probe contradicted (a fake member, a false death). */
  | { type: 'false-claim'; from: NodeId; about: NodeId; claim: 'alive' | 'dead' | 'left' }
  | { type: 'warning'; message: string };

export interface OverlayNodeOptions {
  id: NodeId;
  address: Address;
  store: RecordStore;
  validator: ValueValidator;
  /** Uniform [0, 1) source; seeded in the simulator. */
  random: () => number;
  config?: Partial<OverlayConfig>;
}

interface Pending {
  tx: number;
  body: RequestOp;
  key: NodeId;
  attempts: number;
  maxAttempts: number;
  deadline: number;
  firstHop?: NodeId;
  /** Set for hand-offs of values outside our holder range: drop them once the holder has them. */
  handoff?: { resourceId: ResourceId; newest: number };
  /** Set for watch refreshes: no result event for the user. */
  quiet?: boolean;
}

interface ReplicaWait {
  origin: PeerInfo;
  tx: number;
  hops: number;
  outcomes: StoreOutcome[];
  /** The values sent to the replicas: each ack confirms that replica holds them. */
  values: StoredValue[];
  need: number;
  acks: number;
  deadline: number;
}

/** A member learned second-hand: it enters the ring only once it contacted us directly. */
interface Candidate {
  peer: PeerInfo;
  /** Who told us about it (blamed when it never answers). */
  from: NodeId;
  probedAt: number;
  tries: number;
}

interface OwnWatch {
  resourceId: ResourceId;
  lifetime: number;
  refreshAt: number;
}

export class OverlayNode {
  readonly id: NodeId;
  readonly address: Address;
  readonly config: OverlayConfig;
  readonly table: RoutingTable;
  readonly sent: Partial<Record<MessageType, number>> = {};
  private inc = 0;
  private running = false;
  private joinedFlag = false;
  private bootstraps: Address[] = [];
  private readonly store: RecordStore;
  private readonly validator: ValueValidator;
  private readonly random: () => number;
  private readonly gossip: GossipQueue;
  private readonly pending = new Map<number, Pending>();
  private readonly replicaWaits = new Map<number, ReplicaWait>();
  private readonly suspects = new Map<NodeId, number>();
  private readonly probes = new Map<NodeId, number>();
  /** Unverified members (gossip, neighbour lists, join views), pinged until they answer. */
  private candidates = new Map<NodeId, Candidate>();
  /** A Map keeps its table after deletes: once a large batch (a join view) is verified, drop it. */
  private candidatesGrew = false;
  /** Candidates that never answered: ignored until the time stored (a repeated fake costs nothing). */
  private readonly unverifiable = new Map<NodeId, number>();
  /** Death claims about live members awaiting our own probe: the claimant, to blame if refuted. */
  private readonly deathClaims = new Map<NodeId, { from: NodeId; status: 'dead' | 'left' }>();
  private candidateBudget = 0;
  private readonly heldWatches = new Map<ResourceId, WatchRegistration[]>();
  private readonly ownWatches = new Map<number, OwnWatch>();
  private readonly handoffsInFlight = new Set<ResourceId>();
  private monitored = new Set<NodeId>();
  private nextTx = 1;
  private nextKeepalive = 0;
  private nextAntiEntropy = 0;
  private nextViewSync = 0;
  private syncDueAt = 0;
  /** Quick digest rounds scheduled to confirm a repair since the last periodic round (bounded). */
  private repairRounds = 0;
  private replicaKey = '';
  private readonly confirmations: ReplicaConfirmations;
  private readonly reports: RangeReports;
  private out: OverlayEffect[] = [];
  /** The time of the input being handled (for answers we deliver to ourselves). */
  private now = 0;
  /** Sends that must follow the answer being built (a join's remaining values). */
  private afterAnswer: Array<() => void> = [];
  /** The direct sender of the message being handled (the link layer vouches for it). */
  private sender: NodeId | undefined;

  constructor(options: OverlayNodeOptions) {
    this.id = options.id;
    this.address = options.address;
    this.config = { ...DEFAULT_OVERLAY_CONFIG, ...options.config };
    this.store = options.store;
    this.validator = options.validator;
    this.random = options.random;
    this.table = new RoutingTable(this.id, this.config, this.random);
    this.gossip = new GossipQueue(this.config.gossipPerMessage, this.config.gossipQueue);
    // Two periods without news (one lost round tolerated), plus the delay of a triggered round.
    const staleMs = 2 * this.config.antiEntropyMs + this.config.syncDelayMs + this.config.tickMs;
    this.confirmations = new ReplicaConfirmations(staleMs);
    this.reports = new RangeReports(staleMs);
  }

  get joined(): boolean {
    return this.joinedFlag;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get me(): PeerInfo {
    return { id: this.id, address: this.address, inc: this.inc };
  }

  // ---------------------------------------------------------------- public inputs

  /**
   * Starts the peer. Without bootstrap addresses it forms a new overlay alone; otherwise it joins
   * through any of them. The incarnation starts at `now` so a restarted peer outranks its old death.
   */
  start(now: number, bootstraps: Address[] = []): OverlayEffect[] {
    this.now = now;
    this.running = true;
    this.candidateBudget = this.config.candidateProbesPerTick;
    this.inc = Math.max(this.inc + 1, Math.floor(now));
    this.bootstraps = bootstraps;
    if (bootstraps.length === 0) {
      this.becomeJoined(now, this.id);
    } else {
      const tx = this.nextTx++;
      const p: Pending = {
        tx,
        body: { op: 'join' },
        key: this.id,
        attempts: 0,
        maxAttempts: 20,
        deadline: 0,
      };
      this.pending.set(tx, p);
      this.sendJoin(now, p);
    }
    this.timer(now + this.random() * this.config.tickMs);
    return this.flush();
  }

  /** Leaves gracefully: hands our range to the successor and tells the neighbours. */
  leave(now: number): OverlayEffect[] {
    this.now = now;
    if (!this.running) return [];
    const preds = this.table.predecessors();
    const values =
      preds.length > 0 ? this.store.range(preds[0], this.id, now) : this.store.range(this.id, this.id, now);
    const succs = this.table.successors();
    const me: PeerInfo = { ...this.me, inc: this.inc + 1 };
    const [first, ...rest] = this.batches(values);
    for (const id of new Set([...succs, ...preds])) {
      // The rest goes before the leave: the successor still counts us as a member for those.
      if (id === succs[0])
        for (const batch of rest)
          this.send(id, { t: 'replicate', from: this.me, tx: 0, values: batch, watches: [] });
      this.send(id, { t: 'leave', from: me, values: id === succs[0] ? (first ?? []) : [] });
    }
    this.running = false;
    return this.flush();
  }

  /** Stops instantly (a crash); effects are discarded. */
  stop(): void {
    this.running = false;
  }

  tick(now: number): OverlayEffect[] {
    this.now = now;
    if (!this.running) return [];
    this.checkPending(now);
    this.candidateBudget = this.config.candidateProbesPerTick;
    if (this.joinedFlag) {
      this.checkCandidates(now);
      if (now >= this.nextKeepalive) {
        this.nextKeepalive = now + this.config.keepaliveMs;
        this.sendKeepalives(now);
      }
      if (now >= this.nextViewSync) {
        this.nextViewSync = now + this.config.viewSyncMs;
        // A partial view (past maxView) has no common target to converge to: gossip and fingers do.
        const r = this.table.complete ? this.table.randomLive() : undefined;
        if (r) this.send(r, { t: 'view-digest', from: this.me, buckets: [...this.table.buckets] });
      }
      this.checkNeighbours(now);
      this.checkProbes(now);
      this.checkReplicaWaits(now);
      this.refreshOwnWatches(now);
      if (this.syncDueAt && now >= this.syncDueAt) {
        this.syncDueAt = 0;
        this.sendDigests(now);
      }
      if (now >= this.nextAntiEntropy) {
        this.nextAntiEntropy = now + this.config.antiEntropyMs;
        this.repairRounds = 0;
        this.sendDigests(now);
        this.handOffWatches(now);
        this.handOffForeignValues(now);
        this.housekeeping(now);
      }
    }
    this.timer(now + this.config.tickMs);
    return this.flush();
  }

  /** Bytes from a link: a malformed frame closes that link with the reason. */
  receiveFrame(now: number, from: Address, bytes: Uint8Array): OverlayEffect[] {
    const r = decodeFrame(bytes);
    if (!r.ok) {
      this.emit({
        type: 'warning',
        message: `malformed frame from ${from.host}:${from.port}: ${r.error.reason}`,
      });
      this.out.push({ type: 'close-link', peer: from, reason: `${r.error.code}: ${r.error.reason}` });
      return this.flush();
    }
    return this.receive(now, from, r.message);
  }

  receive(now: number, _from: Address, msg: OverlayMessage): OverlayEffect[] {
    this.now = now;
    if (!this.running || msg.from.id === this.id) return [];
    this.sender = msg.from.id;
    if (!this.joinedFlag) {
      if (msg.t === 'ans') this.onAnswer(now, msg);
      // A join's values past the first batch can overtake its answer (validated like any value).
      else if (msg.t === 'replicate' && this.pendingJoin()) this.acceptValues(now, msg.values, msg.from.id);
      else if (msg.t === 'req')
        this.emit({ type: 'dropped', reason: 'not-ready', detail: `${msg.body.op} before join` });
      return this.flush();
    }
    const fromJoiner = msg.t === 'req' && msg.body.op === 'join' && msg.origin.id === msg.from.id;
    if (!fromJoiner) this.heard(now, msg.from);
    switch (msg.t) {
      case 'ping':
        this.applyGossip(now, msg.g, msg.from.id);
        this.learnNeighbours(now, msg.nb, msg.from.id);
        if (msg.wantPong)
          this.send(msg.from.id, { t: 'pong', from: this.me, g: this.takeGossip() }, msg.from.address);
        break;
      case 'pong':
        this.applyGossip(now, msg.g, msg.from.id);
        break;
      case 'req':
        this.onRequest(now, msg);
        break;
      case 'ans':
        this.onAnswer(now, msg);
        break;
      case 'replicate': {
        this.acceptValues(now, msg.values, msg.from.id);
        for (const w of msg.watches) {
          // A watch handed to us as the responsible peer (a merge or a join moved it): the watcher
          // has not seen what we hold, so it gets it now.
          if (this.holdWatch(w) && this.table.responsibleFor(w.resourceId)) this.notifyOne(now, w);
        }
        this.send(msg.from.id, { t: 'replicate-ack', from: this.me, tx: msg.tx });
        break;
      }
      case 'replicate-ack':
        this.onReplicateAck(now, msg.tx, msg.from.id);
        break;
      case 'digest': {
        const [a, b] = msg.range;
        if (msg.copies !== undefined) this.reports.reported(msg.from.id, msg.range, msg.copies, now);
        const mine = this.store.digest(a, b, now);
        if (mine.hash === msg.hash && mine.count === msg.count) {
          this.send(msg.from.id, { t: 'digest-ack', from: this.me, range: msg.range, hash: msg.hash });
        } else {
          this.send(msg.from.id, {
            t: 'sync',
            from: this.me,
            range: msg.range,
            values: this.store.range(a, b, now),
            wantReply: true,
          });
        }
        break;
      }
      case 'digest-ack':
        this.confirmations.digestMatched(msg.from.id, msg.range, msg.hash, now);
        break;
      case 'sync': {
        this.acceptValues(now, msg.values, msg.from.id);
        if (msg.wantReply) this.onReplicaHoldings(now, msg.from.id, msg.range, msg.values);
        if (msg.wantReply) {
          const theirs = new Map(msg.values.map((v) => [slotKey(v), v.storageTime]));
          const missing = this.store
            .range(msg.range[0], msg.range[1], now)
            .filter((v) => (theirs.get(slotKey(v)) ?? -1) < v.storageTime);
          if (missing.length > 0)
            this.send(msg.from.id, {
              t: 'sync',
              from: this.me,
              range: msg.range,
              values: missing,
              wantReply: false,
            });
        }
        break;
      }
      case 'leave':
        this.acceptValues(now, msg.values, msg.from.id);
        if (this.table.setGone(msg.from, 'left', now)) this.ringChanged(now);
        this.gossip.push({ peer: msg.from, status: 'left' });
        this.emit({ type: 'peer-down', id: msg.from.id, reason: 'left' });
        break;
      case 'view-digest': {
        const mine = this.table.buckets;
        const differ: number[] = [];
        for (let b = 0; b < mine.length; b++) if (mine[b] !== msg.buckets[b]) differ.push(b);
        if (differ.length > 0) {
          const members = this.viewEvents(new Set(differ));
          this.send(msg.from.id, { t: 'view', from: this.me, buckets: differ, members, wantReply: true });
        }
        break;
      }
      case 'view':
        this.applyGossip(now, msg.members, msg.from.id, false);
        if (msg.wantReply) {
          const members = this.viewEvents(new Set(msg.buckets));
          this.send(msg.from.id, {
            t: 'view',
            from: this.me,
            buckets: msg.buckets,
            members,
            wantReply: false,
          });
        }
        break;
      case 'notify': {
        if (!this.ownWatches.has(msg.watchId)) break;
        this.emit({
          type: 'watch-notify',
          watchId: msg.watchId,
          resourceId: msg.resourceId,
          values: this.checked(now, msg.values, msg.from.id),
        });
        break;
      }
    }
    return this.flush();
  }

  // ---------------------------------------------------------------- user commands

  lookup(now: number, key: NodeId): { requestId: number; effects: OverlayEffect[] } {
    return this.request(now, key, { op: 'lookup' });
  }

  storeValues(now: number, values: StoredValue[]): { requestId: number; effects: OverlayEffect[] } {
    return this.request(now, values[0]?.resourceId ?? this.id, { op: 'store', values });
  }

  fetch(
    now: number,
    resourceId: ResourceId,
    kind?: KindName,
    key?: string,
  ): { requestId: number; effects: OverlayEffect[] } {
    return this.request(now, resourceId, { op: 'fetch', resourceId, kind, key, anyReplica: false });
  }

  stat(
    now: number,
    resourceId: ResourceId,
    kind?: KindName,
    key?: string,
  ): { requestId: number; effects: OverlayEffect[] } {
    return this.request(now, resourceId, { op: 'stat', resourceId, kind, key });
  }

  /** Registers a watch at the responsible peer and keeps it registered (refresh at half-life). */
  watch(
    now: number,
    resourceId: ResourceId,
    lifetime = 60_000,
  ): { watchId: number; requestId: number; effects: OverlayEffect[] } {
    this.now = now;
    const watchId = this.nextTx++;
    this.ownWatches.set(watchId, { resourceId, lifetime, refreshAt: now + lifetime / 2 });
    const r = this.request(now, resourceId, { op: 'watch', resourceId, watchId, lifetime });
    return { watchId, ...r };
  }

  unwatch(watchId: number): void {
    this.ownWatches.delete(watchId);
  }

  private request(
    now: number,
    key: NodeId,
    body: RequestOp,
  ): { requestId: number; effects: OverlayEffect[] } {
    this.now = now;
    const tx = this.nextTx++;
    const p: Pending = { tx, body, key, attempts: 0, maxAttempts: this.config.maxAttempts, deadline: 0 };
    this.pending.set(tx, p);
    this.sendRequest(now, p);
    return { requestId: tx, effects: this.flush() };
  }

  // ---------------------------------------------------------------- routing

  private sendJoin(now: number, p: Pending): void {
    p.attempts++;
    p.deadline = now + this.config.requestTimeoutMs;
    const to = this.bootstraps[(p.attempts - 1) % this.bootstraps.length];
    const msg: RequestMessage = {
      t: 'req',
      from: this.me,
      tx: p.tx,
      origin: this.me,
      key: this.id,
      ttl: this.config.ttl,
      via: [this.id],
      body: p.body,
    };
    this.out.push({ type: 'send', to, message: msg });
    this.count('req');
  }

  private sendRequest(now: number, p: Pending): void {
    p.attempts++;
    p.deadline = now + this.config.requestTimeoutMs;
    if (p.attempts > 2 && p.body.op === 'fetch') p.body = { ...p.body, anyReplica: true };
    const exclude = this.activeSuspects(now);
    const hop = this.table.nextHop(p.key, exclude);
    if (hop === this.id) {
      // Suspects (not yet declared dead) can hide the responsible peer and leave us as the next
      // live successor. An empty fetch answered from our own store would then look authoritative;
      // wait for the retry instead, by when the suspects are confirmed dead or alive again.
      const b = p.body;
      if (
        (b.op === 'fetch' || b.op === 'stat') &&
        !this.table.responsibleFor(p.key) &&
        this.store.get(b.resourceId, now, b.kind, b.key).length === 0
      ) {
        p.firstHop = undefined;
        return;
      }
      const body = this.execute(now, p.body, this.me, p.tx, 0);
      if (body) this.onAnswer(now, { t: 'ans', from: this.me, tx: p.tx, hops: 0, body });
      return;
    }
    p.firstHop = hop;
    this.send(hop, {
      t: 'req',
      from: this.me,
      tx: p.tx,
      origin: this.me,
      key: p.key,
      ttl: this.config.ttl,
      via: [this.id],
      body: p.body,
    });
  }

  private onRequest(now: number, msg: RequestMessage): void {
    if (msg.via.includes(this.id)) {
      this.emit({
        type: 'dropped',
        reason: 'loop',
        detail: `${msg.body.op} for ${msg.key} via ${msg.via.join('>')}`,
      });
      return;
    }
    if (msg.ttl <= 0) {
      this.emit({
        type: 'dropped',
        reason: 'ttl',
        detail: `${msg.body.op} for ${msg.key} after ${msg.via.length} hops`,
      });
      return;
    }
    if (msg.body.op === 'join' && this.table.get(msg.origin.id)?.status === 'alive') {
      // A (re)joining peer is not serving yet: its entry is stale until it is admitted again.
      this.table.forget(msg.origin.id);
      this.ringChanged(now);
    }
    const b = msg.body;
    const answerFromReplica =
      b.op === 'fetch' &&
      b.anyReplica &&
      this.table.holds(b.resourceId, this.config.replicas) &&
      this.store.get(b.resourceId, now, b.kind, b.key).length > 0;
    const hop = answerFromReplica ? this.id : this.table.nextHop(msg.key);
    if (hop === this.id) {
      const body = this.execute(now, msg.body, msg.origin, msg.tx, msg.via.length);
      if (body) this.answer(msg.origin, msg.tx, msg.via.length, body);
      const after = this.afterAnswer;
      this.afterAnswer = [];
      for (const run of after) run();
      return;
    }
    this.send(hop, { ...msg, from: this.me, ttl: msg.ttl - 1, via: [...msg.via, this.id] });
  }

  private answer(origin: PeerInfo, tx: number, hops: number, body: AnswerBody): void {
    const msg: AnswerMessage = { t: 'ans', from: this.me, tx, hops, body };
    if (origin.id === this.id) this.onAnswer(this.now, msg);
    else this.send(origin.id, msg, origin.address);
  }

  /** Runs an operation as the responsible peer; undefined when the answer comes later (store). */
  private execute(
    now: number,
    body: RequestOp,
    origin: PeerInfo,
    tx: number,
    hops: number,
  ): AnswerBody | undefined {
    switch (body.op) {
      case 'join':
        return this.admit(now, origin, this.sender === origin.id);
      case 'lookup':
        return { op: 'lookup' };
      case 'store':
        this.storeAsResponsible(now, body.values, origin, tx, hops);
        return undefined;
      case 'fetch':
        return { op: 'fetch', values: this.store.get(body.resourceId, now, body.kind, body.key) };
      case 'stat':
        return {
          op: 'stat',
          meta: this.store.get(body.resourceId, now, body.kind, body.key).map((v) => ({
            kind: v.kind,
            key: v.key,
            storageTime: v.storageTime,
            lifetime: v.lifetime,
            exists: v.exists,
            size: v.value.length,
          })),
        };
      case 'watch': {
        const reg: WatchRegistration = {
          resourceId: body.resourceId,
          watchId: body.watchId,
          watcher: origin,
          expires: now + body.lifetime,
        };
        this.holdWatch(reg);
        for (const s of this.table.successors().slice(0, this.config.replicas))
          this.send(s, { t: 'replicate', from: this.me, tx: 0, values: [], watches: [reg] });
        return { op: 'watch', expires: reg.expires };
      }
    }
  }

  private onAnswer(now: number, msg: AnswerMessage): void {
    const p = this.pending.get(msg.tx);
    if (!p) return;
    this.pending.delete(msg.tx);
    const b = msg.body;
    let result: RequestResult;
    switch (b.op) {
      case 'join':
        this.installJoin(now, msg.from, b);
        result = { ok: true, op: 'join', admittedBy: msg.from.id, hops: msg.hops };
        break;
      case 'lookup':
        result = { ok: true, op: 'lookup', responsible: msg.from.id, hops: msg.hops };
        break;
      case 'store':
        result = { ok: true, op: 'store', outcomes: b.outcomes, copies: b.copies, hops: msg.hops };
        if (p.handoff) this.finishHandoff(now, p.handoff);
        break;
      case 'fetch': {
        const values = this.checked(now, b.values, msg.from.id);
        result = { ok: true, op: 'fetch', values, hops: msg.hops, rejected: b.values.length - values.length };
        break;
      }
      case 'stat':
        result = { ok: true, op: 'stat', meta: b.meta, hops: msg.hops };
        break;
      case 'watch':
        result = { ok: true, op: 'watch', expires: b.expires, hops: msg.hops };
        break;
      case 'error':
        result = { ok: false, op: p.body.op, error: 'refused', reason: b.reason };
        break;
    }
    if (p.handoff) this.handoffsInFlight.delete(p.handoff.resourceId);
    if (!p.quiet && !p.handoff) this.emit({ type: 'result', requestId: p.tx, result });
  }

  private checkPending(now: number): void {
    for (const p of [...this.pending.values()]) {
      if (now < p.deadline) continue;
      if (p.firstHop) {
        this.suspects.set(p.firstHop, now + this.config.suspectMs);
        this.probe(now, p.firstHop);
      }
      if (p.attempts >= p.maxAttempts) {
        this.pending.delete(p.tx);
        if (p.handoff) this.handoffsInFlight.delete(p.handoff.resourceId);
        else if (!p.quiet) {
          const reason = `no answer after ${p.attempts} attempts`;
          this.emit({ type: 'warning', message: `${p.body.op} for ${p.key}: ${reason}` });
          this.emit({
            type: 'result',
            requestId: p.tx,
            result: { ok: false, op: p.body.op, error: 'timeout', reason },
          });
        }
        continue;
      }
      if (p.body.op === 'join' && !this.joinedFlag) this.sendJoin(now, p);
      else this.sendRequest(now, p);
    }
  }

  private pendingJoin(): boolean {
    for (const p of this.pending.values()) if (p.body.op === 'join') return true;
    return false;
  }

  private activeSuspects(now: number): Set<NodeId> | undefined {
    if (this.suspects.size === 0) return undefined;
    for (const [id, until] of this.suspects) if (until <= now) this.suspects.delete(id);
    return new Set(this.suspects.keys());
  }

  // ---------------------------------------------------------------- join

  private admit(now: number, joiner: PeerInfo, direct: boolean): AnswerBody {
    const preds = this.table.predecessors();
    const r = this.config.replicas;
    // The joiner takes our predecessors; it holds (its r-th predecessor, itself].
    const from = preds.length > r ? preds[r] : joiner.id;
    const [values, ...rest] = this.batches(this.store.range(from, joiner.id, now));
    // The answer carries the first batch; the rest follows it on the same link, in order.
    for (const batch of rest)
      this.afterAnswer.push(() =>
        this.send(
          joiner.id,
          { t: 'replicate', from: this.me, tx: 0, values: batch, watches: [] },
          joiner.address,
        ),
      );
    const watches: WatchRegistration[] = [];
    for (const [rid, regs] of this.heldWatches) {
      if (preds.length <= r || between(from, rid, joiner.id))
        watches.push(...regs.filter((w) => w.expires > now));
    }
    const view: PeerInfo[] = [this.me];
    for (const id of this.table.ring.toArray()) {
      if (id !== joiner.id) view.push(this.table.info(id)!);
    }
    if (direct) {
      if (this.table.setAlive(joiner, now)) this.ringChanged(now);
      this.gossip.push({ peer: joiner, status: 'alive' });
      this.emit({ type: 'peer-up', id: joiner.id });
    } else {
      // Forwarded: anyone could have written that origin. The joiner's first ping verifies it.
      this.learnCandidate(now, joiner, this.id);
    }
    return { op: 'join', view, values: values ?? [], watches };
  }

  private installJoin(now: number, admitter: PeerInfo, b: Extract<AnswerBody, { op: 'join' }>): void {
    // Only the admitter answered us directly; the rest of its view is verified one ping each.
    this.table.setAlive(admitter, now);
    this.becomeJoined(now, admitter.id);
    for (const p of b.view) if (p.id !== admitter.id) this.learnCandidate(now, p, admitter.id);
    this.acceptValues(now, b.values, admitter.id);
    for (const w of b.watches) this.holdWatch(w);
    const nb = this.neighbourInfos();
    for (const p of nb)
      this.send(p.id, { t: 'ping', from: this.me, g: this.takeGossip(), nb, wantPong: false });
  }

  private becomeJoined(now: number, admittedBy: NodeId): void {
    this.joinedFlag = true;
    this.gossip.push({ peer: this.me, status: 'alive' });
    this.nextKeepalive = now + this.random() * this.config.keepaliveMs;
    this.nextAntiEntropy = now + this.config.antiEntropyMs * (0.5 + this.random());
    this.nextViewSync = now + this.config.viewSyncMs * this.random();
    this.replicaKey = this.currentReplicaKey();
    this.emit({ type: 'joined', admittedBy });
  }

  // ---------------------------------------------------------------- membership

  private heard(now: number, peer: PeerInfo): void {
    const m = this.table.get(peer.id);
    this.probes.delete(peer.id);
    this.suspects.delete(peer.id);
    const claim = this.deathClaims.get(peer.id);
    if (claim) {
      this.deathClaims.delete(peer.id);
      this.emit({ type: 'false-claim', from: claim.from, about: peer.id, claim: claim.status });
    }
    const wasCandidate = this.candidates.delete(peer.id);
    this.unverifiable.delete(peer.id);
    if (m && m.status === 'alive') {
      m.lastHeard = now;
      if (peer.inc > m.inc) m.inc = peer.inc;
      m.address = peer.address;
      return;
    }
    const goneInc = m ? m.inc : -1;
    if (this.table.setAlive(peer, now)) {
      this.ringChanged(now);
      this.emit({ type: 'peer-up', id: peer.id });
    }
    if (m && peer.inc <= goneInc) {
      // It is alive but the overlay declared it dead: tell it, so it refutes with a higher incarnation.
      this.send(
        peer.id,
        { t: 'pong', from: this.me, g: [{ peer: { ...peer, inc: goneInc }, status: m.status }] },
        peer.address,
      );
    } else if (m || wasCandidate) {
      // Verified by this direct contact: now it is news worth spreading.
      this.gossip.push({ peer, status: 'alive' });
    }
  }

  /**
   * A member we heard of second-hand. It stays out of the ring (no routing, no listing, no gossip)
   * until it contacts us directly: the link layer has then checked that its certificate names it.
   */
  private learnCandidate(now: number, peer: PeerInfo, from: NodeId): void {
    if (peer.id === this.id) return;
    const c = this.candidates.get(peer.id);
    if (c) {
      if (peer.inc > c.peer.inc) c.peer = peer;
      return;
    }
    const until = this.unverifiable.get(peer.id);
    if (until !== undefined && until > now) return;
    if (this.candidates.size >= this.config.maxCandidates) return;
    const cand: Candidate = { peer, from, probedAt: 0, tries: 0 };
    this.candidates.set(peer.id, cand);
    if (this.candidates.size > 64) this.candidatesGrew = true;
    this.probeCandidate(now, cand);
  }

  private probeCandidate(now: number, c: Candidate): void {
    if (this.candidateBudget <= 0) return;
    this.candidateBudget--;
    c.probedAt = now;
    c.tries++;
    this.send(c.peer.id, { t: 'ping', from: this.me, g: [], nb: [], wantPong: true }, c.peer.address);
  }

  /** Re-pings silent candidates; gives up after `candidateTries` (and blames who told us). */
  private checkCandidates(now: number): void {
    if (this.candidates.size === 0 && this.candidatesGrew) {
      this.candidates = new Map();
      this.candidatesGrew = false;
    }
    const wait = 2 * this.config.probeTimeoutMs;
    for (const [id, c] of this.candidates) {
      if (this.candidateBudget <= 0) break;
      if (c.probedAt !== 0 && now - c.probedAt < wait) continue;
      if (c.tries >= this.config.candidateTries) {
        this.candidates.delete(id);
        if (this.unverifiable.size >= this.config.maxCandidates) this.unverifiable.clear();
        this.unverifiable.set(id, now + this.config.candidateRetryMs);
        this.emit({ type: 'false-claim', from: c.from, about: id, claim: 'alive' });
        continue;
      }
      this.probeCandidate(now, c);
    }
  }

  /** Our members (and ourselves) in the given ring buckets, as gossip events. */
  private viewEvents(buckets: ReadonlySet<number>): GossipEvent[] {
    const out: GossipEvent[] = buckets.has(bucketOf(this.id)) ? [{ peer: this.me, status: 'alive' }] : [];
    for (const m of this.table.membersIn(buckets)) out.push(memberEvent(m));
    return out;
  }

  /**
   * Applies membership news from `from`; `spread` re-queues what we verified (false for bulk view
   * merges). Second-hand news is never taken on trust: a new or returning member becomes a
   * candidate until it contacts us, a death claim about a live member triggers our own probe.
   */
  private applyGossip(now: number, events: GossipEvent[], from: NodeId, spread = true): void {
    let ringMoved = false;
    for (const ev of events) {
      const p = ev.peer;
      const m = this.table.get(p.id);
      // Fast path: nothing new (the common case when merging whole views).
      if (m !== undefined && m.status === ev.status && p.inc <= m.inc) continue;
      if (p.id === this.id) {
        if (ev.status !== 'alive' && p.inc >= this.inc) {
          this.inc = p.inc + 1;
          this.gossip.push({ peer: this.me, status: 'alive' });
        }
        continue;
      }
      if (ev.status === 'alive') {
        // A full (partial) view takes a stranger only now and then: each one costs an eviction.
        if (!m && this.table.liveCount >= this.config.maxView && this.random() >= 0.05) continue;
        if (!m || (m.status !== 'alive' && p.inc > m.inc)) this.learnCandidate(now, p, from);
        else if (p.inc > m.inc) m.inc = p.inc;
      } else if (!m) {
        // A death of a peer we never verified: nothing to act on.
      } else if (m.status === 'alive') {
        if (p.inc < m.inc) continue;
        // Believed only when our own probe fails (checkProbes then marks and gossips it).
        if (!this.deathClaims.has(p.id)) this.deathClaims.set(p.id, { from, status: ev.status });
        this.probe(now, p.id);
      } else if (p.inc > m.inc) {
        if (this.table.setGone(p, ev.status, now)) ringMoved = true;
        if (spread) this.gossip.push(ev);
      }
    }
    if (ringMoved) this.ringChanged(now);
  }

  /** CHORD-RELOAD Update content: a neighbour's neighbour set, verified before it fills our ring. */
  private learnNeighbours(now: number, nb: PeerInfo[], from: NodeId): void {
    for (const p of nb) {
      const m = this.table.get(p.id);
      if (m && (m.status === 'alive' || p.inc <= m.inc)) continue;
      this.learnCandidate(now, p, from);
    }
  }

  private neighbourInfos(): PeerInfo[] {
    const ids = new Set([...this.table.predecessors(), ...this.table.successors()]);
    const out: PeerInfo[] = [];
    for (const id of ids) out.push(this.table.info(id)!);
    return out;
  }

  private keepaliveTargets(): Set<NodeId> {
    const k = this.config.keepaliveTargets;
    return new Set([...this.table.predecessors().slice(0, k), ...this.table.successors().slice(0, k)]);
  }

  private gossipLimit(): number {
    return Math.ceil(this.config.gossipFactor * Math.log2(this.table.liveCount + 2));
  }

  private takeGossip(): GossipEvent[] {
    return this.gossip.take(this.gossipLimit());
  }

  private sendKeepalives(now: number): void {
    const targets = this.keepaliveTargets();
    const nb = this.neighbourInfos();
    for (const id of targets)
      this.send(id, { t: 'ping', from: this.me, g: this.takeGossip(), nb, wantPong: false });
    // One random member per period spreads membership news across the ring (epidemic, O(log N)).
    const r = this.table.randomLive(targets);
    if (r) this.send(r, { t: 'ping', from: this.me, g: this.takeGossip(), nb: [], wantPong: false });
    // One peer we believe gone: if it answers, a partition has healed and the rings merge.
    const gone = this.table.randomGone();
    if (gone && now - gone.since < this.config.deadRetentionMs) {
      this.send(
        gone.id,
        { t: 'ping', from: this.me, g: this.takeGossip(), nb: [], wantPong: true },
        gone.address,
      );
    }
  }

  private checkNeighbours(now: number): void {
    const targets = this.keepaliveTargets();
    for (const id of targets) {
      const m = this.table.get(id);
      if (!m) continue;
      if (!this.monitored.has(id)) m.lastHeard = Math.max(m.lastHeard, now);
      if (now - m.lastHeard > this.config.failAfterMs) this.probe(now, id);
    }
    this.monitored = targets;
  }

  private probe(now: number, id: NodeId): void {
    if (this.probes.has(id)) return;
    const m = this.table.get(id);
    if (m?.status !== 'alive') return;
    this.probes.set(id, now);
    // Two pings: one lost datagram must not declare a live peer dead.
    for (let i = 0; i < 2; i++) this.send(id, { t: 'ping', from: this.me, g: [], nb: [], wantPong: true });
  }

  private checkProbes(now: number): void {
    for (const [id, sentAt] of this.probes) {
      const m = this.table.get(id);
      if (m?.status !== 'alive' || m.lastHeard >= sentAt) {
        this.probes.delete(id);
        this.deathClaims.delete(id);
        continue;
      }
      if (now - sentAt < this.config.probeTimeoutMs) continue;
      this.probes.delete(id);
      this.deathClaims.delete(id);
      const peer = { id, address: m.address, inc: m.inc };
      if (this.table.setGone(peer, 'dead', now)) this.ringChanged(now);
      this.gossip.push({ peer, status: 'dead' });
      this.emit({ type: 'peer-down', id, reason: `no answer for ${now - m.lastHeard} ms` });
    }
  }

  private currentReplicaKey(): string {
    const preds = this.table.predecessors();
    return `${preds[0] ?? ''}|${this.table.successors().slice(0, this.config.replicas).join(',')}`;
  }

  /** The ring changed: when our range or our replica set moved, schedule a digest exchange. */
  private ringChanged(now: number): void {
    if (!this.joinedFlag) return;
    const key = this.currentReplicaKey();
    if (key === this.replicaKey) return;
    this.replicaKey = key;
    if (!this.syncDueAt) this.syncDueAt = now + this.config.syncDelayMs;
    // At once, not with the batched digests: a watcher waits for nothing else to see the change.
    this.handOffWatches(now);
  }

  // ---------------------------------------------------------------- records

  /** Validates and stores values; notifies watchers of resources we are responsible for. */
  private acceptValues(now: number, values: StoredValue[], from: NodeId): StoreOutcome[] {
    const outcomes: StoreOutcome[] = [];
    const changed = new Set<ResourceId>();
    for (const v of values) {
      // DEPOSIT decisions depend on the slot's current value (who wrote it, whether its owner
      // deleted it): without it a depositor could restore an entry the owner deleted.
      const existing =
        kindSpec(v.kind)?.policy === 'DEPOSIT'
          ? this.store.get(v.resourceId, now, v.kind, v.key)[0]
          : undefined;
      const check = this.validator.validate(v, now, existing);
      if (!check.ok) {
        this.emit({ type: 'invalid-value', from, reason: `${check.code}: ${check.reason}` });
        outcomes.push({ ok: false, code: check.code, reason: check.reason });
        continue;
      }
      if (v.storageTime + v.lifetime <= now) {
        outcomes.push({ ok: false, code: 'expired', reason: 'lifetime over' });
        continue;
      }
      // Only watched resources pay for the before/after comparison.
      const watched = this.heldWatches.has(v.resourceId);
      const before = watched ? this.store.get(v.resourceId, now, v.kind, v.key)[0] : undefined;
      const o = this.put(v, from);
      outcomes.push(o);
      if (watched && o.ok && (o.replaced || !before)) changed.add(v.resourceId);
    }
    for (const rid of changed) this.notifyWatchers(now, rid);
    return outcomes;
  }

  /**
   * The store's put; a store that throws (a full disk, a read-only folder) refuses this value with
   * the cause instead of failing the whole message: the writer gets the reason, we log it.
   */
  private put(v: StoredValue, from: NodeId): StoreOutcome {
    try {
      return this.store.put(v);
    } catch (e) {
      const cause = e instanceof Error ? e.message : String(e);
      this.emit({
        type: 'warning',
        message: `store failed: ${v.kind} ${v.resourceName} key ${v.key} from ${from}: ${cause}`,
      });
      return { ok: false, code: 'invalid', reason: `storage failed at ${this.id}: ${cause}` };
    }
  }

  /** Values split into messages of at most `transferBatchBytes` (estimated), in order. */
  private batches(values: StoredValue[]): StoredValue[][] {
    const out: StoredValue[][] = [];
    let cur: StoredValue[] = [];
    let bytes = 0;
    for (const v of values) {
      const size =
        v.value.length + v.signature.length + v.signer.certificate.length + v.resourceName.length + 256;
      if (cur.length > 0 && bytes + size > this.config.transferBatchBytes) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(v);
      bytes += size;
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  /** Store maintenance that may fail on a broken disk: logged, retried on the next round. */
  private guarded(what: string, run: () => unknown): void {
    try {
      run();
    } catch (e) {
      this.emit({
        type: 'warning',
        message: `store failed to ${what}: ${e instanceof Error ? e.message : e}`,
      });
    }
  }

  /** Values fetched from another peer pass the validator too; refused ones are logged and dropped. */
  private checked(now: number, values: StoredValue[], from: NodeId): StoredValue[] {
    return values.filter((v) => {
      const c = this.validator.validate(v, now);
      if (!c.ok) this.emit({ type: 'invalid-value', from, reason: `${c.code}: ${c.reason}` });
      return c.ok;
    });
  }

  private storeAsResponsible(
    now: number,
    values: StoredValue[],
    origin: PeerInfo,
    tx: number,
    hops: number,
  ): void {
    const outcomes = this.acceptValues(now, values, origin.id);
    // A writer's store older than what we hold is a replay (or a clock gone back): say so.
    outcomes.forEach((o, i) => {
      if (!o.ok && o.code === 'stale')
        this.emit({
          type: 'invalid-value',
          from: origin.id,
          reason: `stale: ${values[i].kind} ${values[i].resourceName}: ${o.reason}`,
        });
    });
    const accepted = values.filter((_, i) => outcomes[i].ok);
    const succs = this.table.successors().slice(0, this.config.replicas);
    if (accepted.length === 0 || succs.length === 0) {
      this.answer(origin, tx, hops, { op: 'store', outcomes, copies: accepted.length > 0 ? 1 : 0 });
      return;
    }
    const replTx = this.nextTx++;
    this.replicaWaits.set(replTx, {
      origin,
      tx,
      hops,
      outcomes,
      values: accepted,
      need: succs.length,
      acks: 0,
      deadline: now + this.config.replicaAckTimeoutMs,
    });
    for (const s of succs)
      this.send(s, { t: 'replicate', from: this.me, tx: replTx, values: accepted, watches: [] });
  }

  private onReplicateAck(now: number, tx: number, from: NodeId): void {
    const w = this.replicaWaits.get(tx);
    if (!w) return;
    this.confirmations.valuesStored(from, w.values, now);
    w.acks++;
    if (w.acks < w.need) return;
    this.replicaWaits.delete(tx);
    // A digest round soon tells the replicas the new figure (they show it in their status).
    if (!this.syncDueAt) this.syncDueAt = now + this.config.syncDelayMs;
    this.answer(w.origin, w.tx, w.hops, { op: 'store', outcomes: w.outcomes, copies: 1 + w.acks });
  }

  private checkReplicaWaits(now: number): void {
    for (const [tx, w] of this.replicaWaits) {
      if (now < w.deadline) continue;
      this.replicaWaits.delete(tx);
      this.emit({
        type: 'warning',
        message: `store answered with ${1 + w.acks} of ${1 + w.need} copies confirmed`,
      });
      this.answer(w.origin, w.tx, w.hops, { op: 'store', outcomes: w.outcomes, copies: 1 + w.acks });
    }
  }

  /**
   * Anti-entropy: our range's digest to our replicas; a mismatch starts a slot exchange, a match
   * is acknowledged and counts that replica as a copy of every record of the range.
   */
  private sendDigests(now: number): void {
    const range = this.ownRange();
    if (!range) return;
    const d = this.store.digest(range[0], range[1], now);
    const values = this.store.range(range[0], range[1], now);
    const replicas = this.replicaSet();
    this.confirmations.retain(replicas);
    let copies = this.config.replicas + 1;
    for (const v of values) copies = Math.min(copies, this.confirmations.copies(v, replicas, now));
    for (const s of replicas) {
      this.confirmations.digestSent(s, range, d.hash, values);
      this.send(s, { t: 'digest', from: this.me, range, count: d.count, hash: d.hash, copies });
    }
  }

  /** A replica listed its holdings of our range (it differed): count those; confirm the repair soon. */
  private onReplicaHoldings(now: number, from: NodeId, range: [NodeId, NodeId], values: StoredValue[]): void {
    const own = this.ownRange();
    if (!own || own[0] !== range[0] || own[1] !== range[1]) return;
    this.confirmations.holdingsListed(from, values, now);
    // Our reply carries what it lacked; a digest round shortly after confirms it now holds it.
    if (this.repairRounds < 3 && !this.syncDueAt) {
      this.repairRounds++;
      this.syncDueAt = now + this.config.syncDelayMs;
    }
  }

  /** (predecessor, self]: the records we are responsible for; undefined while alone. */
  private ownRange(): [NodeId, NodeId] | undefined {
    const preds = this.table.predecessors();
    return preds.length === 0 ? undefined : [preds[0], this.id];
  }

  private replicaSet(): NodeId[] {
    return this.table.successors().slice(0, this.config.replicas);
  }

  /**
   * Copies of a value we hold that the ring confirmed: as its responsible peer, ours plus the
   * current replicas that acknowledged it within the staleness bound; as a replica, the responsible
   * peer's last report for the range (at least our own copy).
   */
  copiesOf(now: number, v: SlotStamp): number {
    if (this.table.responsibleFor(v.resourceId)) return this.confirmations.copies(v, this.replicaSet(), now);
    return Math.max(1, this.reports.copies(v.resourceId, now) ?? 1);
  }

  /** Values outside (r-th predecessor, self] belong elsewhere (after joins or a healed split). */
  private handOffForeignValues(now: number): void {
    const preds = this.table.predecessors();
    const r = this.config.replicas;
    if (preds.length <= r) return;
    const foreign = this.store.range(this.id, preds[r], now);
    const byResource = new Map<ResourceId, StoredValue[]>();
    for (const v of foreign) {
      if (this.handoffsInFlight.has(v.resourceId)) continue;
      const list = byResource.get(v.resourceId);
      if (list) list.push(v);
      else if (byResource.size < this.config.handoffsPerRound) byResource.set(v.resourceId, [v]);
    }
    for (const [rid, values] of byResource) {
      this.handoffsInFlight.add(rid);
      const tx = this.nextTx++;
      const newest = Math.max(...values.map((v) => v.storageTime));
      const p: Pending = {
        tx,
        body: { op: 'store', values },
        key: rid,
        attempts: 0,
        maxAttempts: 2,
        deadline: 0,
        handoff: { resourceId: rid, newest },
      };
      this.pending.set(tx, p);
      this.sendRequest(now, p);
    }
  }

  private finishHandoff(now: number, h: { resourceId: ResourceId; newest: number }): void {
    if (this.table.holds(h.resourceId, this.config.replicas)) return;
    const current = this.store.get(h.resourceId, now);
    if (current.some((v) => v.storageTime > h.newest)) return;
    this.guarded('drop a handed-off range', () => this.store.dropRange(idBefore(h.resourceId), h.resourceId));
  }

  private housekeeping(now: number): void {
    this.guarded('expire records', () => this.store.expire(now));
    for (const [rid, regs] of this.heldWatches) {
      const live = regs.filter((w) => w.expires > now);
      if (live.length === 0) this.heldWatches.delete(rid);
      else this.heldWatches.set(rid, live);
    }
    this.table.forgetGoneBefore(now - this.config.deadRetentionMs);
  }

  // ---------------------------------------------------------------- watches

  /** Holds (or refreshes) a watch registration; true when it was new to us. */
  private holdWatch(reg: WatchRegistration): boolean {
    const regs = this.heldWatches.get(reg.resourceId) ?? [];
    const i = regs.findIndex((w) => w.watchId === reg.watchId && w.watcher.id === reg.watcher.id);
    if (i >= 0) regs[i] = reg;
    else regs.push(reg);
    this.heldWatches.set(reg.resourceId, regs);
    return i < 0;
  }

  /**
   * Watches of resources another peer is responsible for go to that peer. A join hands them over
   * in its answer, but when two rings merge (a healed split, peers that started apart and found
   * each other) nobody else would: the watcher would wait for its refresh and miss what changed.
   */
  private handOffWatches(now: number): void {
    const byTarget = new Map<NodeId, WatchRegistration[]>();
    for (const [rid, regs] of this.heldWatches) {
      if (this.table.responsibleFor(rid)) continue;
      const to = this.table.nextHop(rid);
      if (to === this.id) continue;
      const live = regs.filter((w) => w.expires > now);
      if (live.length === 0) continue;
      const list = byTarget.get(to);
      if (list) list.push(...live);
      else byTarget.set(to, live);
    }
    for (const [to, watches] of byTarget)
      this.send(to, { t: 'replicate', from: this.me, tx: 0, values: [], watches });
  }

  private notifyOne(now: number, w: WatchRegistration): void {
    const values = this.store.get(w.resourceId, now);
    if (values.length > 0 && w.expires > now) this.deliverNotify(w, values);
  }

  private notifyWatchers(now: number, rid: ResourceId): void {
    const regs = this.heldWatches.get(rid);
    if (!regs || !this.table.responsibleFor(rid)) return;
    const values = this.store.get(rid, now);
    for (const w of regs) if (w.expires > now) this.deliverNotify(w, values);
  }

  private deliverNotify(w: WatchRegistration, values: StoredValue[]): void {
    const rid = w.resourceId;
    if (w.watcher.id === this.id) {
      if (this.ownWatches.has(w.watchId))
        this.emit({ type: 'watch-notify', watchId: w.watchId, resourceId: rid, values });
      return;
    }
    this.send(
      w.watcher.id,
      { t: 'notify', from: this.me, watchId: w.watchId, resourceId: rid, values },
      w.watcher.address,
    );
  }

  private refreshOwnWatches(now: number): void {
    for (const [watchId, w] of this.ownWatches) {
      if (now < w.refreshAt) continue;
      w.refreshAt = now + w.lifetime / 2;
      const tx = this.nextTx++;
      const p: Pending = {
        tx,
        body: { op: 'watch', resourceId: w.resourceId, watchId, lifetime: w.lifetime },
        key: w.resourceId,
        attempts: 0,
        maxAttempts: this.config.maxAttempts,
        deadline: 0,
        quiet: true,
      };
      this.pending.set(tx, p);
      this.sendRequest(now, p);
    }
  }

  // ---------------------------------------------------------------- effects

  private send(to: NodeId, message: OverlayMessage, address?: Address): void {
    const addr = address ?? this.table.get(to)?.address;
    if (!addr) {
      this.emit({ type: 'warning', message: `no address for ${to}, ${message.t} not sent` });
      return;
    }
    this.count(message.t);
    this.out.push({ type: 'send', to: addr, toId: to, message });
  }

  private count(t: MessageType): void {
    this.sent[t] = (this.sent[t] ?? 0) + 1;
  }

  private emit(event: OverlayEvent): void {
    this.out.push({ type: 'event', event });
  }

  private timer(at: number): void {
    this.out.push({ type: 'set-timer', at });
  }

  private flush(): OverlayEffect[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}
