// A deterministic network simulator for the overlay: a virtual clock with an event queue, a seeded
// PRNG, per-link LAN latency, loss, partitions and crashes. Every peer runs the real OverlayNode;
// the same seed gives the same event order, so a trace hash reproduces a run exactly.
import type { Address } from '../../src/core/net.ts';
import { encodeFrame } from '../../src/core/overlay/frame.ts';
import { idFromSeed } from '../../src/core/overlay/ids.ts';
import type { MessageType, OverlayMessage } from '../../src/core/overlay/messages.ts';
import {
  type OverlayConfig,
  type OverlayEffect,
  type OverlayEvent,
  OverlayNode,
  type RequestResult,
} from '../../src/core/overlay/node.ts';
import { MemoryRecordStore } from '../../src/core/records/memory-store.ts';
import type { NodeId, RecordStore, ValueValidator } from '../../src/core/records/types.ts';

/** mulberry32: tiny, fast, good enough for simulation choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const acceptAllValidator: ValueValidator = { validate: () => ({ ok: true }) };

export interface SimOptions {
  seed: number;
  /** One-way latency range in ms (a switched office LAN). */
  latency?: [number, number];
  loss?: number;
  config?: Partial<OverlayConfig>;
  validator?: ValueValidator;
  /** Encode and decode every message as a frame (slower; proves the wire format end to end). */
  wire?: boolean;
}

export interface SimPeer {
  index: number;
  id: NodeId;
  address: Address;
  node: OverlayNode;
  store: RecordStore;
  up: boolean;
  results: Map<number, RequestResult>;
  events: OverlayEvent[];
  /** Generation: events scheduled for an earlier life of this peer are ignored. */
  life: number;
  timerAt: number;
}

interface SimEvent {
  at: number;
  seq: number;
  peer: number;
  life: number;
  from?: Address;
  fromPeer?: number;
  message?: OverlayMessage;
}

/** Binary min-heap on (at, seq). */
class EventQueue {
  private heap: SimEvent[] = [];
  get size(): number {
    return this.heap.length;
  }
  push(e: SimEvent): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  peek(): SimEvent | undefined {
    return this.heap[0];
  }
  pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export class SimNetwork {
  now = 0;
  readonly peers: SimPeer[] = [];
  readonly delivered: Partial<Record<MessageType, number>> = {};
  droppedByLoss = 0;
  droppedByPartition = 0;
  /** Event log hooks (e.g. to collect 'dropped' reasons). */
  onEvent?: (peer: SimPeer, event: OverlayEvent) => void;
  private readonly queue = new EventQueue();
  private seq = 0;
  private readonly rng: () => number;
  private readonly byHost = new Map<string, number>();
  private groups: Map<number, number> | null = null;
  private loss: number;
  private readonly latency: [number, number];
  private traceA = 0x811c9dc5;
  private traceB = 0x01000193;
  keepEvents = true;

  constructor(private readonly options: SimOptions) {
    this.rng = seededRandom(options.seed);
    this.loss = options.loss ?? 0;
    this.latency = options.latency ?? [0.2, 2];
  }

  setLoss(p: number): void {
    this.loss = p;
  }

  /** Peers in different groups cannot reach each other; peers not listed are in group 0. */
  partition(groups: number[][]): void {
    this.groups = new Map();
    groups.forEach((g, gi) => {
      for (const i of g) this.groups!.set(i, gi + 1);
    });
  }

  heal(): void {
    this.groups = null;
  }

  /** Adds a peer; it joins through `bootstrap` (a peer index) or forms the overlay when omitted. */
  addPeer(bootstrap?: number, opts: { id?: NodeId; store?: RecordStore } = {}): SimPeer {
    const index = this.peers.length;
    const address: Address = {
      transport: 'TCP',
      host: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
      port: 6084,
    };
    const id = opts.id ?? idFromSeed(`${this.options.seed}:${index}`);
    const store = opts.store ?? new MemoryRecordStore();
    const peer: SimPeer = {
      index,
      id,
      address,
      store,
      node: this.makeNode(id, address, store, index, 0),
      up: true,
      results: new Map(),
      events: [],
      life: 0,
      timerAt: -1,
    };
    this.peers.push(peer);
    this.byHost.set(address.host, index);
    this.apply(
      peer,
      peer.node.start(this.now, bootstrap === undefined ? [] : [this.peers[bootstrap].address]),
    );
    return peer;
  }

  private makeNode(
    id: NodeId,
    address: Address,
    store: RecordStore,
    index: number,
    life: number,
  ): OverlayNode {
    return new OverlayNode({
      id,
      address,
      store,
      validator: this.options.validator ?? acceptAllValidator,
      random: seededRandom((this.options.seed * 7919 + index * 104729 + life * 15485863) >>> 0),
      config: this.options.config,
    });
  }

  /** The peer stops at once; messages to it are lost. keepStore models a restart with its disk. */
  crash(index: number): void {
    const p = this.peers[index];
    p.up = false;
    p.life++;
    p.node.stop();
  }

  /** Restarts a crashed peer (same id, same store when it was kept, fresh routing state). */
  restart(index: number, bootstrap: number, keepStore = true): void {
    const p = this.peers[index];
    if (!keepStore) p.store = new MemoryRecordStore();
    p.life++;
    p.up = true;
    p.node = this.makeNode(p.id, p.address, p.store, index, p.life);
    this.apply(p, p.node.start(this.now, [this.peers[bootstrap].address]));
  }

  leave(index: number): void {
    const p = this.peers[index];
    this.apply(p, p.node.leave(this.now));
    p.up = false;
    p.life++;
  }

  /** Runs a user command on a peer and returns its request id (the result lands in peer.results). */
  command(
    index: number,
    run: (node: OverlayNode, now: number) => { requestId: number; effects: OverlayEffect[] },
  ): number {
    const p = this.peers[index];
    const r = run(p.node, this.now);
    this.apply(p, r.effects);
    return r.requestId;
  }

  /**
   * Sends a hand-made message as peer `from` (a misbehaving member: what it says is its choice,
   * but like the real links the network vouches for who sent it).
   */
  inject(from: number, to: number, message: OverlayMessage): void {
    this.transmit(this.peers[from], this.peers[to].address, message);
  }

  private apply(peer: SimPeer, effects: OverlayEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          this.transmit(peer, e.to, e.message);
          break;
        case 'set-timer':
          peer.timerAt = e.at;
          this.queue.push({ at: e.at, seq: this.seq++, peer: peer.index, life: peer.life });
          break;
        case 'close-link':
          peer.events.push({ type: 'warning', message: `close-link ${e.peer.host}: ${e.reason}` });
          break;
        case 'event':
          if (e.event.type === 'result') peer.results.set(e.event.requestId, e.event.result);
          else if (this.keepEvents) peer.events.push(e.event);
          this.onEvent?.(peer, e.event);
          break;
      }
    }
  }

  private transmit(from: SimPeer, to: Address, message: OverlayMessage): void {
    const target = this.byHost.get(to.host);
    if (target === undefined) return;
    if (this.loss > 0 && this.rng() < this.loss) {
      this.droppedByLoss++;
      return;
    }
    if (this.groups && (this.groups.get(from.index) ?? 0) !== (this.groups.get(target) ?? 0)) {
      this.droppedByPartition++;
      return;
    }
    const [lo, hi] = this.latency;
    // A fixed per-link base plus a little jitter.
    const base = lo + (((from.index * 2654435761 + target * 40503) >>> 0) % 1000) * ((hi - lo) / 1000);
    const at = this.now + base * (0.9 + 0.2 * this.rng());
    this.queue.push({
      at,
      seq: this.seq++,
      peer: target,
      life: this.peers[target].life,
      from: from.address,
      fromPeer: from.index,
      message,
    });
  }

  private step(e: SimEvent): void {
    this.now = e.at;
    const p = this.peers[e.peer];
    if (!p.up || e.life !== p.life) return;
    if (!e.message) {
      if (e.at !== p.timerAt) return;
      this.apply(p, p.node.tick(this.now));
      return;
    }
    this.delivered[e.message.t] = (this.delivered[e.message.t] ?? 0) + 1;
    this.traceA = mix(this.traceA, Math.floor(e.at * 1000)) ^ e.peer;
    this.traceB = mix(this.traceB, (e.fromPeer ?? 0) * 31 + e.message.t.length);
    const effects = this.options.wire
      ? p.node.receiveFrame(this.now, e.from!, encodeFrame(e.message))
      : p.node.receive(this.now, e.from!, e.message);
    this.apply(p, effects);
  }

  /** Runs the event queue until the clock reaches `until` (ms). */
  runUntil(until: number): void {
    for (;;) {
      const e = this.queue.peek();
      if (!e || e.at > until) break;
      this.step(this.queue.pop()!);
    }
    this.now = until;
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  /** Runs until `done()` holds (checked every `checkEveryMs`), or `maxMs` passed. Returns the time it held. */
  runUntilTrue(done: () => boolean, maxMs: number, checkEveryMs = 250): number | null {
    const end = this.now + maxMs;
    while (this.now < end) {
      if (done()) return this.now;
      this.runUntil(Math.min(end, this.now + checkEveryMs));
    }
    return done() ? this.now : null;
  }

  traceHash(): string {
    return `${(this.traceA >>> 0).toString(16).padStart(8, '0')}${(this.traceB >>> 0).toString(16).padStart(8, '0')}`;
  }

  livePeers(): SimPeer[] {
    return this.peers.filter((p) => p.up && p.node.joined);
  }

  /** Global truth: the live peers sorted by id (what every view should converge to). */
  trueRing(): SimPeer[] {
    return this.livePeers().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

function mix(h: number, x: number): number {
  h ^= x & 0xffff;
  h = Math.imul(h, 0x01000193);
  h ^= x >>> 16;
  return Math.imul(h, 0x01000193);
}

/** Binary search in a sorted ring: the first peer with id >= key, wrapping. */
export function successorIndex(ring: SimPeer[], key: NodeId): number {
  let lo = 0;
  let hi = ring.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ring[mid].id < key) lo = mid + 1;
    else hi = mid;
  }
  return lo === ring.length ? 0 : lo;
}

/** The peers that should hold key: responsible + `replicas` successors, by global truth. */
export function trueHolders(ring: SimPeer[], key: NodeId, replicas = 2): SimPeer[] {
  const i = successorIndex(ring, key);
  const out: SimPeer[] = [];
  for (let k = 0; k <= replicas && k < ring.length; k++) out.push(ring[(i + k) % ring.length]);
  return out;
}
