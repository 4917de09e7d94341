// The UDP socket pair of one RTP stream: RTP on an even port, RTCP on the next (RFC 3550 section
// 11), taken from a configured port range. Each pair is bound together so the two never split.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Address } from '../../core/net.ts';

export interface PortRange {
  /** First port of the range (rounded up to even). */
  min: number;
  /** Last port of the range (inclusive). */
  max: number;
}

export const DEFAULT_RTP_PORTS: PortRange = { min: 20000, max: 29999 };

/**
 * Hands out even RTP ports round-robin from a range, skipping ports in use by this process.
 * Round-robin (not lowest-free) keeps a just-closed port idle for a while, so late packets of an
 * ended call do not land in the next one.
 */
export class RtpPortAllocator {
  private readonly first: number;
  private readonly count: number;
  private cursor = 0;
  private readonly inUse = new Set<number>();

  constructor(readonly range: PortRange = DEFAULT_RTP_PORTS) {
    this.first = range.min + (range.min % 2);
    this.count = Math.max(0, Math.floor((range.max - this.first - 1) / 2) + 1);
    if (this.count === 0) throw new RangeError(`RTP port range ${range.min}-${range.max} holds no pair`);
  }

  /** Candidate ports to try, in order; each is reserved until release(). */
  *candidates(): Generator<number> {
    for (let tried = 0; tried < this.count; tried++) {
      const port = this.first + 2 * this.cursor;
      this.cursor = (this.cursor + 1) % this.count;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      yield port;
    }
  }

  release(port: number): void {
    this.inUse.delete(port);
  }

  get used(): number {
    return this.inUse.size;
  }
}

export type DatagramHandler = (data: Uint8Array, from: Address) => void;

function bindSocket(host: string, port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
  return new Promise((resolve, reject) => {
    s.once('error', (err) => {
      s.close();
      reject(err);
    });
    s.bind(port, host, () => {
      s.removeAllListeners('error');
      resolve(s);
    });
  });
}

function closeSocket(s: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

export class RtpSocketPair {
  private rtpHandler: DatagramHandler = () => {};
  private rtcpHandler: DatagramHandler = () => {};
  private closed = false;
  readonly counters = { sendErrors: 0, rtpIn: 0, rtcpIn: 0 };

  private constructor(
    readonly host: string,
    readonly port: number,
    private readonly rtp: dgram.Socket,
    private readonly rtcp: dgram.Socket,
    private readonly allocator: RtpPortAllocator | null,
  ) {
    const wire = (s: dgram.Socket, which: 'rtp' | 'rtcp') => {
      s.on('error', () => {
        this.counters.sendErrors++;
      });
      s.on('message', (data, rinfo) => {
        const from: Address = { transport: 'UDP', host: rinfo.address, port: rinfo.port };
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
        if (which === 'rtp') {
          this.counters.rtpIn++;
          this.rtpHandler(bytes, from);
        } else {
          this.counters.rtcpIn++;
          this.rtcpHandler(bytes, from);
        }
      });
    };
    wire(rtp, 'rtp');
    wire(rtcp, 'rtcp');
  }

  /** Binds the first free even/odd pair of the allocator's range on `host`. */
  static async open(host: string, allocator: RtpPortAllocator): Promise<RtpSocketPair> {
    for (const port of allocator.candidates()) {
      let rtp: dgram.Socket | null = null;
      try {
        rtp = await bindSocket(host, port);
        const rtcp = await bindSocket(host, port + 1);
        return new RtpSocketPair(host, port, rtp, rtcp, allocator);
      } catch {
        if (rtp) await closeSocket(rtp);
        allocator.release(port); // taken by another process: try the next pair
      }
    }
    throw new Error(`no free RTP port pair in ${allocator.range.min}-${allocator.range.max} on ${host}`);
  }

  onRtp(handler: DatagramHandler): void {
    this.rtpHandler = handler;
  }

  onRtcp(handler: DatagramHandler): void {
    this.rtcpHandler = handler;
  }

  sendRtp(to: Address, data: Uint8Array): void {
    this.send(this.rtp, to, data);
  }

  sendRtcp(to: Address, data: Uint8Array): void {
    this.send(this.rtcp, to, data);
  }

  private send(s: dgram.Socket, to: Address, data: Uint8Array): void {
    if (this.closed) return;
    s.send(data, to.port, to.host, (err) => {
      if (err) this.counters.sendErrors++;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([closeSocket(this.rtp), closeSocket(this.rtcp)]);
    this.allocator?.release(this.port);
  }
}
