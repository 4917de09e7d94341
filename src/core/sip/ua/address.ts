// From a SIP URI to the transport address of the next hop. Names are left for the transport to
// resolve; the port defaults per scheme/transport. Full RFC 3263 (NAPTR/SRV, failover) for
// outside domains is the planner in ../dns/sip-locator.ts, run by the pbx before forwarding.

import type { Address, TransportName } from '../../net.ts';
import type { SipUri } from '../message.ts';

export function uriToAddress(uri: SipUri, fallback: TransportName): Address {
  const param = uri.params.transport;
  let transport: TransportName = fallback;
  if (typeof param === 'string') {
    const t = param.toUpperCase();
    transport = t === 'TCP' || t === 'TLS' ? t : 'UDP';
  }
  if (uri.scheme === 'sips') transport = 'TLS';
  const maddr = uri.params.maddr;
  const host = typeof maddr === 'string' && maddr ? maddr : uri.host;
  return { transport, host, port: uri.port ?? (transport === 'TLS' ? 5061 : 5060) };
}
