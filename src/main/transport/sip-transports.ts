// UDP and TCP on one address and port, as SIP expects (a Via sent-by port serves both).
import type { Address } from '../../core/net.ts';
import { createLogger, type Logger } from '../log.ts';
import { TcpTransport } from './tcp.ts';
import { DEFAULT_LIMITS, type InboundHandler, type SendOptions, type TransportLimits } from './types.ts';
import { UdpTransport } from './udp.ts';

export interface SipTransportsOptions {
  bind: string;
  /** 0 picks a free port that is free for both UDP and TCP. */
  port: number;
  onMessage: InboundHandler;
  limits?: Partial<TransportLimits>;
  log?: Logger;
}

export class SipTransports {
  readonly udp: UdpTransport;
  readonly tcp: TcpTransport;
  private boundPort = 0;

  private constructor(
    private readonly opts: SipTransportsOptions,
    readonly log: Logger,
  ) {
    const limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.udp = new UdpTransport(opts.onMessage, log.child({ transport: 'udp' }), limits.maxMessageBytes);
    this.tcp = new TcpTransport(opts.onMessage, log.child({ transport: 'tcp' }), limits);
  }

  static async start(opts: SipTransportsOptions): Promise<SipTransports> {
    const t = new SipTransports(opts, opts.log ?? createLogger({ component: 'transport' }));
    await t.listen();
    return t;
  }

  private async listen(): Promise<void> {
    const { bind, port } = this.opts;
    // With port 0 the UDP port the kernel picks may be taken on TCP: retry a few times.
    for (let attempt = 0; ; attempt++) {
      const udpPort = await this.udp.listen(bind, port);
      try {
        this.boundPort = await this.tcp.listen(bind, udpPort);
        return;
      } catch (err) {
        await this.udp.close();
        if (port !== 0 || attempt >= 10) throw err;
      }
    }
  }

  get port(): number {
    return this.boundPort;
  }

  get bind(): string {
    return this.opts.bind;
  }

  /** Our own address on a transport, for Via and Contact. */
  local(transport: 'UDP' | 'TCP'): Address {
    return { transport, host: this.opts.bind, port: this.boundPort };
  }

  send(to: Address, data: Uint8Array, opts: SendOptions = {}): void {
    if (to.transport === 'UDP') this.udp.send(to, data, opts.onError);
    else if (to.transport === 'TCP') this.tcp.send(to, data, opts);
    else {
      this.log.warn('send: transport not supported', { transport: to.transport });
      opts.onError?.(new Error(`transport ${to.transport} not supported`));
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.udp.close(), this.tcp.close()]);
  }
}
