// The phone system part of a peer (issue 5): this user's softphone, the registrar + stateful proxy
// for desk phones, and call routing through the overlay. Every call (the user's own `dial`, a desk
// phone's INVITE) goes through the local PbxProxy: its need-lookup is answered by planning the call
// (OFFICE-CONFIG dial plan + the callee's USER-SETTINGS), resolving every ringing extension to its
// SIP-REGISTRATION contacts (cached, watched) and forking to all of them; fallback stages (busy,
// no answer, offline) come back as need-lookups and walk the same PlanCursor.
//
// SIP addresses: the proxy listens on `sip.port`; the softphone on its own port. This user's
// registration names the softphone directly, so a caller's peer sends the INVITE straight to it;
// desk phones' registrations name the proxy, which rings the phone's binding.
import { EventEmitter } from 'node:events';
import type { Address } from '../../core/net.ts';
import {
  type DeskPhoneAccount,
  type DialPlanConfig,
  type LookupResult,
  liveContacts,
  PbxProxy,
  PlanCursor,
  type ProxyEffect,
  type ProxyEvent,
  type ProxyTarget,
  parseDialPlan,
  parseUserSettings,
  planCall,
  Registrar,
  type RegistrationContact,
  RegistrationPublisher,
  type Stage,
  toLookupResult,
} from '../../core/pbx/index.ts';
import { isOutsideUri, OutsideFailover } from '../../core/pbx/outside-routing.ts';
import type { PublisherEffect } from '../../core/pbx/registration-record.ts';
import { decodeJson, type UserSettingsData } from '../../core/records/kinds.ts';
import { officeConfigResourceName, userResourceName } from '../../core/records/resource-names.ts';
import type { StoredValue } from '../../core/records/types.ts';
import {
  bodyText,
  getHeader,
  type Header,
  reasonPhrase,
  type SipRequest,
  type SipUri,
  textBody,
} from '../../core/sip/message.ts';
import { parseNameAddr, parseUri } from '../../core/sip/parse.ts';
import { serializeNameAddr, serializeUri } from '../../core/sip/serialize.ts';
import { uriToAddress } from '../../core/sip/ua/address.ts';
import { replacesOfUri, withoutUriHeaders } from '../../core/sip/ua/replaces.ts';
import { createLogger, type Logger } from '../log.ts';
import {
  type PhoneEvent,
  type PhoneRequestEvent,
  SoftPhone,
  type SoftPhoneOptions,
} from '../phone/soft-phone.ts';
import { SipDnsResolver, type SipDnsResolverOptions } from '../sip/dns-resolver.ts';
import { randomToken, SipHost } from '../sip/endpoint.ts';
import { WarningBudget } from '../sip/warning-budget.ts';
import { SipTransports } from '../transport/sip-transports.ts';
import type { VoicemailService } from '../voicemail/voicemail-service.ts';
import { type CallHistorySink, CallLog } from './call-log.ts';
import { OverlayDirectory, type PbxOverlay } from './overlay-directory.ts';

export type { PbxOverlay } from './overlay-directory.ts';

export interface OfficePbxOptions {
  overlay: PbxOverlay;
  identity: { extension: string; office: string; displayName?: string };
  /** Desk-phone accounts this peer serves (from its settings: `peerpbx phone add`). */
  deskPhoneAccounts?: DeskPhoneAccount[];
  /** The proxy/registrar's SIP socket (UDP + TCP); `advertise` is the address others reach. */
  sip?: { bind?: string; advertise?: string; port?: number };
  /** The user's softphone (auto-answer, play, record...); its bind/advertise default to `sip`'s. */
  phone?: Omit<SoftPhoneOptions, 'user' | 'displayName' | 'log'>;
  /**
   * Sources whose calls need no digest besides this user's softphone: SIP trunks, a benchmark's
   * client. Everyone else calling out through this peer must be a desk-phone account (407).
   */
  trusted?: (source: Address) => boolean;
  /** Call history (the peer database's calls table); every call of this user is added when it ends. */
  history?: CallHistorySink;
  /** Registration record lifetime (default REGISTRATION_LIFETIME_MS); refreshed at half of it. */
  registrationLifetimeMs?: number;
  /** RFC 3263 lookups for outside domains (DNS servers: default PEERPBX_DNS_SERVERS or the system's). */
  dns?: SipDnsResolverOptions;
  log?: Logger;
}

export type PbxEvent =
  | PhoneEvent
  | { type: 'registered'; extension: string; copies: number }
  | { type: 'desk-phone'; extension: string; registered: boolean }
  | { type: 'routed'; id: string; user: string; stage: Stage['type']; targets: number }
  | { type: 'final'; id: string; status: number; method: string }
  /** Blind transfer (REFER): the other party asked us to call `target`; `call` is our new call. */
  | { type: 'transferred'; from: string; target: string; call: string }
  /** A SIP MESSAGE for this user (RFC 3428), already answered 200. */
  | { type: 'message'; from: string; text: string; contentType: string };

interface RoutingState {
  cursor: PlanCursor;
  /** Drops the state should the proxy's 'final' never come (stop). */
  expiry: NodeJS.Timeout;
}

/** Tags a MESSAGE our softphone sends so its proxy context finds the waiting sendMessage(). */
const MESSAGE_TOKEN_HEADER = 'X-PeerPBX-Message';
const ROUTING_STATE_TTL_MS = 10 * 60_000;
const STOP_STORE_BUDGET_MS = 3000;

export class OfficePbx extends EventEmitter<{ event: [PbxEvent] }> {
  readonly directory: OverlayDirectory;
  private readonly log: Logger;
  private readonly publisher: RegistrationPublisher;
  private readonly publisherTimers = new Map<string, NodeJS.Timeout>();
  private readonly routing = new Map<string, RoutingState>();
  private readonly pendingStores = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly callLog: CallLog | null;
  /** Registrar/proxy warnings (failed digest auth...) come per packet under attack: budgeted. */
  private readonly warnings: WarningBudget;

  private constructor(
    private readonly opts: OfficePbxOptions,
    readonly phone: SoftPhone,
    readonly transports: SipTransports,
    readonly host: SipHost<ProxyEffect>,
    readonly proxy: PbxProxy,
    readonly advertise: string,
    log: Logger,
  ) {
    super();
    this.log = log;
    this.warnings = new WarningBudget(log, Date.now);
    this.directory = new OverlayDirectory(opts.overlay, log.child({ part: 'directory' }));
    this.publisher = new RegistrationPublisher(
      { office: opts.identity.office, nodeId: opts.overlay.nodeId, lifetime: opts.registrationLifetimeMs },
      (w) => opts.overlay.sign(w.resourceName, w.kind, w.value, w.lifetime, { key: w.key, exists: w.exists }),
    );
    const history = opts.history ? new CallLog(opts.history, opts.identity.extension, log) : null;
    this.callLog = history;
    this.dns = new SipDnsResolver({ log: log.child({ part: 'dns' }), ...opts.dns });
    phone.on((e) => {
      history?.onPhoneEvent(e);
      this.emit('event', e);
    });
    phone.onRequest((e) => this.onPhoneRequest(e));
    host.onEvent((e) => this.onProxyEvent(e as Exclude<ProxyEffect, { type: 'transmit' }>));
  }

  /** Starts the proxy, the softphone and publishes this user's registration. */
  static async start(opts: OfficePbxOptions): Promise<OfficePbx> {
    const log = opts.log ?? createLogger({ component: 'pbx' });
    const bind = opts.sip?.bind ?? '127.0.0.1';
    const advertise = opts.sip?.advertise ?? (bind === '0.0.0.0' ? '127.0.0.1' : bind);
    let host: SipHost<ProxyEffect> | null = null;
    const transports = await SipTransports.start({
      bind,
      port: opts.sip?.port ?? 0,
      onMessage: (m) => host?.receive(m),
      log: log.child({ part: 'sip' }),
    });
    const phone = await SoftPhone.start({
      bind,
      advertise,
      ...opts.phone,
      user: opts.identity.extension,
      displayName: opts.identity.displayName,
      log: log.child({ part: 'phone' }),
    });
    const accounts = new Map((opts.deskPhoneAccounts ?? []).map((a) => [a.extension, a]));
    const registrar = new Registrar({
      realm: opts.identity.office,
      nonceSecret: randomToken() + randomToken(),
      accounts: (ext) => accounts.get(ext),
      gateway: { nodeId: opts.overlay.nodeId, host: advertise, port: transports.port, transport: 'UDP' },
    });
    const phoneAddress = { host: advertise, port: phone.sipPort };
    // Configured trunks are trusted (no digest) too; the dial plan arrives later from the overlay.
    let isTrunk: (s: Address) => boolean = () => false;
    let isOutside: (uri: SipUri) => boolean = () => false;
    const proxy = new PbxProxy(
      {
        host: advertise,
        port: transports.port,
        transport: 'UDP',
        domains: [opts.identity.office],
        outsideDomain: (uri) => isOutside(uri),
        // Our own softphone needs no digest: it is this peer's user.
        // A MESSAGE to this peer's own user is delivered here, like a call to a local phone.
        trusted: (s: Address, req?: SipRequest) =>
          (req?.method === 'MESSAGE' && req.uri.user === opts.identity.extension) ||
          (s.port === phoneAddress.port && (s.host === advertise || s.host === bind)) ||
          (opts.trusted?.(s) ?? false) ||
          isTrunk(s),
      },
      randomToken,
      registrar,
    );
    host = new SipHost<ProxyEffect>(proxy, { sender: transports, log: log.child({ part: 'proxy' }) });
    const pbx = new OfficePbx(opts, phone, transports, host, proxy, advertise, log);
    isTrunk = (s) => pbx.isTrunk(s);
    isOutside = (uri) => pbx.isOutside(uri);
    // Read (and watch) the dial plan now: a trunk's first call must already be recognised.
    await pbx.dialPlan();
    await pbx.publishOwnRegistration();
    return pbx;
  }

  /** The proxy's SIP URI (desk phones register here; `dial` goes through it). */
  get sipUri(): string {
    return `sip:${this.advertise}:${this.transports.port}`;
  }

  get sipPort(): number {
    return this.transports.port;
  }

  /** Calls an extension, ring group or trunk number as this peer's user; returns the call id. */
  async dial(target: string): Promise<string> {
    const user = target.replace(/^sips?:/i, '').split('@')[0];
    const outside = target.includes('@')
      ? parseUri(/^sips?:/i.test(target) ? target : `sip:${target}`)
      : null;
    const id =
      outside && this.isOutside(outside)
        ? await this.phone.call(serializeUri(outside), { destination: this.proxyAddress })
        : await this.phone.call(`sip:${user}@${this.advertise}:${this.transports.port}`);
    this.callLog?.outgoing(id, user);
    return id;
  }

  /**
   * Sends a SIP MESSAGE (text/plain) to an extension through our proxy; resolves with the final
   * status the proxy sent back (200 when a peer of the extension took it).
   */
  sendMessage(extension: string, text: string, timeoutMs = 10_000): Promise<number> {
    const uri = parseUri(`sip:${extension}@${this.advertise}:${this.transports.port}`);
    if (!uri) return Promise.reject(new Error(`bad extension ${extension}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`MESSAGE to ${extension}: no answer`));
      }, timeoutMs);
      const token = randomToken();
      const off = () => this.messageWaiters.delete(token);
      this.messageWaiters.set(token, (status) => {
        clearTimeout(timer);
        off();
        resolve(status);
      });
      this.phone.host.act((now) =>
        this.phone.ua.sendRequest(
          'MESSAGE',
          uri,
          now,
          {
            body: textBody(text),
            contentType: 'text/plain',
            headers: [{ name: MESSAGE_TOKEN_HEADER, value: token }],
          },
          { transport: 'UDP', host: this.advertise, port: this.transports.port },
        ),
      );
    });
  }

  private readonly messageWaiters = new Map<string, (status: number) => void>();

  /** Where SUBSCRIBEs go: the gateway's event notifier (src/main/pbx/event-server.ts). */
  private subscriptionRouter: ((e: Extract<ProxyEvent, { type: 'need-lookup' }>) => LookupResult) | null =
    null;

  /** Routes desk phones' SUBSCRIBEs (dialog, message-summary) to `router`'s answer. */
  setSubscriptionRouter(router: (e: Extract<ProxyEvent, { type: 'need-lookup' }>) => LookupResult): void {
    this.subscriptionRouter = router;
  }

  /** Answers to requests our softphone sent outside calls' INVITEs (REFER), by request id. */
  private readonly requestWaiters = new Map<string, (status: number) => void>();

  /**
   * Blind transfer (RFC 3515): asks the other party of `callId` to call `target` (an extension,
   * routed by its own peer), and hangs up once it accepted (202). Resolves with the REFER's status.
   */
  async transfer(callId: string, target: string, timeoutMs = 10_000): Promise<number> {
    const user = target.replace(/^sips?:/i, '').split('@')[0];
    const status = await this.sendRefer(
      callId,
      `<sip:${user}@${this.advertise}:${this.transports.port}>`,
      timeoutMs,
    );
    if (status >= 200 && status < 300) this.hangup(callId);
    return status;
  }

  /** Final NOTIFY (sipfrag status) of a REFER we sent, by the call it was sent in. */
  private readonly referWaiters = new Map<string, (status: number) => void>();

  /**
   * Attended transfer (RFC 5589 7): asks the other party of `callId` (on hold) to call the party of
   * `consultationCallId` with a Replaces naming our consultation dialog, which that party then
   * ends. Resolves with the new call's final status from the NOTIFY sipfrag (or the REFER's
   * failure); on a 2xx we hang up `callId` (and the consultation, should its BYE not come).
   */
  attendedTransfer(callId: string, consultationCallId: string, timeoutMs = 20_000): Promise<number> {
    const referTo = this.phone.replacesReferTo(consultationCallId);
    if (!referTo) return Promise.reject(new Error(`no answered call ${consultationCallId} to transfer to`));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.referWaiters.delete(callId);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`attended transfer of ${callId}: no final NOTIFY`));
      }, timeoutMs);
      this.referWaiters.set(callId, (status) => {
        if (status < 200) return;
        done();
        if (status < 300) {
          this.hangup(callId);
          setTimeout(() => !this.stopped && this.hangup(consultationCallId), 2000).unref();
        }
        resolve(status);
      });
      this.sendRefer(callId, referTo, timeoutMs).then(
        (status) => {
          if (status < 300) return;
          done();
          resolve(status);
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  /** Sends REFER in `callId`'s dialog; resolves with its final status. */
  private sendRefer(callId: string, referTo: string, timeoutMs: number): Promise<number> {
    const requestId = this.phone.host.act((now) =>
      this.phone.ua.sendInDialog(callId, 'REFER', now, {
        headers: [
          { name: 'Refer-To', value: referTo },
          { name: 'Referred-By', value: `<sip:${this.opts.identity.extension}@${this.advertise}>` },
        ],
      }),
    );
    if (requestId === null) return Promise.reject(new Error(`no call ${callId} to transfer`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requestWaiters.delete(requestId);
        reject(new Error(`REFER of ${callId}: no answer`));
      }, timeoutMs);
      this.requestWaiters.set(requestId, (status) => {
        clearTimeout(timer);
        this.requestWaiters.delete(requestId);
        resolve(status);
      });
    });
  }

  private onPhoneRequest(e: PhoneRequestEvent): void {
    if (e.type !== 'request') {
      this.requestWaiters.get(e.requestId)?.(e.type === 'response' ? e.response.status : 408);
      return;
    }
    const respond = (status: number, headers?: Header[], body?: string) =>
      this.phone.host.act((now) =>
        this.phone.ua.respond(e.requestId, status, now, {
          headers,
          ...(body === undefined ? {} : { body: textBody(body), contentType: 'message/sipfrag' }),
        }),
      );
    const method = e.request.method;
    if (method === 'NOTIFY') {
      respond(200); // progress of a transfer we asked for
      const frag = /^SIP\/2\.0 (\d{3})/.exec(bodyText(e.request));
      if (frag && e.call) this.referWaiters.get(e.call)?.(Number(frag[1]));
      return;
    }
    if (method !== 'REFER' || e.call === null) {
      respond(501);
      return;
    }
    const referTo = parseNameAddr(getHeader(e.request, 'Refer-To') ?? '');
    const replaces = referTo ? replacesOfUri(referTo.uri) : null;
    // Attended: the target's contact (it may have no user part); blind: an extension to dial.
    const target = referTo && replaces ? (referTo.uri.user ?? referTo.uri.host) : referTo?.uri.user;
    if (!referTo || !target) {
      respond(400);
      return;
    }
    respond(202);
    const from = e.call;
    if (replaces) {
      void this.callReplacing(from, referTo.uri, replaces, target);
      return;
    }
    void this.dial(target).then(
      (call) => {
        this.emit('event', { type: 'transferred', from, target, call });
        // RFC 3515 2.4.4: the implicit subscription ends with our first NOTIFY (blind transfer).
        this.notifyRefer(from, 100, true);
      },
      (err: unknown) => this.log.warn('transfer call failed', { target, error: String(err) }),
    );
  }

  /**
   * The transferee's side of an attended transfer (RFC 5589 7): an INVITE with the Refer-To's
   * Replaces to the target's contact (through our proxy), then NOTIFYs with its outcome.
   */
  private async callReplacing(from: string, uri: SipUri, replaces: string, target: string): Promise<void> {
    this.notifyRefer(from, 100, false);
    let call: string;
    try {
      call = await this.phone.call(serializeUri(withoutUriHeaders(uri)), {
        headers: [{ name: 'Replaces', value: replaces }],
        destination: { transport: 'UDP', host: this.advertise, port: this.transports.port },
      });
    } catch (err) {
      this.log.warn('attended transfer call failed', { target, error: String(err) });
      this.notifyRefer(from, 503, true);
      return;
    }
    this.callLog?.outgoing(call, target);
    this.emit('event', { type: 'transferred', from, target, call });
    const off = this.phone.on((ev) => {
      if (ev.call !== call || (ev.type !== 'answered' && ev.type !== 'ended')) return;
      off();
      this.notifyRefer(from, ev.type === 'answered' ? 200 : (ev.status ?? 487), true);
    });
  }

  /** A NOTIFY of the implicit refer subscription (RFC 3515 2.4.4) carrying `status` as sipfrag. */
  private notifyRefer(call: string, status: number, final: boolean): void {
    this.phone.host.act((now) =>
      this.phone.ua.sendInDialog(call, 'NOTIFY', now, {
        headers: [
          { name: 'Event', value: 'refer' },
          {
            name: 'Subscription-State',
            value: final ? 'terminated;reason=noresource' : 'active;expires=60',
          },
        ],
        body: textBody(`SIP/2.0 ${status} ${reasonPhrase(status)}`),
        contentType: 'message/sipfrag',
      }),
    );
  }

  hold(callId: string, mode: 'sendonly' | 'inactive' = 'sendonly'): Promise<boolean> {
    return this.phone.hold(callId, mode);
  }

  resume(callId: string): Promise<boolean> {
    return this.phone.resume(callId);
  }

  answer(callId: string): void {
    this.phone.answer(callId);
  }

  hangup(callId: string): void {
    this.phone.hangup(callId);
  }

  /** The live contacts of an extension as the overlay has them (the CLI's `lookup`). */
  async lookup(extension: string): Promise<RegistrationContact[]> {
    const values = await this.directory.values(
      userResourceName(extension, this.opts.identity.office),
      'SIP-REGISTRATION',
    );
    return liveContacts(values, Date.now(), (v, error) =>
      this.log.warn('malformed registration ignored', { extension, writer: v.signer.user, error }),
    );
  }

  /** This user's USER-SETTINGS as the overlay has them now (the newest live value, every field kept). */
  async getUserSettings(): Promise<UserSettingsData> {
    const name = userResourceName(this.opts.identity.extension, this.opts.identity.office);
    const r = await this.opts.overlay.fetch(name, 'USER-SETTINGS');
    const now = Date.now();
    const v = r.values
      .filter((x) => x.kind === 'USER-SETTINGS' && x.exists && now < x.storageTime + x.lifetime)
      .sort((a, b) => b.storageTime - a.storageTime)[0];
    const d = v ? decodeJson<UserSettingsData>(v.value) : null;
    return d?.ok && typeof d.value === 'object' && d.value !== null ? d.value : { dnd: false };
  }

  private settingsWrites: Promise<unknown> = Promise.resolve();

  /**
   * Read-modify-write of this user's USER-SETTINGS: the latest record, `patch` merged in (a key set
   * to undefined is removed), stored. Serialized on this peer, so DND from presence, forwarding from
   * the settings screen and the voicemail PIN never overwrite each other.
   */
  updateUserSettings(patch: Partial<UserSettingsData>): Promise<UserSettingsData> {
    const run = this.settingsWrites.then(async () => {
      const next: Record<string, unknown> = { ...(await this.getUserSettings()), ...patch };
      for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
      await this.setUserSettings(next as unknown as UserSettingsData);
      return next as unknown as UserSettingsData;
    });
    this.settingsWrites = run.catch(() => {});
    return run;
  }

  /** Writes this user's whole USER-SETTINGS record (prefer updateUserSettings: this drops absent fields). */
  async setUserSettings(settings: UserSettingsData): Promise<void> {
    const name = userResourceName(this.opts.identity.extension, this.opts.identity.office);
    const value = new TextEncoder().encode(JSON.stringify(settings));
    await this.opts.overlay.store([this.opts.overlay.sign(name, 'USER-SETTINGS', value, 365 * 86_400_000)]);
  }

  /** Writes the office's OFFICE-CONFIG (dial plan, ring groups, trunks); needs an admin certificate. */
  async setOfficeConfig(config: DialPlanConfig): Promise<void> {
    const name = officeConfigResourceName(this.opts.identity.office);
    const value = new TextEncoder().encode(JSON.stringify(config));
    await this.opts.overlay.store([this.opts.overlay.sign(name, 'OFFICE-CONFIG', value, 365 * 86_400_000)]);
  }

  /** Clean shutdown: tombstones for every registration this peer published, then sockets closed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.publisher.removeAll(Date.now());
    this.drainPublisher();
    for (const t of this.publisherTimers.values()) clearTimeout(t);
    for (const r of this.routing.values()) clearTimeout(r.expiry);
    this.routing.clear();
    this.publisherTimers.clear();
    await Promise.race([
      Promise.allSettled([...this.pendingStores]),
      new Promise((r) => setTimeout(r, STOP_STORE_BUDGET_MS)),
    ]);
    this.dns.cancel();
    this.directory.close();
    this.host.close();
    await this.transports.close();
    await this.phone.close();
  }

  // --- registration ----------------------------------------------------------------------------

  private async publishOwnRegistration(): Promise<void> {
    const { extension, displayName } = this.opts.identity;
    // The record's lifetime, refreshed by the publisher, is what expires a crashed peer's contact.
    const contact: RegistrationContact = {
      uri: this.phone.uri,
      transport: 'UDP',
      expires: Date.now() + 365 * 86_400_000,
      nodeId: this.opts.overlay.nodeId,
      deskPhone: false,
      // MESSAGE goes to the proxy (the softphone does not take requests other than calls).
      gatewaySipAddress: this.sipUri,
    };
    this.ownContact = contact;
    this.publisher.set(extension, [contact], Date.now(), displayName);
    await this.drainPublisher();
  }

  /** This user's softphone contact: the user's own desk phone (*97) registers beside it, not over it. */
  private ownContact: RegistrationContact | null = null;

  private withOwnContact(aor: string, contacts: RegistrationContact[]): RegistrationContact[] {
    return aor === this.opts.identity.extension && this.ownContact
      ? [this.ownContact, ...contacts]
      : contacts;
  }

  /** Stores this peer's registrations again (after the office's ring changed, e.g. a merge). */
  republishRegistrations(): Promise<void> {
    this.publisher.republishAll(Date.now());
    return this.drainPublisher();
  }

  /** Carries out the publisher's effects; resolves when this round's stores are acknowledged. */
  private drainPublisher(): Promise<void> {
    const stores: Promise<unknown>[] = [];
    for (const e of this.publisher.drain()) stores.push(this.onPublisherEffect(e));
    return Promise.all(stores).then(() => {});
  }

  private onPublisherEffect(e: PublisherEffect): Promise<unknown> {
    if (e.type === 'set-timer') {
      clearTimeout(this.publisherTimers.get(e.id));
      const t = setTimeout(
        () => {
          this.publisherTimers.delete(e.id);
          this.publisher.timerFired(e.id, Date.now());
          void this.drainPublisher();
        },
        Math.max(0, e.at - Date.now()),
      );
      t.unref();
      this.publisherTimers.set(e.id, t);
      return Promise.resolve();
    }
    if (e.type === 'cancel-timer') {
      clearTimeout(this.publisherTimers.get(e.id));
      this.publisherTimers.delete(e.id);
      return Promise.resolve();
    }
    const p = this.opts.overlay.store([e.value]).then(
      (ack) => {
        if (e.value.exists) this.emit('event', { type: 'registered', extension: e.aor, copies: ack.copies });
      },
      (err: unknown) =>
        this.log.error('registration store failed', {
          aor: e.aor,
          exists: e.value.exists,
          error: String(err),
        }),
    );
    this.pendingStores.add(p);
    void p.finally(() => this.pendingStores.delete(p));
    return p;
  }

  // --- the proxy's events ---------------------------------------------------------------------

  private onProxyEvent(e: Exclude<ProxyEffect, { type: 'transmit' }>): void {
    switch (e.type) {
      case 'need-lookup':
        void this.route(e).catch((err: unknown) => {
          this.log.error('routing failed', { user: e.user, error: String(err) });
          this.answerLookup(e.id, { type: 'reject', status: 500, reason: 'Routing Failed' });
        });
        break;
      case 'publish':
        this.emit('event', { type: 'desk-phone', extension: e.aor, registered: true });
        this.publisher.set(e.aor, this.withOwnContact(e.aor, e.contacts), Date.now(), e.displayName);
        void this.drainPublisher();
        break;
      case 'unpublish': {
        this.emit('event', { type: 'desk-phone', extension: e.aor, registered: false });
        const left = this.withOwnContact(e.aor, []);
        if (left.length > 0) this.publisher.set(e.aor, left, Date.now(), this.opts.identity.displayName);
        else this.publisher.remove(e.aor, Date.now());
        void this.drainPublisher();
        break;
      }
      case 'final': {
        this.outside.forget(e.id);
        clearTimeout(this.routing.get(e.id)?.expiry);
        this.routing.delete(e.id);
        const token = this.messageContexts.get(e.id);
        if (token !== undefined) {
          this.messageContexts.delete(e.id);
          this.messageWaiters.get(token)?.(e.status);
        }
        this.emit('event', { type: 'final', id: e.id, status: e.status, method: e.method });
        break;
      }
      case 'warning':
        this.warnings.warn(e.message, e.context); // budgeted: a REGISTER flood warns per packet
        break;
      default:
        break;
    }
  }

  private answerLookup(id: string, result: LookupResult): void {
    if (this.stopped) return;
    this.host.act((now) => this.proxy.lookupResult(id, result, now));
  }

  /** One need-lookup: the first stage of a new call, or the next one after a failed stage. */
  private async route(e: Extract<ProxyEvent, { type: 'need-lookup' }>): Promise<void> {
    if (this.isOutside(e.request.uri)) return this.routeOutside(e);
    if (e.request.method === 'MESSAGE') return this.routeMessage(e);
    if (e.request.method === 'SUBSCRIBE' && this.subscriptionRouter)
      return this.answerLookup(e.id, this.subscriptionRouter(e));
    const dialPlan = await this.dialPlan();
    let state = this.routing.get(e.id);
    let stage: Stage;
    if (!state || !e.previous) {
      await this.prefetchSettings(
        this.isTrunk(e.source) ? (dialPlan.inbound?.[e.user] ?? e.user) : e.user,
        dialPlan,
      );
      const inbound = this.isTrunk(e.source);
      const expiry = setTimeout(() => this.routing.delete(e.id), ROUTING_STATE_TTL_MS);
      expiry.unref();
      state = {
        cursor: new PlanCursor(planCall(e.user, dialPlan, (x) => this.cachedSettings(x), { inbound })),
        expiry,
      };
      this.routing.set(e.id, state);
      stage = state.cursor.first();
    } else stage = state.cursor.next(e.previous.status);
    // Forwarding: plan the target again, one level deeper (planCall bounds the depth).
    while (stage.type === 'forward') {
      await this.prefetchSettings(stage.target, dialPlan);
      state.cursor = new PlanCursor(
        planCall(stage.target, dialPlan, (x) => this.cachedSettings(x), { depth: stage.depth }),
        stage.depth,
      );
      stage = state.cursor.first();
    }
    let targets = 0;
    let result: LookupResult;
    if (stage.type === 'ring') {
      const contacts = new Map<string, RegistrationContact[]>();
      await Promise.all(
        stage.step.targets.map(async (t) => {
          if (t.type === 'extension') contacts.set(t.extension, await this.lookup(t.extension));
        }),
      );
      result = this.localBranches(toLookupResult(stage, (x) => contacts.get(x) ?? []));
      if (result.type === 'fork') targets = result.targets.length;
    } else if (stage.type === 'reject') {
      result = { type: 'reject', status: stage.status, reason: stage.reason };
    } else result = this.voicemailStage(stage, e, state.cursor);
    this.emit('event', { type: 'routed', id: e.id, user: e.user, stage: stage.type, targets });
    this.answerLookup(e.id, result);
  }

  private readonly dns: SipDnsResolver;
  private readonly outside = new OutsideFailover();

  private get proxyAddress(): Address {
    return { transport: 'UDP', host: this.advertise, port: this.transports.port };
  }

  /** sip:user@domain outside the office and its trunks: routed by DNS (RFC 3263). */
  isOutside(uri: SipUri): boolean {
    const trunks = this.planOf(
      this.directory.cached(officeConfigResourceName(this.opts.identity.office), 'OFFICE-CONFIG'),
    ).trunks;
    return isOutsideUri(uri, {
      office: this.opts.identity.office,
      local: (host) => host === this.advertise || (trunks ?? []).some((t) => t.host.toLowerCase() === host),
    });
  }

  /** An outside domain: its RFC 3263 targets one at a time, the next on 503 or timeout. */
  private async routeOutside(e: Extract<ProxyEvent, { type: 'need-lookup' }>): Promise<void> {
    if (e.previous && this.outside.has(e.id)) {
      this.answerLookup(e.id, this.outside.retry(e.id, e.previous.status));
      return;
    }
    const { targets, reason } = await this.dns.locate(e.request.uri);
    this.log.info('outside domain located', { uri: serializeUri(e.request.uri), targets, reason });
    this.answerLookup(e.id, this.outside.start(e.id, e.request.uri, targets));
  }

  /** Proxy context of each MESSAGE this user sent -> its sendMessage token (for the final status). */
  private readonly messageContexts = new Map<string, string>();

  /**
   * MESSAGE: for this user, taken here (the app shows it); otherwise to every contact of the
   * extension, PeerPBX users through their peer's proxy (gatewaySipAddress), desk phones directly.
   */
  private async routeMessage(e: Extract<ProxyEvent, { type: 'need-lookup' }>): Promise<void> {
    const own = this.opts.identity.extension;
    const fromOwnPhone = e.source.port === this.phone.sipPort;
    const token = fromOwnPhone ? getHeader(e.request, MESSAGE_TOKEN_HEADER) : null;
    if (token) this.messageContexts.set(e.id, token);
    if (e.user === own && !fromOwnPhone) {
      this.emit('event', {
        type: 'message',
        from: serializeNameAddr(e.request.from),
        text: bodyText(e.request),
        contentType: getHeader(e.request, 'Content-Type') ?? 'text/plain',
      });
      this.answerLookup(e.id, { type: 'reject', status: 200, reason: 'OK' });
      return;
    }
    const targets: ProxyTarget[] = [];
    for (const c of await this.lookup(e.user)) {
      const via = !c.deskPhone && c.gatewaySipAddress ? parseUri(c.gatewaySipAddress) : null;
      const uri = via ? { ...via, user: e.user } : parseUri(c.uri);
      if (uri) targets.push({ uri, address: uriToAddress(uri, c.transport ?? 'UDP') });
    }
    const result: LookupResult =
      targets.length > 0
        ? this.localBranches({ type: 'fork', targets, timeoutMs: 10_000 })
        : { type: 'reject', status: 480, reason: 'Temporarily Unavailable' };
    this.answerLookup(e.id, result);
  }

  /** Branches to desk phones of this very gateway go straight to their bindings (no loop through us). */
  private localBranches(result: LookupResult): LookupResult {
    if (result.type !== 'fork') return result;
    const now = Date.now();
    const targets: ProxyTarget[] = [];
    for (const t of result.targets) {
      const ours = t.uri.host === this.advertise && (t.uri.port ?? 5060) === this.transports.port;
      const bindings = ours && t.uri.user ? (this.proxy.registrar?.bindings(t.uri.user, now) ?? []) : [];
      if (!ours) targets.push(t);
      for (const b of bindings) targets.push({ uri: b.contact.uri, address: b.source });
    }
    return { ...result, targets };
  }

  /** The parsed dial plan of the OFFICE-CONFIG values it came from (parse once per change). */
  private parsedPlan: { from: StoredValue[] | undefined; config: DialPlanConfig } = {
    from: undefined,
    config: {},
  };

  private planOf(values: StoredValue[] | undefined): DialPlanConfig {
    if (values === this.parsedPlan.from) return this.parsedPlan.config;
    const live = (values ?? []).filter((v) => v.exists && Date.now() < v.storageTime + v.lifetime);
    let config: DialPlanConfig = {};
    if (live.length > 0) {
      const parsed = parseDialPlan(live[live.length - 1].value);
      if (parsed.errors.length > 0) this.log.warn('OFFICE-CONFIG entries ignored', { errors: parsed.errors });
      config = parsed.config;
    }
    this.parsedPlan = { from: values, config };
    return config;
  }

  /** Whether `source` is one of the office's SIP trunks (trusted; its calls are inbound: DIDs). */
  isTrunk(source: Address): boolean {
    const values = this.directory.cached(
      officeConfigResourceName(this.opts.identity.office),
      'OFFICE-CONFIG',
    );
    return (this.planOf(values).trunks ?? []).some(
      (t) => t.host === source.host && (t.port ?? 5060) === source.port,
    );
  }

  /** The office dial plan (OFFICE-CONFIG), cached and watched like registrations. */
  async dialPlan(): Promise<DialPlanConfig> {
    const name = officeConfigResourceName(this.opts.identity.office);
    return this.planOf(await this.directory.values(name, 'OFFICE-CONFIG'));
  }

  private voicemail: Pick<VoicemailService, 'targetFor' | 'accessTargetFor'> | null = null;

  /** The peer's voicemail (src/main/voicemail); until set, voicemail stages answer 480. */
  setVoicemail(voicemail: Pick<VoicemailService, 'targetFor' | 'accessTargetFor'> | null): void {
    this.voicemail = voicemail;
  }

  /** Voicemail and *97 fork to this peer's voicemail UA (the caller's own peer answers). */
  private voicemailStage(
    stage: Extract<Stage, { type: 'voicemail' | 'voicemail-access' }>,
    e: Extract<ProxyEvent, { type: 'need-lookup' }>,
    cursor: PlanCursor,
  ): LookupResult {
    const vm = this.voicemail;
    if (!vm) return { type: 'reject', status: 480, reason: 'Temporarily Unavailable' };
    if (stage.type === 'voicemail') {
      const dnd = cursor.plan.type === 'divert' && cursor.plan.reason === 'dnd';
      const reason = dnd || e.previous?.outcome === 'busy' ? 'busy' : 'unavailable';
      return { type: 'fork', targets: [vm.targetFor(stage.extension, reason)] };
    }
    // *97 opens the caller's own box: a desk phone's account, or this peer's own user.
    const own = e.source.port === this.phone.sipPort ? this.opts.identity.extension : undefined;
    const target = vm.accessTargetFor(e.fromDeskPhone ?? own ?? '');
    return target
      ? { type: 'fork', targets: [target] }
      : { type: 'reject', status: 403, reason: 'Forbidden' };
  }

  private readonly settingsCache = new Map<string, UserSettingsData | undefined>();

  /** Loads the USER-SETTINGS planCall will ask for: the dialled extension, or a ring group's members. */
  private async prefetchSettings(dialled: string, plan: DialPlanConfig): Promise<void> {
    const user = dialled.replace(/^(sips?:|tel:)/i, '').split(/[@;]/)[0];
    const group = plan.ringGroups?.find((g) => g.extension === user);
    const users = group ? group.members : [user];
    await Promise.all(
      users.map(async (u) => {
        const values = await this.directory.values(
          userResourceName(u, this.opts.identity.office),
          'USER-SETTINGS',
        );
        const live = values.filter((v) => v.exists && Date.now() < v.storageTime + v.lifetime);
        this.settingsCache.set(
          u,
          live.length > 0 ? parseUserSettings(live[live.length - 1].value) : undefined,
        );
      }),
    );
  }

  private cachedSettings(extension: string): UserSettingsData | undefined {
    return this.settingsCache.get(extension);
  }
}
