// A sans-IO SIP user agent core (RFC 3261 sections 8, 9, 12-15) on top of the transaction layer.
//
// Inputs: receive(message, from, now), timerFired(id, now), transportError(txId, now) and app
// commands (call, accept, bye ...). Outputs, read with poll(): transmit and timer effects for the
// host, and UaEvents for the app. Timer ids starting with "ua/" belong to this core, every other
// id to the transaction layer; timerFired() routes both.

import type { Address, Millis } from '../../net.ts';
import {
  createCancel,
  createRequest,
  createResponse,
  createRetry,
  newBranch,
  newCallId,
  newTag,
  type Random,
} from '../build.ts';
import {
  applyTargetRefreshResponse,
  createInDialogRequest,
  createUacDialog,
  createUasDialog,
  type Dialog,
  dialogKey,
  dialogKeyOfRequest,
  dialogKeyOfResponse,
  receiveInDialog,
} from '../dialog/dialog.ts';
import {
  getHeader,
  getHeaders,
  type Header,
  type NameAddr,
  type SipRequest,
  type SipResponse,
  type SipUri,
  tagOf,
  type Via,
} from '../message.ts';
import { type TransactionEvent, TransactionLayer } from '../transaction/layer.ts';
import { uriToAddress } from './address.ts';
import { parseReplaces, type ReplacesTarget } from './replaces.ts';
import type {
  Authenticator,
  Body,
  CallEndReason,
  RequestOptions,
  UaConfig,
  UaEffect,
  UaEvent,
} from './types.ts';

const KNOWN_METHODS = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
]);
const CORE_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS'];
/** Option tags we implement (8.2.2.3): Replaces (RFC 3891). */
const SUPPORTED_OPTIONS = new Set(['replaces']);
/** Confirmed dialogs remembered after they end, so a late Replaces for one gets 603 (RFC 3891 3). */
const SUPPORTED: Header = { name: 'Supported', value: [...SUPPORTED_OPTIONS].join(', ') };
const ENDED_DIALOGS_KEPT = 64;

/** A call's dialog as seen by this UA: what an attended transfer puts in Refer-To (RFC 5589). */
export interface DialogInfo {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** The peer's Contact: where a request that replaces this dialog goes. */
  remoteTarget: SipUri;
  remoteUri: NameAddr;
  state: 'early' | 'confirmed' | 'terminated';
}

export interface CallOptions {
  /** To header (default: the target URI without display name). */
  to?: NameAddr;
  /** Next hop, when not resolved from the target URI (e.g. an outbound proxy). */
  destination?: Address;
  headers?: Header[];
  /** For a call placed without a body: returns the answer to the 2xx's offer, sent in the ACK. */
  answerOffer?: (response: SipResponse) => Body | null;
}

type CallState = 'calling' | 'proceeding' | 'incoming' | 'answered' | 'confirmed' | 'ended';

interface Pending2xx {
  response: SipResponse;
  to: Address;
  interval: Millis;
}

interface Call {
  id: string;
  direction: 'outgoing' | 'incoming';
  state: CallState;
  invite: SipRequest;
  inviteTx: string;
  /** Outgoing: next hop of the INVITE. Incoming: where responses go. */
  peer: Address;
  localTag: string;
  dialog: Dialog | null;
  cancelled: boolean;
  provisionalSeen: boolean;
  /** Last ACK for a 2xx we sent, resent when that 2xx is retransmitted. */
  ack: { request: SipRequest; to: Address } | null;
  pending2xx: Pending2xx | null;
  /** Our 2xx to the peer's latest INVITE, resent to INVITE retransmissions that outlive its transaction. */
  answer: SipResponse | null;
  byeAfterAck: boolean;
  /** Outgoing offerless INVITE: builds the answer carried by the ACK from the 2xx's offer. */
  answerOffer: ((response: SipResponse) => Body | null) | null;
  localReinvite: string | null; // client tx id
  remoteReinvite: { txId: string; request: SipRequest } | null;
  /** Outgoing: To tags of provisional responses (early dialogs a Replaces may name). */
  earlyTags: Set<string>;
  /** Incoming INVITE with Replaces: the call it replaces once confirmed (RFC 3891). */
  replaces: string | null;
  /** Set on the replaced call: the call that took its place. */
  replacedBy: string | null;
}

type ClientKind = 'invite' | 'cancel' | 'bye' | 'reinvite' | 'request';

interface ClientCtx {
  kind: ClientKind;
  requestId: string;
  request: SipRequest;
  to: Address;
  call: Call | null;
  authTried: boolean;
}

export class UserAgentCore {
  private readonly layer: TransactionLayer;
  private readonly out: UaEffect[] = [];
  private readonly calls = new Map<string, Call>();
  private readonly byDialog = new Map<string, Call>();
  private readonly byInviteTx = new Map<string, Call>();
  private readonly clients = new Map<string, ClientCtx>();
  private readonly appServerTx = new Map<string, { request: SipRequest; call: Call | null }>();
  private readonly uaTimers = new Set<string>();
  private readonly inDialogMethods: string[];
  private readonly appMethods: string[];
  private readonly acceptTypes: string[];
  private readonly endedDialogs: string[] = [];
  private callSeq = 0;

  constructor(
    readonly config: UaConfig,
    private readonly random: Random,
    private readonly authenticate: Authenticator | null = null,
  ) {
    this.layer = new TransactionLayer(config.timers);
    this.inDialogMethods = config.inDialogMethods ?? ['INFO', 'MESSAGE', 'REFER', 'NOTIFY'];
    this.appMethods = config.appMethods ?? [];
    this.acceptTypes = config.accept ?? ['application/sdp'];
  }

  // --- host interface ---------------------------------------------------------------------------

  poll(): UaEffect | undefined {
    return this.out.shift();
  }

  drain(): UaEffect[] {
    return this.out.splice(0);
  }

  receive(msg: SipRequest | SipResponse, from: Address, now: Millis): void {
    // 8.1.3.3: a response with more than one Via was not meant for us.
    if (msg.type === 'response' && msg.via.length !== 1) return;
    this.layer.receive(msg, from, now);
    this.pump(now);
  }

  timerFired(id: string, now: Millis): void {
    if (id.startsWith('ua/')) {
      if (this.uaTimers.delete(id)) this.onUaTimer(id, now);
    } else this.layer.timerFired(id, now);
    this.pump(now);
  }

  transportError(txId: string, now: Millis): void {
    this.layer.transportError(txId, now);
    this.pump(now);
  }

  /** A live call's dialog (null before it has one): the Replaces of an attended transfer names it. */
  dialogInfo(callId: string): DialogInfo | null {
    const d = this.calls.get(callId)?.dialog;
    if (!d) return null;
    const { callId: id, localTag, remoteTag, remoteTarget, remoteUri, state } = d;
    return { callId: id, localTag, remoteTag, remoteTarget, remoteUri, state };
  }

  /** Number of live calls and transactions, for leak checks. */
  get load(): { calls: number; transactions: number; timers: number } {
    return { calls: this.calls.size, transactions: this.layer.size, timers: this.uaTimers.size };
  }

  allowHeader(): string {
    return [...new Set([...CORE_METHODS, ...this.inDialogMethods, ...this.appMethods])].join(', ');
  }

  // --- app commands: calls --------------------------------------------------------------------

  /** Places a call; returns the call handle. `destination` overrides resolving the target URI. */
  call(target: SipUri, body: Body | null, now: Millis, opts: CallOptions = {}): string {
    const callId = newCallId(this.random, this.config.host);
    const localTag = newTag(this.random);
    const request = createRequest({
      method: 'INVITE',
      uri: target,
      from: { ...this.localIdentity(), params: { tag: localTag } },
      to: opts.to ?? { display: null, uri: target, params: {} },
      callId,
      cseq: { seq: 1, method: 'INVITE' },
      via: this.via(),
      headers: [...this.commonRequestHeaders(true), ...(opts.headers ?? [])],
      body: body?.body,
      contentType: body?.contentType,
    });
    const peer = opts.destination ?? uriToAddress(target, this.config.transport);
    const call = this.newCall('outgoing', request, peer, localTag);
    call.answerOffer = opts.answerOffer ?? null;
    call.inviteTx = this.startClient('invite', request, peer, now, call);
    this.byInviteTx.set(call.inviteTx, call);
    this.pump(now);
    return call.id;
  }

  /** Sends 180 Ringing (or another provisional) for an incoming call. */
  ringing(callId: string, now: Millis, status = 180): void {
    const call = this.calls.get(callId);
    if (call?.state !== 'incoming') return;
    const res = this.response(call.invite, status, call.localTag, [this.contactHeader()]);
    this.layer.sendResponse(call.inviteTx, res, now);
    this.pump(now);
  }

  /** Answers an incoming call with 200 and a body; retransmits the 200 until the ACK (13.3.1.4). */
  accept(callId: string, body: Body | null, now: Millis): void {
    const call = this.calls.get(callId);
    if (call?.state !== 'incoming' || !call.dialog) return;
    const res = this.response(call.invite, 200, call.localTag, this.answerHeaders(), body);
    this.layer.sendResponse(call.inviteTx, res, now);
    call.state = 'answered';
    call.answer = res;
    call.dialog.state = 'confirmed';
    this.start2xxRetransmission(call, res, call.peer, now);
    this.pump(now);
  }

  /** Rejects an incoming call with a final non-2xx (486, 603, 404 ...). */
  reject(callId: string, status: number, now: Millis, headers: Header[] = []): void {
    const call = this.calls.get(callId);
    if (call?.state !== 'incoming') return;
    this.layer.sendResponse(call.inviteTx, this.response(call.invite, status, call.localTag, headers), now);
    this.endCall(call, 'declined', status);
    this.pump(now);
  }

  /** Cancels an outgoing call not yet answered (9.1). CANCEL waits for the first provisional. */
  cancel(callId: string, now: Millis): void {
    const call = this.calls.get(callId);
    if (call?.direction !== 'outgoing' || call.cancelled) return;
    if (call.state !== 'calling' && call.state !== 'proceeding') return;
    call.cancelled = true;
    if (call.provisionalSeen) this.sendCancel(call, now);
    this.pump(now);
  }

  /** Ends a confirmed call with BYE (15.1.1). */
  bye(callId: string, now: Millis): void {
    const call = this.calls.get(callId);
    if (!call?.dialog) return;
    if (call.state === 'answered') {
      // 15.1.1: the callee waits for the ACK (or its give-up) before sending BYE.
      call.byeAfterAck = true;
      return;
    }
    if (call.state !== 'confirmed') return;
    this.sendBye(call, now);
    this.endCall(call, 'local-bye');
    this.pump(now);
  }

  /** Whatever ends the call in its current state: CANCEL, BYE, or 603 Decline. */
  hangup(callId: string, now: Millis): void {
    const call = this.calls.get(callId);
    if (!call) return;
    if (call.state === 'incoming') this.reject(callId, 603, now);
    else if (call.state === 'calling' || call.state === 'proceeding') this.cancel(callId, now);
    else this.bye(callId, now);
  }

  /** Sends a re-INVITE with a new body (session change); result in a reinvite-result event. */
  reinvite(callId: string, body: Body | null, now: Millis): boolean {
    const call = this.calls.get(callId);
    if (!call?.dialog || call.state !== 'confirmed' || call.localReinvite || call.remoteReinvite)
      return false;
    const { request, nextHop } = createInDialogRequest(call.dialog, 'INVITE', {
      via: this.via(),
      contact: this.contactHeader().value,
      headers: this.commonRequestHeaders(false),
      body: body?.body,
      contentType: body?.contentType,
    });
    call.localReinvite = this.startClient('reinvite', request, this.hop(nextHop), now, call);
    this.pump(now);
    return true;
  }

  /** Answers a re-INVITE from the peer (200 with a body, or e.g. 488). */
  answerReinvite(callId: string, status: number, body: Body | null, now: Millis): void {
    const call = this.calls.get(callId);
    const pending = call?.remoteReinvite;
    if (!call || !pending) return;
    call.remoteReinvite = null;
    const ok = status >= 200 && status < 300;
    const res = this.response(pending.request, status, call.localTag, ok ? this.answerHeaders() : [], body);
    if (ok) call.answer = res;
    const replyTo = this.layer.get(pending.txId)?.peer ?? call.peer;
    this.layer.sendResponse(pending.txId, res, now);
    if (ok) this.start2xxRetransmission(call, res, replyTo, now);
    this.pump(now);
  }

  // --- app commands: other requests ---------------------------------------------------------

  sendOptions(target: SipUri, now: Millis, destination?: Address): string {
    const headers: Header[] = [{ name: 'Accept', value: this.acceptTypes.join(', ') }];
    return this.sendRequest('OPTIONS', target, now, { headers }, destination);
  }

  /** An out-of-dialog request (OPTIONS, MESSAGE, REGISTER ...); the final response comes as a `response` event. */
  sendRequest(
    method: string,
    target: SipUri,
    now: Millis,
    opts: RequestOptions = {},
    destination?: Address,
  ): string {
    const request = createRequest({
      method,
      uri: target,
      from: { ...this.localIdentity(), params: { tag: newTag(this.random) } },
      to: { display: null, uri: target, params: {} },
      callId: newCallId(this.random, this.config.host),
      cseq: { seq: 1, method },
      via: this.via(),
      headers: [...this.commonRequestHeaders(false), ...(opts.headers ?? [])],
      body: opts.body,
      contentType: opts.contentType,
    });
    const id = this.startClient(
      'request',
      request,
      destination ?? uriToAddress(target, this.config.transport),
      now,
      null,
    );
    this.pump(now);
    return id;
  }

  /** A request inside a call's dialog (INFO, MESSAGE, REFER, NOTIFY ...). */
  sendInDialog(callId: string, method: string, now: Millis, opts: RequestOptions = {}): string | null {
    const call = this.calls.get(callId);
    if (!call?.dialog || call.state === 'ended') return null;
    const { request, nextHop } = createInDialogRequest(call.dialog, method, {
      via: this.via(),
      headers: [...this.commonRequestHeaders(false), ...(opts.headers ?? [])],
      body: opts.body,
      contentType: opts.contentType,
    });
    const id = this.startClient('request', request, this.hop(nextHop), now, call);
    this.pump(now);
    return id;
  }

  /** Answers a request handed to the app in a `request` event. */
  respond(
    requestId: string,
    status: number,
    now: Millis,
    opts: RequestOptions & { reason?: string } = {},
  ): boolean {
    const ctx = this.appServerTx.get(requestId);
    if (!ctx) return false;
    if (status >= 200) this.appServerTx.delete(requestId);
    const tag = ctx.call?.localTag ?? newTag(this.random);
    const body = opts.body && opts.contentType ? { body: opts.body, contentType: opts.contentType } : null;
    const res = this.response(ctx.request, status, tag, opts.headers ?? [], body, opts.reason);
    const sent = this.layer.sendResponse(requestId, res, now);
    this.pump(now);
    return sent;
  }

  // --- transaction-user events ------------------------------------------------------------------

  private pump(now: Millis): void {
    for (let e = this.layer.poll(); e; e = this.layer.poll()) {
      if (e.type === 'transmit' || e.type === 'set-timer' || e.type === 'cancel-timer') this.out.push(e);
      else this.onTransactionEvent(e, now);
    }
  }

  private emit(e: UaEvent): void {
    this.out.push(e);
  }

  private onTransactionEvent(e: TransactionEvent, now: Millis): void {
    switch (e.type) {
      case 'request':
        this.onRequest(e.txId, e.request, e.cancels ?? null, now);
        return;
      case 'ack':
        this.onAck(e.request, now);
        return;
      case 'response': {
        const ctx = this.clients.get(e.txId);
        if (ctx) this.onResponse(e.txId, ctx, e.response, now);
        return;
      }
      case 'stray-response':
        this.onStrayResponse(e.response, now);
        return;
      case 'timeout':
      case 'transport-error': {
        const ctx = this.clients.get(e.txId);
        // Server-side timeouts (timer H: no ACK for our non-2xx) need no action from the core.
        if (ctx) this.onClientFailure(ctx, e.type, now);
        return;
      }
      case 'terminated':
        this.clients.delete(e.txId);
        this.appServerTx.delete(e.txId);
        this.byInviteTx.delete(e.txId);
        return;
    }
  }

  private onRequest(txId: string, req: SipRequest, cancels: string | null, now: Millis): void {
    const reject = (status: number, headers: Header[] = []) =>
      this.layer.sendResponse(txId, this.response(req, status, newTag(this.random), headers), now);
    if (req.method === 'CANCEL') {
      this.onCancel(txId, req, cancels, now);
      return;
    }
    if (req.uri.scheme !== 'sip' && req.uri.scheme !== 'sips') {
      reject(416); // 8.2.2.1
      return;
    }
    const unsupported = getHeaders(req, 'Require')
      .flatMap((v) => v.split(','))
      .map((t) => t.trim())
      .filter((t) => t && !SUPPORTED_OPTIONS.has(t.toLowerCase()));
    if (unsupported.length > 0) {
      reject(420, [{ name: 'Unsupported', value: unsupported.join(', ') }]); // 8.2.2.3
      return;
    }
    const dialogKey = dialogKeyOfRequest(req);
    if (dialogKey !== null) {
      const call = this.byDialog.get(dialogKey);
      if (!call?.dialog) reject(481);
      else this.onInDialogRequest(txId, req, call, call.dialog, now);
      return;
    }
    if (req.method === 'INVITE') {
      const original = this.incomingCallOf(req);
      if (!original) this.onInvite(txId, req, now);
      // The INVITE server transaction ended with our 2xx, so a retransmission (our 2xx was lost)
      // opens a new one: answer it with the same 2xx instead of ringing twice. Otherwise it is a
      // merged request (8.2.2.2).
      else if (original.answer) this.layer.sendResponse(txId, original.answer, now);
      else this.layer.sendResponse(txId, this.response(req, 482, newTag(this.random)), now);
    } else if (req.method === 'OPTIONS') this.answerOptions(txId, req, now);
    else if (this.appMethods.includes(req.method)) {
      this.appServerTx.set(txId, { request: req, call: null });
      this.emit({ type: 'request', requestId: txId, request: req, call: null });
    } else if (req.method === 'BYE') reject(481);
    else this.rejectMethod(txId, req, now);
  }

  private incomingCallOf(req: SipRequest): Call | undefined {
    const tag = tagOf(req.from);
    for (const c of this.calls.values()) {
      const inv = c.invite;
      if (
        c.direction === 'incoming' &&
        inv.callId === req.callId &&
        tagOf(inv.from) === tag &&
        inv.cseq.seq === req.cseq.seq
      ) {
        return c;
      }
    }
    return undefined;
  }

  private rejectMethod(txId: string, req: SipRequest, now: Millis): void {
    const known = KNOWN_METHODS.has(req.method);
    const headers = known ? [{ name: 'Allow', value: this.allowHeader() }] : [];
    this.layer.sendResponse(txId, this.response(req, known ? 405 : 501, newTag(this.random), headers), now);
  }

  private answerOptions(txId: string, req: SipRequest, now: Millis): void {
    const headers: Header[] = [
      { name: 'Allow', value: this.allowHeader() },
      { name: 'Accept', value: this.acceptTypes.join(', ') },
    ];
    const call = this.byDialog.get(dialogKeyOfRequest(req) ?? '');
    this.layer.sendResponse(
      txId,
      this.response(req, 200, call?.localTag ?? newTag(this.random), headers),
      now,
    );
    this.emit({ type: 'options', request: req });
  }

  private onInvite(txId: string, req: SipRequest, now: Millis): void {
    const type = getHeader(req, 'Content-Type');
    if (
      req.body.length > 0 &&
      type !== undefined &&
      !this.acceptTypes.includes(type.split(';')[0].trim().toLowerCase())
    ) {
      const headers = [{ name: 'Accept', value: this.acceptTypes.join(', ') }];
      this.layer.sendResponse(txId, this.response(req, 415, newTag(this.random), headers), now);
      return;
    }
    const replaced = this.replacedCallOf(req);
    if (!replaced.ok) {
      const res = this.response(req, replaced.status, newTag(this.random), [], null, replaced.reason);
      this.layer.sendResponse(txId, res, now);
      return;
    }
    const localTag = newTag(this.random);
    const replyTo = this.layer.get(txId)?.peer ?? uriToAddress(req.uri, this.config.transport);
    const call = this.newCall('incoming', req, replyTo, localTag);
    call.state = 'incoming';
    call.inviteTx = txId;
    call.dialog = createUasDialog(req, localTag, 'early');
    call.replaces = replaced.call?.id ?? null;
    this.byDialog.set(call.dialog.key, call);
    this.byInviteTx.set(txId, call);
    const event: UaEvent = { type: 'incoming-call', call: call.id, request: req };
    if (call.replaces) event.replaces = call.replaces;
    this.emit(event);
  }

  /**
   * RFC 3891 section 3: the call an INVITE's Replaces header names, or the status refusing it.
   * Replaceable: a confirmed dialog (unless early-only) and an early dialog this UA initiated;
   * an early dialog we are answering is not (481), a dialog that just ended gets 603.
   */
  private replacedCallOf(
    req: SipRequest,
  ): { ok: true; call: Call | null } | { ok: false; status: number; reason?: string } {
    const values = getHeaders(req, 'Replaces');
    if (values.length === 0) return { ok: true, call: null };
    if (values.length > 1) return { ok: false, status: 400, reason: 'More Than One Replaces' };
    const parsed = parseReplaces(values[0]);
    if (!parsed.ok) return { ok: false, status: 400, reason: `Bad Replaces: ${parsed.error}` };
    const r = parsed.value;
    const key = dialogKey(r.callId, r.toTag, r.fromTag);
    const call = this.byDialog.get(key) ?? this.earlyOutgoingCall(r);
    if (!call) return { ok: false, status: this.endedDialogs.includes(key) ? 603 : 481 };
    if (call.state === 'incoming') return { ok: false, status: 481 };
    if (call.replacedBy || [...this.calls.values()].some((c) => c.replaces === call.id))
      return { ok: false, status: 603 };
    if (r.earlyOnly && (call.state === 'answered' || call.state === 'confirmed'))
      return { ok: false, status: 486 };
    return { ok: true, call };
  }

  private earlyOutgoingCall(r: ReplacesTarget): Call | undefined {
    for (const c of this.calls.values()) {
      if (
        c.direction === 'outgoing' &&
        (c.state === 'calling' || c.state === 'proceeding') &&
        c.invite.callId === r.callId &&
        c.localTag === r.toTag &&
        c.earlyTags.has(r.fromTag)
      )
        return c;
    }
    return undefined;
  }

  /** The replacing call is confirmed: end the replaced one, BYE if confirmed, CANCEL if early. */
  private completeReplacement(call: Call, now: Millis): void {
    const old = call.replaces ? this.calls.get(call.replaces) : undefined;
    call.replaces = null;
    if (!old || old.state === 'ended') return;
    old.replacedBy = call.id;
    if (old.state === 'calling' || old.state === 'proceeding') this.cancel(old.id, now);
    else this.bye(old.id, now);
  }

  /** 9.2: 200 to the CANCEL, 487 to the INVITE if it is still pending; 481 if nothing matches. */
  private onCancel(txId: string, req: SipRequest, cancels: string | null, now: Millis): void {
    const call = cancels === null ? undefined : this.byInviteTx.get(cancels);
    if (cancels === null) {
      this.layer.sendResponse(txId, this.response(req, 481, newTag(this.random)), now);
      return;
    }
    this.layer.sendResponse(txId, this.response(req, 200, call?.localTag ?? newTag(this.random)), now);
    if (call && call.state === 'incoming') {
      this.layer.sendResponse(call.inviteTx, this.response(call.invite, 487, call.localTag), now);
      this.endCall(call, 'cancelled');
    }
  }

  private onInDialogRequest(txId: string, req: SipRequest, call: Call, dialog: Dialog, now: Millis): void {
    if (req.method === 'INVITE' && call.answer?.cseq.seq === req.cseq.seq) {
      // A re-INVITE retransmitted after our 2xx ended its transaction: the 2xx was lost.
      this.layer.sendResponse(txId, call.answer, now);
      return;
    }
    const check = receiveInDialog(dialog, req);
    if (!check.ok) {
      this.layer.sendResponse(
        txId,
        this.response(req, check.status, call.localTag, [], null, check.reason),
        now,
      );
      return;
    }
    switch (req.method) {
      case 'BYE':
        this.layer.sendResponse(txId, this.response(req, 200, call.localTag), now);
        if (call.state === 'incoming') {
          this.layer.sendResponse(call.inviteTx, this.response(call.invite, 487, call.localTag), now);
        }
        this.endCall(call, 'remote-bye');
        return;
      case 'INVITE':
        if (call.localReinvite) {
          this.layer.sendResponse(txId, this.response(req, 491, call.localTag), now); // 14.2 glare
        } else if (call.remoteReinvite || call.pending2xx || call.state !== 'confirmed') {
          const retry = [{ name: 'Retry-After', value: '1' }];
          this.layer.sendResponse(txId, this.response(req, 500, call.localTag, retry), now);
        } else {
          call.remoteReinvite = { txId, request: req };
          this.emit({ type: 'reinvite', call: call.id, request: req });
        }
        return;
      case 'OPTIONS':
        this.answerOptions(txId, req, now);
        return;
      default:
        if (this.inDialogMethods.includes(req.method) || this.appMethods.includes(req.method)) {
          this.appServerTx.set(txId, { request: req, call });
          this.emit({ type: 'request', requestId: txId, request: req, call: call.id });
        } else this.rejectMethod(txId, req, now);
    }
  }

  /** The end-to-end ACK for a 2xx we sent (13.3.1.4). */
  private onAck(req: SipRequest, now: Millis): void {
    const call = this.byDialog.get(dialogKeyOfRequest(req) ?? '');
    if (!call?.dialog || !call.pending2xx || call.pending2xx.response.cseq.seq !== req.cseq.seq) return;
    receiveInDialog(call.dialog, req);
    this.stop2xxRetransmission(call);
    if (call.state === 'answered') {
      call.state = 'confirmed';
      this.emit({ type: 'call-answered', call: call.id, message: req });
      if (call.replaces) this.completeReplacement(call, now);
      if (call.byeAfterAck) this.bye(call.id, now);
    }
  }

  private onResponse(txId: string, ctx: ClientCtx, res: SipResponse, now: Millis): void {
    if ((res.status === 401 || res.status === 407) && this.retryWithAuth(txId, ctx, res, now)) return;
    const call = ctx.call;
    switch (ctx.kind) {
      case 'invite':
        if (call) this.onInviteResponse(call, res, now);
        return;
      case 'reinvite':
        if (!call || res.status < 200) return;
        call.localReinvite = null;
        if (res.status < 300 && call.dialog) {
          applyTargetRefreshResponse(call.dialog, res);
          this.sendAck(call, call.dialog, res);
        }
        this.emit({ type: 'reinvite-result', call: call.id, status: res.status, response: res });
        if (res.status === 481 || res.status === 408) this.endCall(call, 'dialog-gone', res.status);
        return;
      case 'request':
        if (res.status < 200) return;
        this.emit({ type: 'response', requestId: ctx.requestId, request: ctx.request, response: res });
        if (call && (res.status === 481 || res.status === 408)) this.endCall(call, 'dialog-gone', res.status);
        return;
      default:
        return; // responses to CANCEL and BYE need no action
    }
  }

  private onInviteResponse(call: Call, res: SipResponse, now: Millis): void {
    if (res.status < 200) {
      if (call.state === 'ended') return;
      if (res.status > 100) {
        if (call.state === 'calling') call.state = 'proceeding';
        const tag = tagOf(res.to);
        if (tag) call.earlyTags.add(tag);
        this.emit({ type: 'call-progress', call: call.id, status: res.status, response: res });
      }
      if (!call.provisionalSeen) {
        call.provisionalSeen = true;
        if (call.cancelled) this.sendCancel(call, now);
      }
      return;
    }
    if (res.status < 300) {
      this.on2xxToInvite(call, res, now);
      return;
    }
    if (call.state !== 'ended')
      this.endCall(call, call.cancelled ? 'cancelled' : 'rejected', res.status, res);
  }

  private on2xxToInvite(call: Call, res: SipResponse, now: Millis): void {
    const dialog = createUacDialog(call.invite, res);
    if (!dialog) return;
    const forked = call.dialog !== null && call.dialog.key !== dialog.key;
    if (call.state === 'ended' || call.cancelled || forked) {
      // 13.2.2.4: a late or forked 2xx must still be ACKed; we then leave that dialog with BYE.
      this.sendAck(call, dialog, res);
      const { request, nextHop } = createInDialogRequest(dialog, 'BYE', { via: this.via() });
      this.startClient('bye', request, this.hop(nextHop), now, null);
      if (call.cancelled) this.endCall(call, 'cancelled');
      return;
    }
    call.dialog = dialog;
    this.byDialog.set(dialog.key, call);
    call.state = 'confirmed';
    // 13.2.2.4: an INVITE without an offer gets the offer in the 2xx and answers in the ACK.
    const answer = call.invite.body.length === 0 && call.answerOffer ? call.answerOffer(res) : null;
    this.sendAck(call, dialog, res, answer);
    this.emit({ type: 'call-answered', call: call.id, message: res });
  }

  /** A response with no client transaction: a retransmitted 2xx means our ACK was lost. */
  private onStrayResponse(res: SipResponse, now: Millis): void {
    if (res.cseq.method !== 'INVITE' || res.status < 200 || res.status >= 300) return;
    const call = this.byDialog.get(dialogKeyOfResponse(res) ?? '');
    if (call?.ack && call.ack.request.cseq.seq === res.cseq.seq) {
      this.layer.sendStateless(call.ack.request, call.ack.to);
      return;
    }
    // A 2xx from another fork of our INVITE, after the transaction ended on the first 2xx.
    for (const c of this.calls.values()) {
      if (
        c.direction === 'outgoing' &&
        c.invite.callId === res.callId &&
        c.localTag === tagOf(res.from) &&
        c.invite.cseq.seq === res.cseq.seq
      ) {
        this.on2xxToInvite(c, res, now);
        return;
      }
    }
  }

  private onClientFailure(ctx: ClientCtx, reason: 'timeout' | 'transport-error', _now: Millis): void {
    const call = ctx.call;
    if (ctx.kind === 'invite' && call && call.state !== 'ended') {
      this.endCall(call, call.cancelled ? 'cancelled' : reason);
    } else if (ctx.kind === 'reinvite' && call) {
      call.localReinvite = null;
      this.emit({ type: 'reinvite-result', call: call.id, status: 408, response: null });
      this.endCall(call, 'dialog-gone', 408);
    } else if (ctx.kind === 'request') {
      this.emit({ type: 'request-failed', requestId: ctx.requestId, reason });
      if (call) this.endCall(call, 'dialog-gone', 408);
    }
  }

  private retryWithAuth(txId: string, ctx: ClientCtx, res: SipResponse, now: Millis): boolean {
    if (!this.authenticate || ctx.authTried || ctx.kind === 'cancel') return false;
    const header = this.authenticate(res, ctx.request);
    if (!header) return false;
    const call = ctx.call;
    const seq = call?.dialog && ctx.kind !== 'invite' ? ++call.dialog.localSeq : ctx.request.cseq.seq + 1;
    const retry = createRetry(ctx.request, newBranch(this.random), seq, [header]);
    const newTx = this.layer.sendRequest(retry, ctx.to, now);
    this.clients.set(newTx, { ...ctx, request: retry, authTried: true });
    this.clients.delete(txId);
    if (call && ctx.kind === 'invite') {
      call.invite = retry;
      call.inviteTx = newTx;
      call.provisionalSeen = false;
      this.byInviteTx.set(newTx, call);
    }
    if (call && ctx.kind === 'reinvite') call.localReinvite = newTx;
    return true;
  }

  // --- helpers --------------------------------------------------------------------------------

  private newCall(direction: Call['direction'], invite: SipRequest, peer: Address, localTag: string): Call {
    const call: Call = {
      id: `call-${++this.callSeq}`,
      direction,
      state: direction === 'outgoing' ? 'calling' : 'incoming',
      invite,
      inviteTx: '',
      peer,
      localTag,
      dialog: null,
      cancelled: false,
      provisionalSeen: false,
      ack: null,
      pending2xx: null,
      answer: null,
      byeAfterAck: false,
      answerOffer: null,
      localReinvite: null,
      remoteReinvite: null,
      earlyTags: new Set(),
      replaces: null,
      replacedBy: null,
    };
    this.calls.set(call.id, call);
    return call;
  }

  private endCall(call: Call, reason: CallEndReason, status?: number, response?: SipResponse): void {
    if (call.state === 'ended') return;
    call.state = 'ended';
    this.stop2xxRetransmission(call);
    this.cancelUaTimer(`ua/cancel/${call.id}`);
    this.calls.delete(call.id);
    if (call.dialog && this.byDialog.get(call.dialog.key) === call) this.byDialog.delete(call.dialog.key);
    if (call.dialog?.state === 'confirmed') {
      this.endedDialogs.push(call.dialog.key);
      if (this.endedDialogs.length > ENDED_DIALOGS_KEPT) this.endedDialogs.shift();
    }
    if (call.dialog) call.dialog.state = 'terminated';
    const event: UaEvent = { type: 'call-ended', call: call.id, reason };
    if (call.replacedBy) event.replacedBy = call.replacedBy;
    if (status !== undefined) event.status = status;
    if (response) event.response = response;
    this.emit(event);
  }

  private startClient(
    kind: ClientKind,
    request: SipRequest,
    to: Address,
    now: Millis,
    call: Call | null,
  ): string {
    const txId = this.layer.sendRequest(request, to, now);
    this.clients.set(txId, { kind, requestId: txId, request, to, call, authTried: false });
    return txId;
  }

  private sendCancel(call: Call, now: Millis): void {
    this.startClient('cancel', createCancel(call.invite), call.peer, now, call);
    // 9.1: if the INVITE gets no final response within 64*T1 of the CANCEL, give up on it.
    this.setUaTimer(`ua/cancel/${call.id}`, now + 64 * this.layer.config.t1);
  }

  private sendBye(call: Call, now: Millis): void {
    if (!call.dialog) return;
    const { request, nextHop } = createInDialogRequest(call.dialog, 'BYE', {
      via: this.via(),
      headers: this.commonRequestHeaders(false),
    });
    this.startClient('bye', request, this.hop(nextHop), now, null);
  }

  private sendAck(call: Call, dialog: Dialog, res: SipResponse, body: Body | null = null): void {
    const { request, nextHop } = createInDialogRequest(dialog, 'ACK', {
      via: this.via(),
      seq: res.cseq.seq,
      body: body?.body,
      contentType: body?.contentType,
    });
    const to = this.hop(nextHop);
    if (dialog.key === call.dialog?.key) call.ack = { request, to };
    this.layer.sendStateless(request, to);
  }

  /** 13.3.1.4: the UAS core retransmits its 2xx (T1 doubling to T2) until the ACK or 64*T1. */
  private start2xxRetransmission(call: Call, response: SipResponse, to: Address, now: Millis): void {
    const { t1 } = this.layer.config;
    call.pending2xx = { response, to, interval: t1 };
    this.setUaTimer(`ua/2xx/${call.id}`, now + t1);
    this.setUaTimer(`ua/2xx-giveup/${call.id}`, now + 64 * t1);
  }

  private stop2xxRetransmission(call: Call): void {
    call.pending2xx = null;
    this.cancelUaTimer(`ua/2xx/${call.id}`);
    this.cancelUaTimer(`ua/2xx-giveup/${call.id}`);
  }

  private onUaTimer(id: string, now: Millis): void {
    const [, kind, callId] = id.split('/');
    const call = this.calls.get(callId);
    if (!call) return;
    const { t2 } = this.layer.config;
    if (kind === '2xx' && call.pending2xx) {
      const p = call.pending2xx;
      this.layer.sendStateless(p.response, p.to);
      p.interval = Math.min(p.interval * 2, t2);
      this.setUaTimer(id, now + p.interval);
    } else if (kind === '2xx-giveup' && call.pending2xx) {
      // 13.3.1.4: no ACK within 64*T1: confirm the dialog and tear it down with BYE.
      this.stop2xxRetransmission(call);
      call.state = 'confirmed';
      this.sendBye(call, now);
      this.endCall(call, 'no-ack');
    } else if (kind === 'cancel' && (call.state === 'calling' || call.state === 'proceeding')) {
      this.layer.terminate(call.inviteTx);
      this.endCall(call, 'cancelled');
    }
  }

  private setUaTimer(id: string, at: Millis): void {
    this.uaTimers.add(id);
    this.out.push({ type: 'set-timer', id, at });
  }

  private cancelUaTimer(id: string): void {
    if (this.uaTimers.delete(id)) this.out.push({ type: 'cancel-timer', id });
  }

  private hop(uri: SipUri): Address {
    return uriToAddress(uri, this.config.transport);
  }

  private via(): Via {
    return {
      protocol: 'SIP/2.0',
      transport: this.config.transport,
      host: this.config.host,
      port: this.config.port,
      params: { branch: newBranch(this.random), rport: null },
    };
  }

  private localIdentity(): NameAddr {
    const c = this.config;
    const uri: SipUri = {
      scheme: 'sip',
      user: c.user,
      password: null,
      host: c.domain ?? c.host,
      port: c.domain ? null : c.port,
      params: {},
      headers: {},
    };
    return { display: c.displayName ?? null, uri, params: {} };
  }

  private contactHeader(): Header {
    const c = this.config;
    const transport = c.transport === 'UDP' ? '' : `;transport=${c.transport.toLowerCase()}`;
    return { name: 'Contact', value: `<sip:${c.user}@${c.host}:${c.port}${transport}>` };
  }

  private commonRequestHeaders(withContact: boolean): Header[] {
    const h: Header[] = [];
    if (withContact) h.push(this.contactHeader(), { name: 'Allow', value: this.allowHeader() }, SUPPORTED);
    if (this.config.userAgentName) h.push({ name: 'User-Agent', value: this.config.userAgentName });
    return h;
  }

  private answerHeaders(): Header[] {
    return [this.contactHeader(), { name: 'Allow', value: this.allowHeader() }, SUPPORTED];
  }

  private response(
    req: SipRequest,
    status: number,
    toTag: string,
    headers: Header[] = [],
    body: Body | null = null,
    reason?: string,
  ): SipResponse {
    const all: Header[] = [];
    // 12.1.1: responses that establish a dialog carry the request's Record-Route unchanged.
    if (req.method === 'INVITE' && status > 100 && status < 300) {
      for (const value of getHeaders(req, 'Record-Route')) all.push({ name: 'Record-Route', value });
    }
    all.push(...headers);
    if (this.config.userAgentName) all.push({ name: 'Server', value: this.config.userAgentName });
    return createResponse(req, status, reason, {
      toTag,
      headers: all,
      body: body?.body,
      contentType: body?.contentType,
    });
  }
}
