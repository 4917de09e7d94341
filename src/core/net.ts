// Addresses and transmissions shared by every sans-IO state machine in src/core.
// Time is always a number of milliseconds passed in by the caller (src/main reads the clock).

export type TransportName = 'UDP' | 'TCP' | 'TLS';

export interface Address {
  transport: TransportName;
  host: string;
  port: number;
}

export type Millis = number;

export function addressKey(a: Address): string {
  return `${a.transport}:${a.host}:${a.port}`;
}

/** Stream transports are reliable: no retransmission timers (RFC 3261 section 17.1.1.2). */
export function isReliable(t: TransportName): boolean {
  return t !== 'UDP';
}
