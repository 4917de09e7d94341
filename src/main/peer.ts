// The composition root of one peer: transports, the SIP endpoint and (later) the overlay, store and
// UI bridge. Today: SIP on UDP and TCP answered by the basic responder.
import type { Address } from '../core/net.ts';
import type { TimerConfig } from '../core/sip/transaction/layer.ts';
import type { PeerConfig } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { basicResponder } from './sip/basic-responder.ts';
import { SipEndpoint } from './sip/endpoint.ts';
import { SipTransports } from './transport/sip-transports.ts';
import type { TransportLimits } from './transport/types.ts';

export interface PeerOptions extends PeerConfig {
  limits?: Partial<TransportLimits>;
  /** SIP timer base values (T1 etc.); tests shorten them so transactions expire quickly. */
  sipTimers?: Partial<TimerConfig>;
  log?: Logger;
}

export class Peer {
  private constructor(
    readonly config: PeerOptions,
    readonly transports: SipTransports,
    readonly sip: SipEndpoint,
    private readonly log: Logger,
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
    if (config.peers.length > 0)
      log.info('--peer given; the overlay is not built yet, ignoring', { peers: config.peers });
    return new Peer(config, transports, endpoint, log);
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
    this.sip.close();
    await this.transports.close();
    this.log.info('peer stopped');
  }
}
