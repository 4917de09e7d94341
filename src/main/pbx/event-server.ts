// The gateway's notifier for desk phones (issue 6): SUBSCRIBE Event: dialog (BLF keys, RFC 4235)
// and Event: message-summary (the message-waiting lamp, RFC 3842), served on its own SIP port.
// Desk phones send their SUBSCRIBEs to this peer's proxy like any request: the proxy authenticates
// them (digest) and OfficePbx asks route() here, which forks them to the notifier (record-routed,
// so refreshes and NOTIFYs travel through the proxy too, which knows the phone's flow).
//
// State comes from the overlay: an extension's BLF from its PRESENCE (through PresenceService's
// watch), a mailbox's counts from its VOICEMAIL entries' clear metadata (nothing is decrypted).
import type { Address } from '../../core/net.ts';
import type { LookupResult, PbxProxy, ProxyEvent } from '../../core/pbx/index.ts';
import { decodeJson, type VoicemailEntryData } from '../../core/records/kinds.ts';
import { userResourceName } from '../../core/records/resource-names.ts';
import type { StoredValue } from '../../core/records/types.ts';
import {
  type BlfDialog,
  dialogPackage,
  LocalCallTracker,
  type MailboxCounts,
  messageSummaryPackage,
  type NotifierEffect,
  type NotifierEvent,
  nextBlfDialog,
  parseEventHeader,
  SubscriptionNotifier,
} from '../../core/sip/events/index.ts';
import { getHeader, type SipRequest } from '../../core/sip/message.ts';
import type { Logger } from '../log.ts';
import { DeviceStatePublisher } from '../presence/device-state-publisher.ts';
import type { PresenceView } from '../presence/presence-view.ts';
import { randomToken, SipHost } from '../sip/endpoint.ts';
import { SipTransports } from '../transport/sip-transports.ts';
import type { OfficePbx } from './office-pbx.ts';
import type { PbxOverlay } from './overlay-directory.ts';

type NeedLookup = Extract<ProxyEvent, { type: 'need-lookup' }>;

export interface EventServerOptions {
  /** With `proxy`, the BLF of this gateway's own desk phones follows their calls through it. */
  pbx: Pick<OfficePbx, 'advertise' | 'sipPort' | 'setSubscriptionRouter'> & Partial<Pick<OfficePbx, 'proxy'>>;
  overlay: PbxOverlay;
  office: string;
  presence: { watch(extension: string, cb: (p: PresenceView) => void): Promise<() => void> };
  log: Logger;
  /** Publish this gateway's desk phones' call state as DEVICE-STATE (default true, with `proxy`). */
  publishDeviceState?: boolean;
  /** DEVICE-STATE lifetime (default 12 s). */
  deviceStateLifetimeMs?: number;
  /** Subscription bounds, seconds (RFC 6665 423 below the minimum). */
  minExpires?: number;
  maxExpires?: number;
}

const EXTENSION = /^[0-9A-Za-z*#+._-]{1,32}$/;
const FORK_TIMEOUT_MS = 10_000;
const FEED_RETRY_MS = 2000;

/** New and heard messages of a mailbox from its VOICEMAIL entries (live ones only). */
export function mailboxCounts(values: StoredValue[], account: string, now: number): MailboxCounts {
  let newMessages = 0;
  let oldMessages = 0;
  for (const v of values) {
    if (v.kind !== 'VOICEMAIL' || !v.exists || now >= v.storageTime + v.lifetime) continue;
    const d = decodeJson<Partial<VoicemailEntryData>>(v.value);
    if (!d.ok || typeof d.value !== 'object' || d.value === null || typeof d.value.heard !== 'boolean')
      continue;
    if (d.value.heard) oldMessages++;
    else newMessages++;
  }
  return { account, newMessages, oldMessages };
}

export class EventServer {
  /** Stops feeding one watched resource. */
  private readonly feeds = new Map<string, () => void>();
  /** Recomputes the BLF of a watched extension (by extension). */
  private readonly dialogFeeds = new Map<string, () => void>();
  private readonly localCalls: LocalCallTracker | null;
  /** Tells other gateways (and every app) what this gateway's desk phones are doing. */
  private deviceStates: DeviceStatePublisher | null = null;
  private closed = false;

  private constructor(
    private readonly opts: EventServerOptions,
    private readonly transports: SipTransports,
    private readonly host: SipHost<NotifierEffect>,
    readonly notifier: SubscriptionNotifier,
    readonly address: Address,
  ) {
    host.onEvent((e) => this.onEvent(e as NotifierEvent));
    opts.pbx.setSubscriptionRouter((e) => this.route(e));
    this.localCalls = opts.pbx.proxy ? this.observeLocalPhones(opts.pbx.proxy) : null;
  }

  /**
   * Desk phones publish no PRESENCE (no certificate of their own): their BLF is read from the SIP
   * the proxy receives for them. The proxy's receive() is wrapped (not changed) to watch it.
   */
  private observeLocalPhones(proxy: PbxProxy): LocalCallTracker {
    const reg = proxy.registrar;
    const tracker = new LocalCallTracker(
      (user) => (reg?.bindings(user, Date.now()).length ?? 0) > 0,
      (source) => reg?.bindingFromSource(source, Date.now())?.aor,
    );
    if (this.opts.publishDeviceState ?? true)
      this.deviceStates = new DeviceStatePublisher({
        overlay: this.opts.overlay,
        office: this.opts.office,
        log: this.opts.log.child({ part: 'device-state' }),
        registered: (ext, now) => (reg?.bindings(ext, now).length ?? 0) > 0,
        activity: (ext, now) => tracker.activity(ext, now),
        lifetimeMs: this.opts.deviceStateLifetimeMs,
      });
    const receive = proxy.receive.bind(proxy);
    proxy.receive = (msg, from, now) => {
      let changed: string[] = [];
      try {
        changed = tracker.observe(msg, from, now);
        for (const aor of changed) this.dialogFeeds.get(aor)?.();
      } catch (err) {
        this.opts.log.error('desk-phone call tracking failed', { error: String(err) });
      }
      receive(msg, from, now);
      // After the proxy handled it: a REGISTER has (un)bound the phone by now.
      if (this.deviceStates) {
        if (msg.type === 'request' && msg.method === 'REGISTER' && msg.to.uri.user)
          changed = [...changed, msg.to.uri.user];
        for (const aor of changed) this.deviceStates.touch(aor);
      }
    };
    return tracker;
  }

  static async start(opts: EventServerOptions): Promise<EventServer> {
    const hostName = opts.pbx.advertise;
    let host: SipHost<NotifierEffect> | null = null;
    const transports = await SipTransports.start({
      bind: hostName,
      port: 0,
      onMessage: (m) => host?.receive(m),
      log: opts.log.child({ part: 'sip' }),
    });
    const address: Address = { transport: 'UDP', host: hostName, port: transports.port };
    const notifier = new SubscriptionNotifier(
      {
        host: hostName,
        port: transports.port,
        transport: 'UDP',
        packages: [dialogPackage, messageSummaryPackage],
        minExpires: opts.minExpires,
        maxExpires: opts.maxExpires,
        authorize: (req, _pkg, source) => authorize(req, source, opts.pbx),
      },
      randomToken,
    );
    host = new SipHost<NotifierEffect>(notifier, {
      sender: transports,
      log: opts.log.child({ part: 'notifier' }),
    });
    opts.log.info('desk-phone event notifier listening', {
      port: transports.port,
      packages: ['dialog', 'message-summary'],
    });
    return new EventServer(opts, transports, host, notifier, address);
  }

  get subscriptions(): number {
    return this.notifier.size;
  }

  /**
   * OfficePbx's router for SUBSCRIBE: a message-summary subscription only for the phone's own
   * mailbox (403 otherwise); everything else to the notifier, which answers bad ones (400/489).
   */
  route(e: NeedLookup): LookupResult {
    const event = parseEventHeader(getHeader(e.request, 'Event'));
    if (event.ok && event.value.package === 'message-summary' && e.fromDeskPhone !== e.user) {
      this.opts.log.warn('message-summary SUBSCRIBE for another mailbox refused', {
        mailbox: e.user,
        phone: e.fromDeskPhone ?? null,
        source: `${e.source.host}:${e.source.port}`,
      });
      return { type: 'reject', status: 403, reason: 'Not Your Mailbox' };
    }
    return {
      type: 'fork',
      targets: [
        {
          uri: {
            scheme: 'sip',
            user: e.user,
            password: null,
            host: this.address.host,
            port: this.address.port,
            params: {},
            headers: {},
          },
          address: this.address,
        },
      ],
      timeoutMs: FORK_TIMEOUT_MS,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Phones learn at once that their subscriptions are gone (they subscribe again elsewhere).
    this.host.act((now) => this.notifier.terminateAll('deactivated', now));
    for (const stop of this.feeds.values()) stop();
    this.feeds.clear();
    const tombstones = this.deviceStates?.close();
    await new Promise((r) => setTimeout(r, 50)); // let the final NOTIFYs leave the socket
    await tombstones;
    this.host.close();
    await this.transports.close();
  }

  private onEvent(e: NotifierEvent): void {
    switch (e.type) {
      case 'watch':
        this.feed(e.package, e.resource);
        break;
      case 'unwatch':
        this.feeds.get(`${e.package}\n${e.resource}`)?.();
        this.feeds.delete(`${e.package}\n${e.resource}`);
        break;
      case 'subscribed':
        this.opts.log.info('desk phone subscribed', {
          package: e.package,
          resource: e.resource,
          expires: e.expires,
        });
        break;
      case 'terminated':
        this.opts.log.info('subscription ended', {
          package: e.package,
          resource: e.resource,
          reason: e.reason,
        });
        break;
      case 'warning':
        this.opts.log.warn(e.message, e.context);
        break;
    }
  }

  private setState(pkg: string, resource: string, state: unknown): void {
    if (this.closed) return;
    this.host.act((now) => this.notifier.setState(pkg, resource, state, now));
  }

  /** Starts feeding a resource's state into the notifier until its last subscription ends. */
  private feed(pkg: string, extension: string): void {
    const key = `${pkg}\n${extension}`;
    let stopped = false;
    let cancel: (() => void) | null = null;
    let retry: NodeJS.Timeout | null = null;
    this.feeds.set(key, () => {
      stopped = true;
      cancel?.();
      if (retry) clearTimeout(retry);
    });
    const attempt = () => {
      retry = null;
      const started = pkg === 'dialog' ? this.feedDialog(extension) : this.feedMailbox(extension);
      started.then(
        (c) => {
          if (stopped) c();
          else cancel = c;
        },
        (err: unknown) => {
          // The overlay may be joining or reorganising: try again while the phone still wants it.
          this.opts.log.warn('cannot watch for desk phones; retrying', {
            package: pkg,
            extension,
            error: String(err),
          });
          if (stopped || this.closed) return;
          retry = setTimeout(attempt, FEED_RETRY_MS);
          retry.unref();
        },
      );
    };
    attempt();
  }

  /** BLF of an extension: its desk phone's calls through this gateway, else its PRESENCE. */
  private async feedDialog(extension: string): Promise<() => void> {
    let blf: BlfDialog = null;
    let presence = 'offline';
    const push = () => {
      const local = this.localCalls?.activity(extension, Date.now()) ?? null;
      blf = nextBlfDialog(blf, local ?? presence, () => randomToken());
      this.setState('dialog', extension, blf);
    };
    this.dialogFeeds.set(extension, push);
    try {
      const cancel = await this.opts.presence.watch(extension, (p) => {
        presence = p.state;
        push();
      });
      return () => {
        cancel();
        if (this.dialogFeeds.get(extension) === push) this.dialogFeeds.delete(extension);
      };
    } catch (err) {
      if (this.dialogFeeds.get(extension) === push) this.dialogFeeds.delete(extension);
      throw err;
    }
  }

  private async feedMailbox(extension: string): Promise<() => void> {
    const name = userResourceName(extension, this.opts.office);
    const account = `sip:${extension}@${this.opts.office}`;
    let notified = 0;
    const w = await this.opts.overlay.watch(name, 'VOICEMAIL', (values) => {
      notified++;
      this.setState('message-summary', extension, mailboxCounts(values, account, Date.now()));
    });
    const before = notified;
    try {
      const r = await this.opts.overlay.fetch(name, 'VOICEMAIL');
      if (notified === before)
        this.setState('message-summary', extension, mailboxCounts(r.values, account, Date.now()));
    } catch (err) {
      w.cancel();
      throw err;
    }
    return w.cancel;
  }
}

/**
 * A new subscription is served only when it came through this peer's proxy (which authenticated
 * the phone); the resource is the extension the SUBSCRIBE names.
 */
function authorize(
  req: SipRequest,
  source: Address,
  pbx: Pick<OfficePbx, 'advertise' | 'sipPort'>,
): { ok: true; resource: string } | { ok: false; status: number; reason: string } {
  const viaProxy =
    source.port === pbx.sipPort &&
    (source.host === pbx.advertise || source.host === '127.0.0.1' || source.host === '::1');
  if (!viaProxy) return { ok: false, status: 403, reason: 'Subscribe Through The Proxy' };
  const user = req.uri.user ?? '';
  if (!EXTENSION.test(user)) return { ok: false, status: 404, reason: 'No Such Extension' };
  return { ok: true, resource: user };
}
