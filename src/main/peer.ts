// The composition root of one peer: SIP on UDP and TCP (basic responder), and when the data folder
// belongs to an office, the office node (overlay, discovery, peer cache, enrollment on the admin
// PC) and the control channel that `status`, `lookup` and `office approve` talk to.
import type { Address } from '../core/net.ts';
import type { TimerConfig } from '../core/sip/transaction/layer.ts';
import type { PeerConfig } from './config.ts';
import type { ControlRequest } from './control/protocol.ts';
import { ControlServer } from './control/server.ts';
import { hasIdentity, loadIdentity, openDataDatabase } from './identity/identity.ts';
import { createLogger, type Logger } from './log.ts';
import { OfficeNode } from './office/office-node.ts';
import { basicResponder } from './sip/basic-responder.ts';
import { SipEndpoint } from './sip/endpoint.ts';
import type { PeerDatabase } from './store/peer-database.ts';
import { SipTransports } from './transport/sip-transports.ts';
import type { TransportLimits } from './transport/types.ts';

export interface PeerOptions extends PeerConfig {
  limits?: Partial<TransportLimits>;
  /** SIP timer base values (T1 etc.); tests shorten them so transactions expire quickly. */
  sipTimers?: Partial<TimerConfig>;
  log?: Logger;
  /** Admin passphrase (admin PC): lets this peer issue certificates to joining PCs. */
  passphrase?: string;
  discovery?: { mdns?: boolean; broadcast?: boolean; beaconPort?: number };
}

export class Peer {
  private constructor(
    readonly config: PeerOptions,
    readonly transports: SipTransports,
    readonly sip: SipEndpoint,
    private readonly log: Logger,
    /** Null when the data folder is not enrolled in an office (SIP only). */
    readonly office: OfficeNode | null,
    private readonly db: PeerDatabase | null,
    private readonly control: ControlServer | null,
  ) {}

  static async start(config: PeerOptions): Promise<Peer> {
    const log = config.log ?? createLogger({ component: 'peer' });
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
    let office: OfficeNode | null = null;
    let db: PeerDatabase | null = null;
    let control: ControlServer | null = null;
    try {
      if (hasIdentity(config.dataDir)) {
        db = openDataDatabase(config.dataDir);
        office = await OfficeNode.start({
          identity: loadIdentity(config.dataDir, db),
          db,
          bind: config.bind,
          overlayPort: config.overlayPort,
          sipPort: transports.local('UDP').port,
          peers: config.peers.map((p) =>
            p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`,
          ),
          passphrase: config.passphrase,
          discovery: config.discovery,
          log: log.child({ component: 'office' }),
        });
      } else if (config.peers.length > 0)
        log.warn('data folder not enrolled in an office: --peer ignored (SIP only, no overlay)', {
          dataDir: config.dataDir,
        });
      else
        log.info('data folder not enrolled in an office: SIP only, no overlay', { dataDir: config.dataDir });
      const o = office;
      control = new ControlServer(
        config.dataDir,
        (req) => Peer.control(o, req),
        log.child({ component: 'control' }),
      );
      await control.start();
    } catch (err) {
      await control?.stop();
      await office?.stop();
      db?.close();
      endpoint.close();
      await transports.close();
      throw err;
    }
    return new Peer(config, transports, endpoint, log, office, db, control);
  }

  private static async control(office: OfficeNode | null, req: ControlRequest): Promise<unknown> {
    if (!office)
      throw new Error('this peer is not enrolled in an office (run `peerpbx office create` or `join`)');
    switch (req.op) {
      case 'status':
        return office.status();
      case 'lookup':
        return office.lookup(req.extension);
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
    }
  }

  get sipAddress(): Address {
    return this.transports.local('UDP');
  }

  /** Sizes of everything that holds state per remote party: they must return to zero when idle. */
  stats(): { transactions: number; timers: number; tcpConnections: number } {
    return {
      transactions: this.sip.layer.size,
      timers: this.sip.activeTimers,
      tcpConnections: this.transports.tcp.connectionCount,
    };
  }

  async stop(): Promise<void> {
    await this.control?.stop();
    await this.office?.stop();
    this.db?.close();
    this.sip.close();
    await this.transports.close();
    this.log.info('peer stopped');
  }
}
