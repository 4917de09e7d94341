// RFC 3261 section 18.2.1 and RFC 3581: the server transport records where a request really came
// from in its top Via, so responses find their way back through NAT.
import type { Address } from '../../core/net.ts';
import type { SipRequest } from '../../core/sip/message.ts';

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Adds `received` when the sent-by host differs from the source IP (always when rport was asked),
 * and fills an empty `rport` with the source port. Mutates the freshly parsed request in place.
 */
export function stampVia(req: SipRequest, from: Address): void {
  const top = req.via[0];
  if (!top) return;
  const wantsRport = 'rport' in top.params && (top.params.rport === null || top.params.rport === '');
  if (wantsRport) top.params.rport = String(from.port);
  if (wantsRport || unbracket(top.host).toLowerCase() !== unbracket(from.host).toLowerCase()) {
    top.params.received = unbracket(from.host);
  }
}
