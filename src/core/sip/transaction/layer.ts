// The transaction layer (RFC 3261 section 17) as a sans-IO manager of all client and server
// transactions. Inputs: receive(), sendRequest(), sendResponse(), timerFired(), transportError().
// Outputs: a queue of effects (transmit, set-timer, cancel-timer) and TU events, read with poll().
//
// Timer ids are "<txId>/<timer>"; a set-timer with an id already armed replaces it. A timerFired()
// for an id that is no longer armed is ignored, so callers need not race cancellations.

import { type Address, isReliable, type Millis } from '../../net.ts';
import { createAckForNon2xx, createResponse } from '../build.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message.ts';
import { tagOf } from '../message.ts';
import {
  clientKey,
  clientKeyOfResponse,
  hasMagicCookie,
  legacyKey,
  responseAddress,
  serverKey,
} from './matching.ts';
import {
  type Action,
  INITIAL_ACTIONS,
  INITIAL_STATE,
  TABLES,
  type TimerName,
  type TransactionKind,
} from './tables.ts';

export interface TimerConfig {
  t1: Millis;
  t2: Millis;
  t4: Millis;
  /** Timer D for unreliable transports (RFC: at least 32 s). */
  timerD: Millis;
  /** Delay before an automatic 100 Trying to an INVITE (17.2.1: 200 ms); 0 = immediately. */
  tryingDelay: Millis;
}

export const DEFAULT_TIMERS: TimerConfig = { t1: 500, t2: 4000, t4: 5000, timerD: 32000, tryingDelay: 200 };

export type TransmitEffect = { type: 'transmit'; to: Address; message: SipMessage; txId?: string };
export type TimerEffect =
  | { type: 'set-timer'; id: string; at: Millis }
  | { type: 'cancel-timer'; id: string };

export type TransactionEvent =
  /** A new server transaction; `cancels` is the INVITE server transaction a CANCEL matches (or null). */
  | {
      type: 'request';
      txId: string;
      request: SipRequest;
      source: Address;
      replyTo: Address;
      cancels?: string | null;
    }
  /** An ACK matching no transaction: the end-to-end ACK for a 2xx (13.3.1.4). */
  | { type: 'ack'; request: SipRequest; source: Address }
  | { type: 'response'; txId: string; request: SipRequest; response: SipResponse }
  /** A response matching no client transaction (e.g. a retransmitted 2xx to INVITE, 17.1.1.2). */
  | { type: 'stray-response'; response: SipResponse; source: Address }
  | { type: 'timeout'; txId: string; request: SipRequest }
  | { type: 'transport-error'; txId: string; request: SipRequest }
  | { type: 'terminated'; txId: string; kind: TransactionKind };

export type TransactionEffect = TransmitEffect | TimerEffect | TransactionEvent;

export interface TransactionInfo {
  id: string;
  kind: TransactionKind;
  state: string;
  request: SipRequest;
  /** Client: where the request goes. Server: where responses go. */
  peer: Address;
  lastResponse: SipResponse | null;
}

interface Tx extends TransactionInfo {
  reliable: boolean;
  keys: string[];
  interval: Partial<Record<'A' | 'E' | 'G', Millis>>;
  armed: Set<TimerName>;
}

export class TransactionLayer {
  private readonly cfg: TimerConfig;
  private readonly out: TransactionEffect[] = [];
  private readonly byId = new Map<string, Tx>();
  private readonly byKey = new Map<string, Tx>();
  private readonly timers = new Map<string, { tx: Tx; name: TimerName }>();
  private seq = 0;

  constructor(timers: Partial<TimerConfig> = {}) {
    this.cfg = { ...DEFAULT_TIMERS, ...timers };
  }

  get config(): Readonly<TimerConfig> {
    return this.cfg;
  }

  poll(): TransactionEffect | undefined {
    return this.out.shift();
  }

  drain(): TransactionEffect[] {
    return this.out.splice(0);
  }

  get(txId: string): TransactionInfo | undefined {
    return this.byId.get(txId);
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Starts a client transaction for `request` and returns its id. ACK never has a transaction of
   * its own (17.1.1.3 / 13.2.2.4): it is transmitted statelessly and '' is returned.
   */
  sendRequest(request: SipRequest, to: Address, now: Millis): string {
    if (request.method === 'ACK') {
      this.sendStateless(request, to);
      return '';
    }
    const kind: TransactionKind = request.method === 'INVITE' ? 'invite-client' : 'non-invite-client';
    const branch = request.via[0]?.params.branch;
    const tx = this.create(kind, request, to, [
      clientKey(typeof branch === 'string' ? branch : '', request.method),
    ]);
    this.run(tx, INITIAL_ACTIONS[kind], now);
    return tx.id;
  }

  /** Sends the TU's response on a server transaction; false if the transaction is gone. */
  sendResponse(txId: string, response: SipResponse, now: Millis): boolean {
    const tx = this.byId.get(txId);
    if (!tx || (tx.kind !== 'invite-server' && tx.kind !== 'non-invite-server')) return false;
    const event =
      response.status < 200
        ? 'tu-provisional'
        : tx.kind === 'non-invite-server'
          ? 'tu-final'
          : response.status < 300
            ? 'tu-success'
            : 'tu-failure';
    return this.fire(tx, event, now, response);
  }

  /** Messages outside any transaction: ACK for 2xx, 2xx retransmissions by the UAS core. */
  sendStateless(message: SipMessage, to: Address): void {
    this.out.push({ type: 'transmit', to, message });
  }

  receive(msg: SipMessage, source: Address, now: Millis): void {
    if (msg.type === 'response') {
      const tx = this.byKey.get(clientKeyOfResponse(msg));
      if (!tx) {
        this.out.push({ type: 'stray-response', response: msg, source });
        return;
      }
      const s = msg.status;
      const event =
        s < 200 ? 'provisional' : tx.kind === 'non-invite-client' ? 'final' : s < 300 ? 'success' : 'failure';
      this.fire(tx, event, now, msg);
      return;
    }
    if (msg.method === 'ACK') {
      const tx = this.matchInviteServer(msg, true);
      if (tx) this.fire(tx, 'ack', now, msg);
      else this.out.push({ type: 'ack', request: msg, source });
      return;
    }
    const existing = this.matchServer(msg);
    if (existing) {
      this.fire(existing, 'request', now, msg);
      return;
    }
    const kind: TransactionKind = msg.method === 'INVITE' ? 'invite-server' : 'non-invite-server';
    const keys = hasMagicCookie(msg)
      ? [serverKey(msg)]
      : [`L|${legacyKey(msg)}|${tagOf(msg.to) ?? ''}|${msg.method}`];
    if (kind === 'invite-server' && !hasMagicCookie(msg)) keys.push(`LI|${legacyKey(msg)}`);
    const replyTo = msg.via[0] ? responseAddress(msg.via[0], source) : { ...source };
    const tx = this.create(kind, msg, replyTo, keys);
    const event: TransactionEvent = { type: 'request', txId: tx.id, request: msg, source, replyTo };
    if (msg.method === 'CANCEL') event.cancels = this.matchInviteServer(msg, false)?.id ?? null;
    this.out.push(event);
    this.run(tx, INITIAL_ACTIONS[kind], now);
  }

  timerFired(id: string, now: Millis): void {
    const t = this.timers.get(id);
    if (!t) return;
    this.timers.delete(id);
    t.tx.armed.delete(t.name);
    this.fire(t.tx, `timer-${t.name}`, now);
  }

  /** The transport could not deliver a message of this transaction (17.1.4 / 17.2.4). */
  transportError(txId: string, now: Millis): void {
    const tx = this.byId.get(txId);
    if (tx) this.fire(tx, 'transport-error', now);
  }

  /** Destroys a transaction at once (e.g. the TU gives up on an INVITE after CANCEL, 9.1). */
  terminate(txId: string): void {
    const tx = this.byId.get(txId);
    if (tx) this.destroy(tx);
  }

  // --- matching ---------------------------------------------------------------------------------

  private matchServer(req: SipRequest): Tx | undefined {
    if (hasMagicCookie(req)) return this.byKey.get(serverKey(req));
    return this.byKey.get(`L|${legacyKey(req)}|${tagOf(req.to) ?? ''}|${req.method}`);
  }

  /** The INVITE server transaction an ACK (for a non-2xx) or a CANCEL belongs to. */
  private matchInviteServer(req: SipRequest, isAck: boolean): Tx | undefined {
    if (hasMagicCookie(req)) {
      const tx = this.byKey.get(serverKey(req, 'INVITE'));
      return tx?.kind === 'invite-server' ? tx : undefined;
    }
    const tx = this.byKey.get(`LI|${legacyKey(req)}`);
    if (!tx) return undefined;
    // 17.2.3: a legacy ACK must also carry the To tag of the response the transaction sent.
    if (isAck && (tx.lastResponse === null || tagOf(tx.lastResponse.to) !== tagOf(req.to))) return undefined;
    return tx;
  }

  // --- the machine interpreter --------------------------------------------------------------------

  private create(kind: TransactionKind, request: SipRequest, peer: Address, keys: string[]): Tx {
    const id = `${kind.endsWith('client') ? 'c' : 's'}${++this.seq}`;
    const tx: Tx = {
      id,
      kind,
      state: INITIAL_STATE[kind],
      request,
      peer,
      lastResponse: null,
      reliable: isReliable(peer.transport),
      keys,
      interval: {},
      armed: new Set(),
    };
    this.byId.set(id, tx);
    for (const k of keys) this.byKey.set(k, tx);
    return tx;
  }

  private fire(tx: Tx, event: string, now: Millis, msg?: SipMessage): boolean {
    const tr = TABLES[tx.kind][tx.state]?.[event];
    if (!tr) return false;
    tx.state = tr.to;
    this.run(tx, tr.actions, now, msg);
    return true;
  }

  private run(tx: Tx, actions: readonly Action[], now: Millis, msg?: SipMessage): void {
    const immediate: TimerName[] = [];
    for (const a of actions) {
      const fired = this.act(tx, a, now, msg);
      if (fired) immediate.push(fired);
    }
    if (tx.state === 'terminated') {
      this.destroy(tx);
      return;
    }
    // Zero-length timers (D, I, J, K on reliable transports) fire right after the transition.
    for (const name of immediate) if (this.byId.has(tx.id)) this.fire(tx, `timer-${name}`, now);
  }

  /** Performs one action; returns a timer name that must fire immediately (duration 0). */
  private act(tx: Tx, a: Action, now: Millis, msg?: SipMessage): TimerName | null {
    const { t1, t2 } = this.cfg;
    switch (a) {
      case 'send-request':
        this.out.push({ type: 'transmit', to: tx.peer, message: tx.request, txId: tx.id });
        return null;
      case 'send-ack':
        if (msg?.type === 'response') {
          const ack = createAckForNon2xx(tx.request, msg);
          this.out.push({ type: 'transmit', to: tx.peer, message: ack, txId: tx.id });
        }
        return null;
      case 'pass-response':
        if (msg?.type === 'response')
          this.out.push({ type: 'response', txId: tx.id, request: tx.request, response: msg });
        return null;
      case 'send-response':
        if (msg?.type === 'response') {
          tx.lastResponse = msg;
          this.out.push({ type: 'transmit', to: tx.peer, message: msg, txId: tx.id });
        }
        return null;
      case 'resend-response':
        if (tx.lastResponse)
          this.out.push({ type: 'transmit', to: tx.peer, message: tx.lastResponse, txId: tx.id });
        return null;
      case 'send-trying':
        if (!tx.lastResponse) {
          tx.lastResponse = createResponse(tx.request, 100);
          this.out.push({ type: 'transmit', to: tx.peer, message: tx.lastResponse, txId: tx.id });
        }
        return null;
      case 'report-timeout':
        this.out.push({ type: 'timeout', txId: tx.id, request: tx.request });
        return null;
      case 'report-transport-error':
        this.out.push({ type: 'transport-error', txId: tx.id, request: tx.request });
        return null;
      case 'backoff-A':
        return this.arm(tx, 'A', (tx.interval.A = (tx.interval.A ?? t1) * 2), now);
      case 'backoff-E':
        return this.arm(tx, 'E', (tx.interval.E = Math.min((tx.interval.E ?? t1) * 2, t2)), now);
      case 'backoff-G':
        return this.arm(tx, 'G', (tx.interval.G = Math.min((tx.interval.G ?? t1) * 2, t2)), now);
      case 'E-at-T2':
        return this.arm(tx, 'E', (tx.interval.E = t2), now);
      default: {
        const [verb, name] = a.split('-') as ['start' | 'stop', TimerName];
        if (verb === 'stop') {
          this.disarm(tx, name);
          return null;
        }
        const d = this.initialDuration(tx, name);
        if (d === null) return null;
        if (name === 'A' || name === 'E' || name === 'G') tx.interval[name] = d;
        return this.arm(tx, name, d, now);
      }
    }
  }

  /** Initial timer durations (17.1.1.2, 17.1.2.2, 17.2.1, 17.2.2); null = not used on this transport. */
  private initialDuration(tx: Tx, name: TimerName): Millis | null {
    const { t1, t4, timerD, tryingDelay } = this.cfg;
    const r = tx.reliable;
    switch (name) {
      case 'A':
      case 'E':
      case 'G':
        return r ? null : t1;
      case 'B':
      case 'F':
      case 'H':
        return 64 * t1;
      case 'D':
        return r ? 0 : timerD;
      case 'I':
      case 'K':
        return r ? 0 : t4;
      case 'J':
        return r ? 0 : 64 * t1;
      case 'Trying':
        return tryingDelay;
    }
  }

  private arm(tx: Tx, name: TimerName, duration: Millis, now: Millis): TimerName | null {
    if (duration <= 0) {
      this.disarm(tx, name);
      return name;
    }
    const id = `${tx.id}/${name}`;
    this.timers.set(id, { tx, name });
    tx.armed.add(name);
    this.out.push({ type: 'set-timer', id, at: now + duration });
    return null;
  }

  private disarm(tx: Tx, name: TimerName): void {
    if (!tx.armed.delete(name)) return;
    const id = `${tx.id}/${name}`;
    this.timers.delete(id);
    this.out.push({ type: 'cancel-timer', id });
  }

  private destroy(tx: Tx): void {
    if (!this.byId.has(tx.id)) return;
    for (const name of [...tx.armed]) this.disarm(tx, name);
    tx.state = 'terminated';
    this.byId.delete(tx.id);
    for (const k of tx.keys) if (this.byKey.get(k) === tx) this.byKey.delete(k);
    this.out.push({ type: 'terminated', txId: tx.id, kind: tx.kind });
  }
}
