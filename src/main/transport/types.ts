// What the SIP transports hand to the endpoint, and what they take from it.
import type { Address } from '../../core/net.ts';

export interface InboundMessage {
  /** One whole SIP message: a UDP datagram or one Content-Length-framed TCP message. */
  data: Uint8Array;
  /** The peer's address as seen on the socket (the source of a datagram, the remote end of a TCP link). */
  from: Address;
  /** The stream connection it arrived on; responses go back on it (RFC 3261 section 18.2.2). */
  connectionId?: string;
}

export type InboundHandler = (msg: InboundMessage) => void;

export interface TransportLimits {
  /** Largest message accepted or sent; bigger datagrams are dropped, bigger stream messages close the link. */
  maxMessageBytes: number;
  /** A TCP connection without traffic for this long is closed. */
  tcpIdleMs: number;
  /** At most this many TCP connections at once; new inbound ones beyond it are refused. */
  maxTcpConnections: number;
  /**
   * A message started on a stream must be complete within this time, else the link is closed: a
   * peer trickling bytes (slowloris) would otherwise hold a connection and its buffer forever.
   */
  partialMessageMs: number;
}

export const DEFAULT_LIMITS: TransportLimits = {
  maxMessageBytes: 64 * 1024,
  tcpIdleMs: 5 * 60_000,
  maxTcpConnections: 1024,
  partialMessageMs: 30_000,
};

export interface SendOptions {
  /** Send on this stream connection if it is still open. */
  connectionId?: string;
  /**
   * Where to connect when no connection to `to` is open (RFC 3261 18.2.2: a response whose
   * connection is gone goes to the Via's received address and sent-by port, not the old source port).
   */
  fallback?: Address;
  /** The message could not be delivered (connect refused, write failed): RFC 3261 17.1.4/17.2.4. */
  onError?: (err: Error) => void;
}
