// The notifier side of SIP-specific event notification (RFC 6665) as a sans-IO machine on the
// transaction layer: SUBSCRIBE in (new, refresh, unsubscribe with Expires: 0, fetch), 200 and an
// immediate NOTIFY out, a NOTIFY with full state on every change of the watched resource, and
// expiry as a timer effect ("sub/<id>") that ends the subscription with reason=timeout.
//
// Packages are data: each names its body type and renders the app's state for one resource. The
// app feeds state with setState() and learns which resources are wanted from watch/unwatch events.
// One NOTIFY is outstanding per subscription; changes meanwhile collapse into the next one.

import type { Address, Millis, TransportName } from '../../net.ts';
import { createResponse, newBranch, type Random } from '../build.ts';
import {
  contactUri,
  createInDialogRequest,
  createUasDialog,
  type Dialog,
  dialogKeyOfRequest,
  receiveInDialog,
} from '../dialog/dialog.ts';
import {
  getHeader,
  getHeaders,
  type Header,
  type SipRequest,
  type SipResponse,
  textBody,
} from '../message.ts';
import { serializeUri } from '../serialize.ts';
import {
  type TimerConfig,
  type TimerEffect,
  type TransactionEvent,
  TransactionLayer,
  type TransmitEffect,
} from '../transaction/layer.ts';
import { uriToAddress } from '../ua/address.ts';
import {
  acceptsContentType,
  formatSubscriptionState,
  parseEventHeader,
  parseExpires,
  type SubscriptionStateValue,
  type TerminationReason,
} from './event-header.ts';

export interface PackageSpec {
  /** Event package name, lower case ('dialog', 'message-summary'). */
  name: string;
  contentType: string;
  /** Subscription duration when the SUBSCRIBE has no Expires, seconds. */
  defaultExpires: number;
  /** The NOTIFY body for `state` (undefined: not known yet); `version` counts this subscription's NOTIFYs from 0. */
  render(state: unknown, ctx: { entity: string; version: number; resource: string }): string;
}

export type AuthorizeResult =
  | { ok: true; resource: string; entity?: string }
  | { ok: false; status: number; reason?: string };

export interface NotifierConfig {
  /** Our address: Via sent-by and Contact. */
  host: string;
  port: number;
  transport: TransportName;
  packages: PackageSpec[];
  /** Shorter subscriptions get 423 with Min-Expires (seconds). */
  minExpires?: number;
  /** Longer ones are shortened to this (seconds). */
  maxExpires?: number;
  timers?: Partial<TimerConfig>;
  /** Whether this new SUBSCRIBE may be served, and which resource it watches. */
  authorize(request: SipRequest, pkg: string, source: Address): AuthorizeResult;
}

export type NotifierEvent =
  /** The first subscription to a resource: start feeding its state with setState(). */
  | { type: 'watch'; package: string; resource: string }
  /** The last one ended: stop feeding it. */
  | { type: 'unwatch'; package: string; resource: string }
  | { type: 'subscribed'; id: string; package: string; resource: string; expires: number }
  | { type: 'terminated'; id: string; package: string; resource: string; reason: string }
  | { type: 'warning'; message: string; context: Record<string, unknown> };

export type NotifierEffect = TransmitEffect | TimerEffect | NotifierEvent;

interface Subscription {
  id: string;
  spec: PackageSpec;
  resource: string;
  eventId: string | null;
  entity: string;
  dialog: Dialog;
  key: string;
  expiresAt: Millis;
  version: number;
  /** The NOTIFY transaction in flight, if any. */
  pending: string | null;
  /** State changed while a NOTIFY was in flight. */
  dirty: boolean;
  /** Set once the subscription ends: the last NOTIFY (terminated) is owed or sent. */
  ending: TerminationReason | null;
  /** The last body sent, rendered at version 0: a change that renders the same is not sent. */
  sentBody: string | null;
  /** A refresh asked for a NOTIFY (sent even when nothing changed). */
  forced: boolean;
}

const EXPIRY_PREFIX = 'sub/';
const ALLOW = 'SUBSCRIBE, OPTIONS';

export class SubscriptionNotifier {
  private readonly layer: TransactionLayer;
  private readonly out: NotifierEffect[] = [];
  private readonly packages = new Map<string, PackageSpec>();
  private readonly subs = new Map<string, Subscription>();
  private readonly byDialog = new Map<string, Subscription>();
  private readonly byTx = new Map<string, Subscription>();
  /** package\nresource -> the subscriptions watching it (live ones only). */
  private readonly watchers = new Map<string, Set<Subscription>>();
  private readonly states = new Map<string, { state: unknown; key: string }>();
  private readonly minExpires: number;
  private readonly maxExpires: number;
  private seq = 0;

  constructor(
    private readonly cfg: NotifierConfig,
    private readonly random: Random,
  ) {
    this.layer = new TransactionLayer(cfg.timers);
    for (const p of cfg.packages) this.packages.set(p.name, p);
    this.minExpires = cfg.minExpires ?? 60;
    this.maxExpires = Math.max(cfg.maxExpires ?? 3600, this.minExpires);
  }

  // --- host interface (SansIoMachine) ------------------------------------------------------------

  poll(): NotifierEffect | undefined {
    return this.out.shift();
  }

  drain(): NotifierEffect[] {
    return this.out.splice(0);
  }

  receive(msg: SipRequest | SipResponse, from: Address, now: Millis): void {
    this.layer.receive(msg, from, now);
    this.pump(now);
  }

  timerFired(id: string, now: Millis): void {
    if (id.startsWith(EXPIRY_PREFIX)) {
      const sub = this.subs.get(id.slice(EXPIRY_PREFIX.length));
      if (sub && !sub.ending) this.end(sub, 'timeout', now);
    } else this.layer.timerFired(id, now);
    this.pump(now);
  }

  transportError(txId: string, now: Millis): void {
    this.layer.transportError(txId, now);
    this.pump(now);
  }

  // --- the app's side ----------------------------------------------------------------------------------

  /** The current state of a resource; every subscription to it gets a NOTIFY when it changed. */
  setState(pkg: string, resource: string, state: unknown, now: Millis): void {
    const k = resourceKey(pkg, resource);
    const key = JSON.stringify(state) ?? 'undefined';
    if (this.states.get(k)?.key === key) return;
    this.states.set(k, { state, key });
    for (const sub of this.watchers.get(k) ?? []) this.notify(sub, now);
    this.pump(now);
  }

  /** Ends every subscription (shutdown): each gets a terminated NOTIFY. */
  terminateAll(reason: TerminationReason, now: Millis): void {
    for (const sub of [...this.subs.values()]) if (!sub.ending) this.end(sub, reason, now);
    this.pump(now);
  }

  /** Live subscriptions, for tests and leak checks. */
  get size(): number {
    return this.subs.size;
  }

  get transactions(): number {
    return this.layer.size;
  }

  /** Resources somebody watches now (package, resource). */
  watched(): Array<{ package: string; resource: string }> {
    return [...this.watchers.keys()].map((k) => {
      const [pkg, resource] = k.split('\n');
      return { package: pkg, resource };
    });
  }

  // --- requests --------------------------------------------------------------------------------------

  private pump(now: Millis): void {
    for (let e = this.layer.poll(); e; e = this.layer.poll()) {
      if (e.type === 'transmit' || e.type === 'set-timer' || e.type === 'cancel-timer') this.out.push(e);
      else this.onTransactionEvent(e, now);
    }
  }

  private onTransactionEvent(e: TransactionEvent, now: Millis): void {
    switch (e.type) {
      case 'request':
        this.onRequest(e.txId, e.request, e.source, now);
        break;
      case 'response':
        this.onNotifyResponse(e.txId, e.response, now);
        break;
      case 'timeout':
      case 'transport-error':
        this.onNotifyFailed(e.txId, e.type, now);
        break;
      default:
        break; // ACKs, stray responses, terminated transactions: nothing to do
    }
  }

  private onRequest(txId: string, req: SipRequest, source: Address, now: Millis): void {
    const reply = (status: number, reason?: string, headers?: Header[], toTag?: string) =>
      this.layer.sendResponse(
        txId,
        createResponse(req, status, reason, { headers, toTag: toTag ?? this.random() }),
        now,
      );
    const refuse = (status: number, why: string, headers?: Header[]) => {
      this.warn(`SUBSCRIBE refused: ${why}`, {
        status,
        from: serializeUri(req.from.uri),
        source: `${source.host}:${source.port}`,
        callId: req.callId,
      });
      reply(status, undefined, headers);
    };
    if (req.method === 'OPTIONS') return void reply(200, undefined, [{ name: 'Allow', value: ALLOW }]);
    if (req.method !== 'SUBSCRIBE') {
      this.warn('request other than SUBSCRIBE refused', { method: req.method, callId: req.callId });
      return void reply(405, undefined, [{ name: 'Allow', value: ALLOW }]);
    }
    const allowEvents = [{ name: 'Allow-Events', value: [...this.packages.keys()].join(', ') }];
    const event = parseEventHeader(getHeader(req, 'Event'));
    if (!event.ok) return void refuse(400, event.error);
    const spec = this.packages.get(event.value.package);
    if (!spec) return void refuse(489, `unknown event package "${event.value.package}"`, allowEvents);
    const expires = parseExpires(getHeader(req, 'Expires'), spec.defaultExpires);
    if (!expires.ok) return void refuse(400, expires.error);
    if (expires.value > 0 && expires.value < this.minExpires)
      return void refuse(423, `Expires ${expires.value} s too brief`, [
        { name: 'Min-Expires', value: String(this.minExpires) },
      ]);
    if (!acceptsContentType(getHeaders(req, 'Accept'), spec.contentType))
      return void refuse(406, `Accept does not admit ${spec.contentType}`, [
        { name: 'Accept', value: spec.contentType },
      ]);
    const seconds = Math.min(expires.value, this.maxExpires);
    const okHeaders = [
      { name: 'Contact', value: `<${this.ourUri()}>` },
      { name: 'Expires', value: String(seconds) },
      ...allowEvents,
    ];
    const dialogKey = dialogKeyOfRequest(req);
    if (dialogKey !== null) {
      // A refresh or unsubscribe inside an existing subscription dialog.
      const sub = this.byDialog.get(subKey(dialogKey, spec.name, event.value.id));
      if (!sub) return void refuse(481, 'no such subscription');
      const check = receiveInDialog(sub.dialog, req);
      if (!check.ok) return void refuse(check.status, check.reason);
      sub.dialog.remoteTarget = contactUri(req) ?? sub.dialog.remoteTarget; // SUBSCRIBE refreshes the target
      reply(200, undefined, okHeaders);
      if (seconds === 0) this.end(sub, 'timeout', now);
      else {
        this.arm(sub, now + seconds * 1000);
        this.notify(sub, now, true);
      }
      return;
    }
    if (!contactUri(req)) return void refuse(400, 'no Contact');
    const auth = this.cfg.authorize(req, spec.name, source);
    if (!auth.ok) return void refuse(auth.status, auth.reason ?? 'not authorized');
    const localTag = this.random();
    const dialog = createUasDialog(req, localTag, 'confirmed');
    const sub: Subscription = {
      id: `s${(++this.seq).toString(36)}`,
      spec,
      resource: auth.resource,
      eventId: event.value.id,
      entity: auth.entity ?? serializeUri({ ...req.to.uri, params: {}, headers: {} }),
      dialog,
      key: subKey(dialog.key, spec.name, event.value.id),
      expiresAt: now,
      version: 0,
      pending: null,
      dirty: false,
      ending: null,
      sentBody: null,
      forced: false,
    };
    reply(200, undefined, okHeaders, localTag);
    this.subs.set(sub.id, sub);
    this.byDialog.set(sub.key, sub);
    const k = resourceKey(spec.name, sub.resource);
    let set = this.watchers.get(k);
    if (!set) {
      set = new Set();
      this.watchers.set(k, set);
      this.out.push({ type: 'watch', package: spec.name, resource: sub.resource });
    }
    set.add(sub);
    this.out.push({
      type: 'subscribed',
      id: sub.id,
      package: spec.name,
      resource: sub.resource,
      expires: seconds,
    });
    if (seconds === 0)
      this.end(sub, 'timeout', now); // a fetch: one NOTIFY with the state, then done
    else {
      this.arm(sub, now + seconds * 1000);
      this.notify(sub, now);
    }
  }

  // --- NOTIFY ----------------------------------------------------------------------------------------

  private notify(sub: Subscription, now: Millis, force = false): void {
    if (sub.ending) return;
    if (sub.pending) {
      sub.dirty = true;
      sub.forced ||= force;
      return;
    }
    const unchanged = sub.sentBody !== null && this.render(sub, 0) === sub.sentBody;
    if (unchanged && !force && !sub.forced) return;
    sub.forced = false;
    const expires = Math.max(0, Math.ceil((sub.expiresAt - now) / 1000));
    this.sendNotify(sub, { state: 'active', expires }, now);
  }

  private sendNotify(sub: Subscription, state: SubscriptionStateValue, now: Millis): void {
    if (state.state === 'active') sub.sentBody = this.render(sub, 0);
    const body = this.render(sub, sub.version++);
    const { request, nextHop } = createInDialogRequest(sub.dialog, 'NOTIFY', {
      via: {
        protocol: 'SIP/2.0',
        transport: this.cfg.transport,
        host: this.cfg.host,
        port: this.cfg.port,
        params: { branch: newBranch(this.random) },
      },
      contact: `<${this.ourUri()}>`,
      headers: [
        { name: 'Event', value: sub.eventId === null ? sub.spec.name : `${sub.spec.name};id=${sub.eventId}` },
        { name: 'Subscription-State', value: formatSubscriptionState(state) },
      ],
      body: textBody(body),
      contentType: sub.spec.contentType,
    });
    const txId = this.layer.sendRequest(request, uriToAddress(nextHop, this.cfg.transport), now);
    sub.pending = txId;
    sub.dirty = false;
    this.byTx.set(txId, sub);
  }

  private render(sub: Subscription, version: number): string {
    const current = this.states.get(resourceKey(sub.spec.name, sub.resource))?.state;
    return sub.spec.render(current, { entity: sub.entity, version, resource: sub.resource });
  }

  private onNotifyResponse(txId: string, res: SipResponse, now: Millis): void {
    if (res.status < 200) return;
    const sub = this.byTx.get(txId);
    if (!sub) return;
    this.byTx.delete(txId);
    sub.pending = null;
    if (res.status >= 300) {
      // RFC 6665 4.2.2: a failed NOTIFY (481 above all) ends the subscription.
      this.warn('NOTIFY refused: subscription removed', {
        status: res.status,
        subscription: sub.id,
        resource: sub.resource,
      });
      this.forget(sub, 'rejected');
      return;
    }
    if (sub.ending) this.finish(sub, now);
    else if (sub.dirty) this.notify(sub, now);
  }

  private onNotifyFailed(txId: string, why: string, _now: Millis): void {
    const sub = this.byTx.get(txId);
    if (!sub) return;
    this.byTx.delete(txId);
    sub.pending = null;
    this.warn(`NOTIFY failed (${why}): subscription removed`, {
      subscription: sub.id,
      resource: sub.resource,
    });
    this.forget(sub, 'timeout');
  }

  // --- ending ----------------------------------------------------------------------------------------

  /** Ends a subscription: no more refreshes match it; its last NOTIFY says terminated. */
  private end(sub: Subscription, reason: TerminationReason, now: Millis): void {
    sub.ending = reason;
    this.out.push({ type: 'cancel-timer', id: EXPIRY_PREFIX + sub.id });
    this.release(sub);
    if (!sub.pending) this.finish(sub, now);
  }

  private finish(sub: Subscription, now: Millis): void {
    this.sendNotify(sub, { state: 'terminated', reason: sub.ending ?? 'timeout' }, now);
    // Its answer is not awaited: the client transaction retransmits on its own.
    this.byTx.delete(sub.pending ?? '');
    this.subs.delete(sub.id);
    this.out.push({
      type: 'terminated',
      id: sub.id,
      package: sub.spec.name,
      resource: sub.resource,
      reason: sub.ending ?? 'timeout',
    });
  }

  /** Drops a subscription without a further NOTIFY (its NOTIFYs fail). */
  private forget(sub: Subscription, reason: string): void {
    if (!sub.ending) this.out.push({ type: 'cancel-timer', id: EXPIRY_PREFIX + sub.id });
    this.release(sub);
    if (this.subs.delete(sub.id))
      this.out.push({
        type: 'terminated',
        id: sub.id,
        package: sub.spec.name,
        resource: sub.resource,
        reason,
      });
  }

  /** Unhooks a subscription from its dialog and resource (once). */
  private release(sub: Subscription): void {
    if (this.byDialog.get(sub.key) === sub) this.byDialog.delete(sub.key);
    const k = resourceKey(sub.spec.name, sub.resource);
    const set = this.watchers.get(k);
    if (!set?.delete(sub) || set.size > 0) return;
    this.watchers.delete(k);
    this.states.delete(k);
    this.out.push({ type: 'unwatch', package: sub.spec.name, resource: sub.resource });
  }

  private arm(sub: Subscription, at: Millis): void {
    sub.expiresAt = at;
    this.out.push({ type: 'set-timer', id: EXPIRY_PREFIX + sub.id, at });
  }

  private ourUri(): string {
    const t = this.cfg.transport === 'UDP' ? '' : `;transport=${this.cfg.transport.toLowerCase()}`;
    const host = this.cfg.host.includes(':') ? `[${this.cfg.host}]` : this.cfg.host;
    return `sip:${host}:${this.cfg.port}${t}`;
  }

  private warn(message: string, context: Record<string, unknown>): void {
    this.out.push({ type: 'warning', message, context });
  }
}

function resourceKey(pkg: string, resource: string): string {
  return `${pkg}\n${resource}`;
}

function subKey(dialogKey: string, pkg: string, eventId: string | null): string {
  return `${dialogKey}\n${pkg}\n${eventId ?? ''}`;
}
