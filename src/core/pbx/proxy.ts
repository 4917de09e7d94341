// A stateful SIP proxy core (RFC 3261 section 16) as a sans-IO machine on the transaction layer,
// with the desk-phone registrar attached. It never blocks: a request for an extension it does not
// serve emits `need-lookup`, and the coordinator answers with lookupResult() once the overlay (and
// the routing plan) have spoken. Forks in parallel, picks the best response (16.7), CANCELs the
// losers, runs Timer C, forwards 2xx retransmissions and routes in-dialog requests by Route.
//
// Timer ids: "px/..." are the proxy's, "reg/..." the registrar's, the rest the transaction layer's.

import type { Address, Millis, TransportName } from '../net.ts';
import { cloneUri, cloneVia, createCancel, createResponse, type Random } from '../sip/build.ts';
import { buildAuthorization, pickChallenge } from '../sip/digest.ts';
import {
  getHeaders,
  type Header,
  reasonPhrase,
  type SipRequest,
  type SipResponse,
  type SipUri,
  tagOf,
  topBranch,
} from '../sip/message.ts';
import { serializeUri } from '../sip/serialize.ts';
import {
  type TimerConfig,
  type TimerEffect,
  type TransactionEvent,
  TransactionLayer,
  type TransmitEffect,
} from '../sip/transaction/layer.ts';
import { responseAddress } from '../sip/transaction/matching.ts';
import { uriToAddress } from '../sip/ua/address.ts';
import {
  addRecordRoute,
  isLocalUri,
  isLocalVia,
  isLoop,
  type LocalIdentity,
  loopHash,
  makeBranch,
  parseBranch,
  routeSet,
  setRouteSet,
} from './proxy-routing.ts';
import type { Registrar, RegistrarEffect } from './registrar.ts';
import { type CollectedResponse, chooseBestResponse, upstreamStatus } from './response-choice.ts';
import { outcomeOfStatus } from './routing-plan.ts';

export interface ProxyConfig extends LocalIdentity {
  /** Timer C (16.8): an INVITE branch with no final response is cancelled after this. > 3 min. */
  timerC?: Millis;
  /** How long the coordinator may take to answer a need-lookup before the caller gets 504. */
  lookupTimeout?: Millis;
  /** How long a finished context lingers to forward 2xx retransmissions and absorb INVITE ones. */
  linger?: Millis;
  timers?: Partial<TimerConfig>;
  /**
   * Sources whose out-of-dialog requests need no digest (office peers, configured trunks). Every
   * other sender must authenticate as a desk-phone account (407) before the proxy routes a call
   * for it: otherwise anyone on the network could call out through the office's trunks.
   * Only applies when a registrar (the account store) is attached. Default: nobody.
   */
  trusted?: (source: Address, request?: SipRequest) => boolean;
}

/** Where one branch of a fork goes. `address` overrides resolving the URI (a desk phone's flow). */
export interface ProxyTarget {
  uri: SipUri;
  address?: Address;
  /** Digest credentials for a target that challenges (a SIP trunk): one retry per branch. */
  credentials?: { username: string; password: string };
}

export type LookupResult =
  | {
      type: 'fork';
      targets: ProxyTarget[];
      /** Cancel all branches after this long (no answer). */
      timeoutMs?: number;
      /** When no branch answers, emit need-lookup again (with `previous`) instead of answering. */
      fallback?: boolean;
    }
  | { type: 'reject'; status: number; reason?: string; headers?: Header[] };

export type ProxyEvent =
  /** Resolve `user` (the Request-URI user) and call lookupResult(id, ...). */
  | {
      type: 'need-lookup';
      id: string;
      user: string;
      request: SipRequest;
      /** The desk-phone account that sent the request (digest-authenticated), if any. */
      fromDeskPhone?: string;
      /** Where the request came from (a trunk, an office peer, a phone). */
      source: Address;
      /** Set when a fallback stage is asked for: how the previous stage ended. */
      previous?: { status: number; outcome: 'busy' | 'no-answer' | 'unavailable' };
    }
  /** The final status sent upstream for a context (for call history and tests). */
  | { type: 'final'; id: string; status: number; method: string }
  | { type: 'warning'; message: string; context: Record<string, unknown> };

export type ProxyEffect = TransmitEffect | TimerEffect | ProxyEvent | Exclude<RegistrarEffect, TimerEffect>;

type BranchState = 'calling' | 'proceeding' | 'done';

interface Branch {
  n: number;
  txId: string;
  request: SipRequest;
  to: Address;
  state: BranchState;
  /** 'wanted': cancel as soon as a provisional arrives (9.1: not before). */
  cancel: 'none' | 'wanted' | 'sent';
  cancelForTimeout: boolean;
  target: ProxyTarget;
  /** Credentials already sent on this branch (a second challenge is final). */
  authTried: boolean;
}

interface Context {
  id: string;
  serverTx: string;
  replyTo: Address;
  source: Address;
  /** The request after 16.4 route preprocessing: the template of every branch. */
  request: SipRequest;
  hash: string;
  isInvite: boolean;
  state: 'lookup' | 'forking' | 'done';
  branches: Branch[];
  collected: CollectedResponse[];
  fallback: boolean;
  /** Lookups answered so far: bounds a coordinator that keeps asking for more stages. */
  stages: number;
  finalSent: boolean;
  cancelled: boolean;
  fromDeskPhone?: string;
  timers: Set<string>;
}

const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);
/** Hunt steps + forwards + voicemail of one call; more means a coordinator loop. */
const MAX_STAGES = 16;
const SCHEMES = new Set(['sip', 'sips', 'tel']);
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, SUBSCRIBE, NOTIFY, REFER';

export class PbxProxy {
  private readonly layer: TransactionLayer;
  private readonly out: ProxyEffect[] = [];
  private readonly contexts = new Map<string, Context>();
  private readonly byServerTx = new Map<string, Context>();
  private readonly byClientTx = new Map<string, { ctx: Context; branch: Branch }>();
  /** INVITE server-transaction keys of contexts that sent a 2xx: retransmissions are absorbed. */
  private readonly answeredInvites = new Map<string, Context>();
  private readonly timerC: Millis;
  private seq = 0;

  constructor(
    readonly config: ProxyConfig,
    private readonly random: Random,
    readonly registrar: Registrar | null = null,
  ) {
    this.layer = new TransactionLayer(config.timers);
    this.timerC = Math.max(config.timerC ?? 180_000, 1);
  }

  // --- host interface (SansIoMachine) ----------------------------------------------------------

  poll(): ProxyEffect | undefined {
    return this.out.shift();
  }

  drain(): ProxyEffect[] {
    return this.out.splice(0);
  }

  receive(msg: SipRequest | SipResponse, from: Address, now: Millis): void {
    this.layer.receive(msg, from, now);
    this.pump(now);
  }

  timerFired(id: string, now: Millis): void {
    if (id.startsWith('px/')) this.onTimer(id, now);
    else if (id.startsWith('reg/')) this.registrar?.timerFired(id, now);
    else this.layer.timerFired(id, now);
    this.pump(now);
  }

  transportError(txId: string, now: Millis): void {
    this.layer.transportError(txId, now);
    this.pump(now);
  }

  /** The coordinator's answer to a need-lookup. */
  lookupResult(id: string, result: LookupResult, now: Millis): void {
    const ctx = this.contexts.get(id);
    if (ctx?.state !== 'lookup' || ctx.finalSent) return; // unknown, already answered or forking
    this.clearTimer(ctx, `px/L/${ctx.id}`);
    if (result.type === 'reject') {
      this.respond(ctx, result.status, now, result.reason, result.headers);
    } else if (result.targets.length === 0) {
      // Nobody to ring (offline): straight to the next stage when there is one, bounded.
      if (result.fallback && ++ctx.stages < MAX_STAGES) {
        this.needLookup(ctx, ctx.request.uri.user ?? '', now, { status: 480, outcome: 'unavailable' });
      } else this.respond(ctx, 480, now);
    } else {
      ctx.fallback = (result.fallback ?? false) && ++ctx.stages < MAX_STAGES;
      ctx.collected = [];
      ctx.state = 'forking';
      for (const t of result.targets) this.forward(ctx, t, now);
      if (result.timeoutMs !== undefined) this.setTimer(ctx, `px/F/${ctx.id}`, now + result.timeoutMs);
    }
    this.pump(now);
  }

  /** Live state, for leak checks. */
  get load(): { contexts: number; transactions: number } {
    return { contexts: this.contexts.size, transactions: this.layer.size };
  }

  // --- the event pump ---------------------------------------------------------------------------

  private pump(now: Millis): void {
    for (let e = this.layer.poll(); e; e = this.layer.poll()) {
      if (e.type === 'transmit' || e.type === 'set-timer' || e.type === 'cancel-timer') this.out.push(e);
      else this.onTransactionEvent(e, now);
    }
    if (this.registrar) for (const e of this.registrar.drain()) this.out.push(e);
  }

  private onTransactionEvent(e: TransactionEvent, now: Millis): void {
    switch (e.type) {
      case 'request':
        this.onRequest(e.txId, e.request, e.source, e.replyTo, e.cancels, now);
        break;
      case 'ack':
        this.forwardAck(e.request, now);
        break;
      case 'response':
        this.onResponse(e.txId, e.response, now);
        break;
      case 'stray-response':
        this.onStrayResponse(e.response);
        break;
      case 'timeout':
        this.onBranchFailure(e.txId, 408, now);
        break;
      case 'transport-error':
        this.onBranchFailure(e.txId, 503, now);
        break;
      case 'terminated':
        this.byServerTx.delete(e.txId);
        break;
    }
  }

  // --- requests (16.3 - 16.6) --------------------------------------------------------------------

  private onRequest(
    txId: string,
    req: SipRequest,
    source: Address,
    replyTo: Address,
    cancels: string | null | undefined,
    now: Millis,
  ): void {
    const reply = (status: number, reason?: string, headers?: Header[]) =>
      this.layer.sendResponse(
        txId,
        createResponse(req, status, reason, { headers, toTag: this.random() }),
        now,
      );
    if (req.method === 'CANCEL') {
      this.onCancel(txId, req, cancels ?? null, now);
      return;
    }
    if (req.method === 'INVITE') {
      const old = this.answeredInvites.get(inviteKey(req));
      if (old) {
        // A retransmitted INVITE after our 2xx: the UAS's own 2xx retransmissions answer it.
        this.layer.terminate(txId);
        return;
      }
    }
    if (!SCHEMES.has(req.uri.scheme)) return void reply(416);
    if (req.maxForwards === 0) return void reply(483);
    if (isLoop(this.config, req)) return void reply(482);
    const proxyRequire = getHeaders(req, 'Proxy-Require')
      .flatMap((v) => v.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    if (proxyRequire.length > 0)
      return void reply(420, undefined, [{ name: 'Unsupported', value: proxyRequire.join(', ') }]);

    const hash = loopHash(req);
    const fwd = copyRequest(req);
    const routes = routeSet(fwd);
    if (!routes) return void reply(400, 'Bad Route');
    // 16.4: a strict router before us put our Record-Route URI in the Request-URI.
    if (isLocalUri(this.config, fwd.uri) && 'lr' in fwd.uri.params && routes.length > 0) {
      const last = routes.pop();
      if (last) fwd.uri = last.uri;
    }
    if (routes.length > 0 && isLocalUri(this.config, routes[0].uri)) routes.shift();
    setRouteSet(fwd, routes);

    if (
      req.method === 'REGISTER' &&
      this.registrar &&
      routes.length === 0 &&
      isLocalUri(this.config, fwd.uri)
    ) {
      this.layer.sendResponse(
        txId,
        this.registrar.handleRegister(req, source, now, saltOf(this.random())),
        now,
      );
      return;
    }

    const forUs = routes.length === 0 && isLocalUri(this.config, fwd.uri);
    const user = forUs ? (fwd.uri.user ?? '') : '';
    if (forUs && !user && req.method === 'OPTIONS') {
      // Desk phones ping their registrar with OPTIONS as a keepalive.
      return void reply(200, undefined, [{ name: 'Allow', value: ALLOW }]);
    }
    const inDialog = tagOf(req.to) !== null;
    const local = forUs ? (this.registrar?.bindings(user, now) ?? []) : [];
    const fromPhone = this.registrar?.bindingFromSource(source, now);
    // A call from outside to one of our desk phones: the caller's peer already applied the
    // routing plan, so ring the phone. Calls from our own phones are planned by the coordinator.
    const toLocalPhone = local.length > 0 && !fromPhone;
    let caller: string | undefined;
    if (this.registrar && !inDialog && !toLocalPhone && !this.config.trusted?.(source, req)) {
      const auth = this.registrar.authenticate(req, source, now, saltOf(this.random()));
      if (auth.response) {
        this.layer.sendResponse(txId, auth.response, now);
        return;
      }
      caller = auth.username;
    }

    const ctx = this.newContext(txId, replyTo, source, fwd, hash);
    ctx.fromDeskPhone = caller ?? fromPhone?.aor;
    if (!forUs) {
      // 16.5: with a Route left, or a Request-URI that is not ours, the target is the Request-URI.
      const binding = routes.length === 0 ? this.registrar?.bindingForContact(fwd.uri, now) : undefined;
      this.startFork(ctx, [{ uri: fwd.uri, address: binding?.source }], now);
    } else if (toLocalPhone) {
      const targets = local.map((b) => ({ uri: b.contact.uri, address: b.source }));
      this.startFork(ctx, targets, now);
    } else if (inDialog || !user) {
      this.respond(ctx, user ? 481 : 404, now);
    } else this.needLookup(ctx, user, now);
  }

  private newContext(
    serverTx: string,
    replyTo: Address,
    source: Address,
    request: SipRequest,
    hash: string,
  ): Context {
    const ctx: Context = {
      id: `k${(++this.seq).toString(36)}`,
      serverTx,
      replyTo,
      source,
      request,
      hash,
      isInvite: request.method === 'INVITE',
      state: 'lookup',
      branches: [],
      collected: [],
      fallback: false,
      stages: 0,
      finalSent: false,
      cancelled: false,
      timers: new Set(),
    };
    this.contexts.set(ctx.id, ctx);
    this.byServerTx.set(serverTx, ctx);
    return ctx;
  }

  private needLookup(
    ctx: Context,
    user: string,
    now: Millis,
    previous?: { status: number; outcome: 'busy' | 'no-answer' | 'unavailable' },
  ): void {
    ctx.state = 'lookup';
    this.setTimer(ctx, `px/L/${ctx.id}`, now + (this.config.lookupTimeout ?? 10_000));
    this.out.push({
      type: 'need-lookup',
      id: ctx.id,
      user,
      request: ctx.request,
      fromDeskPhone: ctx.fromDeskPhone,
      source: ctx.source,
      previous,
    });
  }

  private startFork(ctx: Context, targets: ProxyTarget[], now: Millis): void {
    ctx.state = 'forking';
    for (const t of targets) this.forward(ctx, t, now);
  }

  /** 16.6: one branch. */
  private forward(ctx: Context, target: ProxyTarget, now: Millis, auth?: Header): void {
    const req = copyRequest(ctx.request);
    if (auth) req.headers.push(auth);
    req.uri = cloneUri(target.uri);
    req.maxForwards = (ctx.request.maxForwards ?? 70) - 1;
    if (DIALOG_CREATING.has(req.method) && tagOf(req.to) === null) addRecordRoute(req, this.config);
    const routes = routeSet(req) ?? [];
    const to =
      routes.length > 0
        ? uriToAddress(routes[0].uri, this.config.transport)
        : (target.address ?? uriToAddress(target.uri, this.config.transport));
    const n = ctx.branches.length;
    req.via = [this.ourVia(to.transport, makeBranch(ctx.hash, ctx.id, n)), ...req.via];
    const txId = this.layer.sendRequest(req, to, now);
    const branch: Branch = {
      n,
      txId,
      request: req,
      to,
      state: 'calling',
      cancel: 'none',
      cancelForTimeout: false,
      target,
      authTried: auth !== undefined,
    };
    ctx.branches.push(branch);
    this.byClientTx.set(txId, { ctx, branch });
    if (ctx.isInvite) this.setTimer(ctx, timerCId(ctx, n), now + this.timerC);
  }

  private ourVia(transport: TransportName, branch: string) {
    return {
      protocol: 'SIP/2.0',
      transport,
      host: this.config.host,
      port: this.config.port,
      params: { branch } as Record<string, string | null>,
    };
  }

  /** ACK for a 2xx (no transaction): forwarded statelessly along its Route (16.11 for ACK). */
  private forwardAck(ack: SipRequest, now: Millis): void {
    if (ack.maxForwards === 0 || isLoop(this.config, ack)) return;
    const fwd = copyRequest(ack);
    const routes = routeSet(fwd);
    if (!routes) return;
    if (routes.length > 0 && isLocalUri(this.config, routes[0].uri)) routes.shift();
    setRouteSet(fwd, routes);
    let to: Address;
    if (routes.length > 0) to = uriToAddress(routes[0].uri, this.config.transport);
    else if (!isLocalUri(this.config, fwd.uri)) {
      to =
        this.registrar?.bindingForContact(fwd.uri, now)?.source ??
        uriToAddress(fwd.uri, this.config.transport);
    } else {
      this.warn('ACK addressed to the proxy itself dropped', { callId: ack.callId });
      return;
    }
    fwd.maxForwards = (ack.maxForwards ?? 70) - 1;
    fwd.via = [this.ourVia(to.transport, makeBranch(loopHash(ack), 'ack', 0)), ...fwd.via];
    this.layer.sendStateless(fwd, to);
  }

  // --- CANCEL (16.10) ------------------------------------------------------------------------------

  private onCancel(txId: string, cancel: SipRequest, invTx: string | null, now: Millis): void {
    const ctx = invTx ? this.byServerTx.get(invTx) : undefined;
    if (!ctx) {
      this.layer.sendResponse(txId, createResponse(cancel, 481), now);
      return;
    }
    this.layer.sendResponse(txId, createResponse(cancel, 200), now);
    if (ctx.finalSent) return;
    ctx.cancelled = true;
    if (ctx.state === 'lookup') {
      this.respond(ctx, 487, now);
      return;
    }
    for (const b of ctx.branches) this.cancelBranch(b, false, now);
  }

  private cancelBranch(b: Branch, forTimeout: boolean, now: Millis): void {
    if (b.state === 'done' || b.cancel !== 'none' || b.request.method !== 'INVITE') return;
    b.cancelForTimeout = forTimeout;
    b.cancel = 'wanted';
    if (b.state === 'proceeding') this.sendCancel(b, now);
  }

  private sendCancel(b: Branch, now: Millis): void {
    b.cancel = 'sent';
    // CANCEL has its own transaction; its 200 is not interesting (no byClientTx entry).
    this.layer.sendRequest(createCancel(b.request), b.to, now);
  }

  // --- responses (16.7) ------------------------------------------------------------------------------

  private onResponse(txId: string, res: SipResponse, now: Millis): void {
    const hit = this.byClientTx.get(txId);
    if (!hit) return;
    const { ctx, branch } = hit;
    if (res.status < 200) {
      if (branch.state === 'calling') branch.state = 'proceeding';
      if (ctx.isInvite) this.setTimer(ctx, timerCId(ctx, branch.n), now + this.timerC);
      if (branch.cancel === 'wanted') this.sendCancel(branch, now);
      if (res.status > 100 && !ctx.finalSent) this.layer.sendResponse(ctx.serverTx, upstream(res), now);
      return;
    }
    this.branchDone(ctx, branch);
    if (res.status < 300) {
      // 16.7 step 5: a 2xx goes upstream at once, every other INVITE branch is cancelled.
      if (ctx.finalSent) this.layer.sendStateless(upstream(res), ctx.replyTo);
      else {
        this.layer.sendResponse(ctx.serverTx, upstream(res), now);
        this.finalSent(ctx, res.status, now);
      }
      if (ctx.isInvite) {
        this.answeredInvites.set(inviteKey(ctx.request), ctx);
        for (const b of ctx.branches) this.cancelBranch(b, false, now);
      }
      this.maybeFinish(ctx, now);
      return;
    }
    if ((res.status === 401 || res.status === 407) && this.retryWithCredentials(ctx, branch, res, now))
      return;
    const synthesized = branch.cancelForTimeout;
    const response = synthesized ? createResponse(branch.request, 408) : res;
    ctx.collected.push({ response, synthesized });
    if (res.status >= 600 && ctx.isInvite) for (const b of ctx.branches) this.cancelBranch(b, false, now);
    this.maybeFinish(ctx, now);
  }

  /**
   * A trunk challenged a branch that has credentials: the same request again on a new branch with
   * Authorization / Proxy-Authorization (the outbound-registration-free way trunks authenticate).
   * The CSeq stays: the caller's dialog numbering must remain valid end to end.
   */
  private retryWithCredentials(ctx: Context, branch: Branch, res: SipResponse, now: Millis): boolean {
    const creds = branch.target.credentials;
    if (!creds || branch.authTried || branch.cancel !== 'none' || ctx.cancelled || ctx.finalSent)
      return false;
    const proxyAuth = res.status === 407;
    const challenges = getHeaders(res, proxyAuth ? 'Proxy-Authenticate' : 'WWW-Authenticate');
    const picked = pickChallenge(challenges);
    if (!picked.ok) {
      this.warn('unusable challenge from a target', {
        uri: serializeUri(branch.target.uri),
        reason: picked.error.reason,
      });
      return false;
    }
    const value = buildAuthorization(
      picked.value,
      {
        ...creds,
        method: branch.request.method,
        uri: serializeUri(branch.request.uri),
        body: branch.request.body,
      },
      this.random(),
      1,
    );
    if (!value.ok) return false;
    this.forward(ctx, branch.target, now, {
      name: proxyAuth ? 'Proxy-Authorization' : 'Authorization',
      value: value.value,
    });
    return true;
  }

  /** A client transaction timed out (408) or could not be sent (503). */
  private onBranchFailure(txId: string, status: number, now: Millis): void {
    const hit = this.byClientTx.get(txId);
    if (!hit || hit.branch.state === 'done') return;
    this.branchDone(hit.ctx, hit.branch);
    hit.ctx.collected.push({ response: createResponse(hit.branch.request, status), synthesized: true });
    this.maybeFinish(hit.ctx, now);
  }

  /** 2xx retransmissions (their transactions are gone): forward statelessly if the Via is ours. */
  private onStrayResponse(res: SipResponse): void {
    const top = res.via[0];
    if (!top || !isLocalVia(this.config, top) || res.via.length < 2) return;
    if (res.status < 200 || res.status >= 300 || res.cseq.method !== 'INVITE') return;
    const b = parseBranch(topBranch(res));
    const ctx = b ? this.contexts.get(b.contextId) : undefined;
    const next = res.via[1];
    const to =
      ctx?.replyTo ??
      responseAddress(next, {
        transport: asTransport(next.transport),
        host: next.host,
        port: next.port ?? 5060,
      });
    this.layer.sendStateless(upstream(res), to);
  }

  private branchDone(ctx: Context, branch: Branch): void {
    branch.state = 'done';
    this.byClientTx.delete(branch.txId);
    this.clearTimer(ctx, timerCId(ctx, branch.n));
  }

  /** 16.7 step 6: once every branch is final, send the best response (or ask for a fallback). */
  private maybeFinish(ctx: Context, now: Millis): void {
    if (ctx.state !== 'forking' || ctx.branches.some((b) => b.state !== 'done')) return;
    this.clearTimer(ctx, `px/F/${ctx.id}`);
    if (ctx.finalSent) {
      this.finish(ctx, now);
      return;
    }
    const best = chooseBestResponse(ctx.collected);
    const status = best?.response.status ?? 480;
    if (ctx.fallback && !ctx.cancelled) {
      ctx.branches = [];
      this.needLookup(ctx, ctx.request.uri.user ?? '', now, { status, outcome: outcomeOfStatus(status) });
      return;
    }
    if (best && !best.synthesized) {
      const res = upstream(best.response);
      res.status = upstreamStatus(res.status);
      if (res.status !== best.response.status) res.reason = reasonPhrase(res.status);
      this.layer.sendResponse(ctx.serverTx, res, now);
      this.finalSent(ctx, res.status, now);
      this.finish(ctx, now);
    } else this.respond(ctx, ctx.cancelled ? 487 : status, now);
  }

  /** A response made by the proxy itself for the context's request. */
  private respond(ctx: Context, status: number, now: Millis, reason?: string, headers?: Header[]): void {
    if (ctx.finalSent) return;
    const res = createResponse(ctx.request, status, reason, { headers, toTag: this.random() });
    this.layer.sendResponse(ctx.serverTx, res, now);
    this.finalSent(ctx, status, now);
    this.finish(ctx, now);
  }

  private finalSent(ctx: Context, status: number, _now: Millis): void {
    ctx.finalSent = true;
    this.out.push({ type: 'final', id: ctx.id, status, method: ctx.request.method });
  }

  /** The context has its final answer; linger for 2xx retransmissions, then forget it. */
  private finish(ctx: Context, now: Millis): void {
    if (ctx.branches.some((b) => b.state !== 'done')) return; // branches still being cancelled
    ctx.state = 'done';
    for (const id of [...ctx.timers]) this.clearTimer(ctx, id);
    this.setTimer(ctx, `px/X/${ctx.id}`, now + (this.config.linger ?? 32_000));
  }

  // --- timers ------------------------------------------------------------------------------------------

  private onTimer(id: string, now: Millis): void {
    const [, kind, ctxId, n] = id.split('/');
    const ctx = this.contexts.get(ctxId);
    if (!ctx?.timers.delete(id)) return;
    switch (kind) {
      case 'C': {
        // 16.8: a branch with a provisional is cancelled; one without behaves as if 408 arrived.
        const b = ctx.branches[Number(n)];
        if (!b || b.state === 'done') return;
        if (b.state === 'proceeding' && b.cancel === 'none') {
          this.cancelBranch(b, true, now);
          // If the callee never answers the CANCEL either, give up on the branch after 64*T1.
          this.setTimer(ctx, timerCId(ctx, b.n), now + 64 * this.layer.config.t1);
        } else {
          this.layer.terminate(b.txId);
          this.branchDone(ctx, b);
          ctx.collected.push({ response: createResponse(b.request, 408), synthesized: true });
          this.maybeFinish(ctx, now);
        }
        return;
      }
      case 'F':
        // No answer within the plan's ring time: cancel every branch; their 487s count as 408.
        for (const b of ctx.branches) this.cancelBranch(b, true, now);
        return;
      case 'L':
        this.warn('lookup not answered in time', { context: ctx.id, callId: ctx.request.callId });
        this.respond(ctx, 504, now);
        return;
      case 'X':
        for (const t of [...ctx.timers]) this.clearTimer(ctx, t);
        this.contexts.delete(ctx.id);
        this.byServerTx.delete(ctx.serverTx);
        if (this.answeredInvites.get(inviteKey(ctx.request)) === ctx)
          this.answeredInvites.delete(inviteKey(ctx.request));
        for (const b of ctx.branches) this.byClientTx.delete(b.txId);
        return;
    }
  }

  private setTimer(ctx: Context, id: string, at: Millis): void {
    ctx.timers.add(id);
    this.out.push({ type: 'set-timer', id, at });
  }

  private clearTimer(ctx: Context, id: string): void {
    if (ctx.timers.delete(id)) this.out.push({ type: 'cancel-timer', id });
  }

  private warn(message: string, context: Record<string, unknown>): void {
    this.out.push({ type: 'warning', message, context });
  }
}

function timerCId(ctx: Context, n: number): string {
  return `px/C/${ctx.id}/${n}`;
}

/** A retransmitted INVITE has the same top branch and sent-by as the original. */
function inviteKey(req: SipRequest): string {
  const v = req.via[0];
  return `${topBranch(req)}|${v?.host ?? ''}:${v?.port ?? ''}|${req.callId}`;
}

function copyRequest(req: SipRequest): SipRequest {
  return {
    ...req,
    uri: cloneUri(req.uri),
    via: req.via.map(cloneVia),
    headers: req.headers.map((h) => ({ ...h })),
  };
}

/** The response as it goes upstream: our Via removed (16.7 step 3). */
function upstream(res: SipResponse): SipResponse {
  return { ...res, via: res.via.slice(1).map(cloneVia), headers: res.headers.map((h) => ({ ...h })) };
}

function asTransport(t: string): TransportName {
  const u = t.toUpperCase();
  return u === 'TCP' || u === 'TLS' ? u : 'UDP';
}

function saltOf(token: string): Uint8Array {
  return new TextEncoder().encode(token.padEnd(8, '0'));
}
