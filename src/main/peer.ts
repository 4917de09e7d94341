// The composition root of one peer. On a data folder enrolled in an office: the office node
// (overlay, discovery, peer cache, enrollment on the admin PC), then the phone system (OfficePbx:
// registrar + proxy on --sip-port, this user's softphone, call history). On a folder not enrolled:
// SIP only, a basic responder on --sip-port (OPTIONS 200, INVITE 404). Both: the control channel
// that `status`, `lookup`, `office approve` and `phone add` talk to.
import type { Address } from '../core/net.ts';
import type { DeskPhoneAccount, RegistrarConfig } from '../core/pbx/index.ts';
import type { TimerConfig } from '../core/sip/transaction/layer.ts';
import type { PeerConfig } from './config.ts';
import type { ControlRequest } from './control/protocol.ts';
import { ControlServer } from './control/server.ts';
import { hasIdentity, loadIdentity, openDataDatabase } from './identity/identity.ts';
import { createLogger, type Logger } from './log.ts';
import { deskPhoneAccounts } from './office/desk-phone-accounts.ts';
import { type LookupResult, OfficeNode } from './office/office-node.ts';
import { defaultAdvertiseHost } from './overlay/runtime.ts';
import { OfficePbx } from './pbx/office-pbx.ts';
import type { SoftPhoneOptions } from './phone/soft-phone.ts';
import { PresenceService } from './presence/presence-service.ts';
import { basicResponder } from './sip/basic-responder.ts';
import { SipEndpoint } from './sip/endpoint.ts';
import type { PeerDatabase } from './store/peer-database.ts';
import { SipTransports } from './transport/sip-transports.ts';
import type { TransportLimits } from './transport/types.ts';
import { Mailbox } from './voicemail/mailbox.ts';
import { mailboxControl } from './voicemail/mailbox-control.ts';
import { type VoicemailLimits, VoicemailService } from './voicemail/voicemail-service.ts';

export interface PeerOptions extends PeerConfig {
  limits?: Partial<TransportLimits>;
  /** SIP timer base values (T1 etc.); tests shorten them so transactions expire quickly. */
  sipTimers?: Partial<TimerConfig>;
  log?: Logger;
  /** Admin passphrase (admin PC): lets this peer issue certificates to joining PCs. */
  passphrase?: string;
  discovery?: { mdns?: boolean; broadcast?: boolean; beaconPort?: number };
  /** Voicemail limits (box size, recording length...); defaults in src/main/voicemail. */
  voicemailLimits?: Partial<VoicemailLimits>;
  /** The user's softphone on an enrolled folder (`run --auto-answer --play --record`). */
  phone?: Pick<SoftPhoneOptions, 'autoAnswer' | 'answerDelayMs' | 'play' | 'toneHz' | 'record'>;
}

export class Peer {
  private constructor(
    readonly config: PeerOptions,
    /** The basic responder's SIP sockets: only on a folder not enrolled (the pbx serves SIP otherwise). */
    readonly transports: SipTransports | null,
    readonly sip: SipEndpoint | null,
    private readonly log: Logger,
    /** Null when the data folder is not enrolled in an office (SIP only). */
    readonly office: OfficeNode | null,
    /** The phone system; present exactly when `office` is. */
    readonly pbx: OfficePbx | null,
    /** The data folder's database (settings, records, call history); null when not enrolled. */
    readonly db: PeerDatabase | null,
    private readonly control: ControlServer | null,
    /** This user's voicemail box (owner side); null when not enrolled. */
    readonly mailbox: Mailbox | null = null,
    /** The voicemail UA (deposits for callers of this peer, *97); null when not enrolled. */
    readonly voicemail: VoicemailService | null = null,
  ) {}

  /** Live presence and the desk-phone notifier (dialog, message-summary); null when not enrolled. */
  private presenceService: PresenceService | null = null;
  get presence(): PresenceService | null {
    return this.presenceService;
  }

  static async start(config: PeerOptions): Promise<Peer> {
    const log = config.log ?? createLogger({ component: 'peer' });
    if (!hasIdentity(config.dataDir)) return Peer.startSipOnly(config, log);
    const db = openDataDatabase(config.dataDir);
    let office: OfficeNode | null = null;
    let pbx: OfficePbx | null = null;
    let control: ControlServer | null = null;
    let mailbox: Mailbox | null = null;
    let presence: PresenceService | null = null;
    let voicemail: VoicemailService | null = null;
    try {
      const identity = loadIdentity(config.dataDir, db);
      // Discovery announces the SIP port before the pbx binds it: a port 0 is resolved first.
      const sipPort = config.sipPort === 0 ? await freeSipPort(config.bind) : config.sipPort;
      office = await OfficeNode.start({
        identity,
        db,
        bind: config.bind,
        overlayPort: config.overlayPort,
        sipPort,
        peers: config.peers.map((p) =>
          p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`,
        ),
        passphrase: config.passphrase,
        discovery: config.discovery,
        log: log.child({ component: 'office' }),
      });
      const advertise = defaultAdvertiseHost(config.bind);
      pbx = await OfficePbx.start({
        overlay: office.overlay,
        identity: {
          extension: identity.extension,
          office: identity.office,
          displayName: identity.displayName,
        },
        deskPhoneAccounts: deskPhoneAccounts(db.settings),
        sip: { bind: config.bind, advertise, port: sipPort },
        phone: { ...config.phone, statsIntervalMs: 0 },
        history: db.calls,
        log: log.child({ component: 'pbx' }),
      });
      const officePbx = pbx;
      office.onRepublish(() => officePbx.republishRegistrations());
      presence = await PresenceService.start({
        overlay: office.overlay,
        identity,
        pbx,
        log: log.child({ component: 'presence' }),
      });
      mailbox = await Mailbox.start({
        overlay: office.overlay,
        identity,
        settings: pbx,
        log: log.child({ component: 'mailbox' }),
      });
      const box = mailbox;
      voicemail = await VoicemailService.start({
        overlay: office.overlay,
        identity,
        bind: config.bind,
        advertise,
        mailbox: () => box,
        limits: config.voicemailLimits,
        log: log.child({ component: 'voicemail' }),
      });
      pbx.setVoicemail(voicemail);
      const running = { office, pbx, db, mailbox, presence };
      control = new ControlServer(
        config.dataDir,
        (req) => Peer.control(running, req),
        log.child({ component: 'control' }),
      );
      await control.start();
    } catch (err) {
      await control?.stop();
      await voicemail?.close();
      mailbox?.close();
      await presence?.close();
      await pbx?.stop();
      await office?.stop();
      db.close();
      throw err;
    }
    const peer = new Peer(config, null, null, log, office, pbx, db, control, mailbox, voicemail);
    peer.presenceService = presence;
    return peer;
  }

  /** A folder not enrolled: the basic responder on --sip-port, and a control channel that says so. */
  private static async startSipOnly(config: PeerOptions, log: Logger): Promise<Peer> {
    let endpoint: SipEndpoint | null = null;
    const transports = await SipTransports.start({
      bind: config.bind,
      port: config.sipPort,
      limits: config.limits,
      log: log.child({ component: 'transport' }),
      onMessage: (m) => endpoint?.receive(m),
    });
    endpoint = new SipEndpoint({
      sender: transports,
      log: log.child({ component: 'sip' }),
      timers: config.sipTimers,
    });
    endpoint.onEvent(basicResponder(endpoint, log.child({ component: 'responder' })));
    if (config.peers.length > 0)
      log.warn('data folder not enrolled in an office: --peer ignored (SIP only, no overlay)', {
        dataDir: config.dataDir,
      });
    else log.info('data folder not enrolled in an office: SIP only, no overlay', { dataDir: config.dataDir });
    const control = new ControlServer(
      config.dataDir,
      (req) => Peer.control(null, req),
      log.child({ component: 'control' }),
    );
    try {
      await control.start();
    } catch (err) {
      endpoint.close();
      await transports.close();
      throw err;
    }
    return new Peer(config, transports, endpoint, log, null, null, null, control);
  }

  private static async control(
    running: {
      office: OfficeNode;
      pbx: OfficePbx;
      db: PeerDatabase;
      mailbox: Mailbox | null;
      presence?: PresenceService | null;
    } | null,
    req: ControlRequest,
  ): Promise<unknown> {
    if (!running)
      throw new Error('this peer is not enrolled in an office (run `peerpbx office create` or `join`)');
    const { office, pbx, db } = running;
    switch (req.op) {
      case 'status':
        return office.status();
      case 'lookup': {
        const found = await registrationLookup(pbx, office.identity.office, req.extension);
        // Presence rides along (JSON output): available / ringing / on-call / dnd / away / offline.
        const presence = await running.presence?.get(req.extension).catch(() => undefined);
        return presence ? { ...found, presence } : found;
      }
      case 'join-requests':
        return office.enrollment?.pending() ?? [];
      case 'approve': {
        if (!office.enrollment) throw new Error('this peer is not the office admin');
        const r = await office.enrollment.approve(req.id);
        if (!r.ok) throw new Error(r.reason);
        return r;
      }
      case 'deny':
        if (!office.enrollment?.deny(req.id)) throw new Error(`no waiting join request ${req.id}`);
        return { ok: true };
      case 'reload-desk-phones': {
        const accounts = deskPhoneAccounts(db.settings);
        serveDeskPhoneAccounts(pbx, accounts);
        return { accounts: accounts.length };
      }
      case 'voicemail-list':
      case 'voicemail-export':
      case 'voicemail-heard':
      case 'voicemail-delete':
      case 'greeting-set':
      case 'pin-set':
        return mailboxControl(running.mailbox, req);
    }
  }

  /** Where SIP is served: the pbx's proxy/registrar, or the basic responder. */
  get sipAddress(): Address {
    if (this.pbx) return { transport: 'UDP', host: this.config.bind, port: this.pbx.sipPort };
    return (this.transports as SipTransports).local('UDP');
  }

  /** Sizes of everything that holds state per remote party: they must return to zero when idle. */
  stats(): { transactions: number; timers: number; tcpConnections: number } {
    if (this.pbx)
      return {
        transactions: this.pbx.proxy.load.transactions,
        timers: this.pbx.host.activeTimers,
        tcpConnections: this.pbx.transports.tcp.connectionCount,
      };
    return {
      transactions: this.sip?.layer.size ?? 0,
      timers: this.sip?.activeTimers ?? 0,
      tcpConnections: this.transports?.tcp.connectionCount ?? 0,
    };
  }

  async stop(): Promise<void> {
    await this.control?.stop();
    // Deposits in progress finish storing while the overlay is still there.
    await this.voicemail?.close();
    this.mailbox?.close();
    // Presence is tombstoned (watchers see offline at once) while the overlay is still there.
    await this.presence?.close();
    // Registrations are tombstoned while the overlay is still there to store them.
    await this.pbx?.stop();
    await this.office?.stop();
    this.db?.close();
    this.sip?.close();
    await this.transports?.close();
    this.log.info('peer stopped');
  }
}

/** A free port on `bind` for SIP over both UDP and TCP (bound and released at once). */
async function freeSipPort(bind: string): Promise<number> {
  const t = await SipTransports.start({ bind, port: 0, onMessage: () => {} });
  const port = t.port;
  await t.close();
  return port;
}

/**
 * `lookup`: the extension's live SIP-REGISTRATION contacts, i.e. where a call would ring now. A
 * member whose phone system is not registered is not reachable (no membership fallback: scripts
 * ask "can I call it").
 */
async function registrationLookup(
  pbx: OfficePbx,
  officeName: string,
  extension: string,
): Promise<LookupResult> {
  const contacts = await pbx.lookup(extension);
  return {
    extension,
    user: `${extension}@${officeName}`,
    reachable: contacts.length > 0,
    via: contacts.length > 0 ? ['registration'] : [],
    contacts: contacts.map((c) => ({
      uri: c.uri,
      nodeId: c.nodeId,
      address: sipHostPort(c.uri),
      deskPhone: c.deskPhone,
    })),
  };
}

function sipHostPort(uri: string): string {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^;:>]+)(?::(\d+))?/i.exec(uri);
  return m ? `${m[1]}:${m[2] ?? '5060'}` : '';
}

/**
 * Makes a running pbx serve `accounts` at once. TODO(coordinator): OfficePbx copies its
 * deskPhoneAccounts at start and has no setter; until it gets `setDeskPhoneAccounts()`, the
 * registrar's account lookup (a plain config field) is replaced here.
 */
export function serveDeskPhoneAccounts(pbx: OfficePbx, accounts: DeskPhoneAccount[]): void {
  const byExt = new Map(accounts.map((a) => [a.extension, a]));
  const setter = (pbx as { setDeskPhoneAccounts?: (a: DeskPhoneAccount[]) => void }).setDeskPhoneAccounts;
  if (setter) {
    setter.call(pbx, accounts);
    return;
  }
  const registrar = pbx.proxy.registrar as unknown as {
    cfg: { accounts: RegistrarConfig['accounts'] };
  } | null;
  if (registrar) registrar.cfg.accounts = (ext) => byExt.get(ext);
}
