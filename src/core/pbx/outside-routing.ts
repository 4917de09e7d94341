// Calls to SIP addresses outside the office (sip:user@domain where the domain is neither the office
// nor a trunk): which URIs count, and the failover over the RFC 3263 targets of one call. Each proxy
// context tries one target at a time (a fork of one with `fallback`); a 503, a timeout (408) or a
// transport error moves on to the next target (RFC 3263 4.3), any other final answer is the call's.

import type { Address } from '../net.ts';
import { isIpLiteral } from '../sip/dns/sip-locator.ts';
import type { SipUri } from '../sip/message.ts';
import type { LookupResult } from './proxy.ts';

export interface OutsideDomainRules {
  /** The office's own SIP domain. */
  office: string;
  /** Names of this peer and of the configured trunks (routed by the dial plan, not DNS). */
  local: (host: string) => boolean;
}

/** sip:user@domain with a DNS name that is neither the office's nor ours nor a trunk's. */
export function isOutsideUri(uri: SipUri, rules: OutsideDomainRules): boolean {
  if ((uri.scheme !== 'sip' && uri.scheme !== 'sips') || !uri.user) return false;
  const host = uri.host.toLowerCase().replace(/\.$/, '');
  if (!host || isIpLiteral(host) || host === 'localhost' || !host.includes('.')) return false;
  return host !== rules.office.toLowerCase() && !rules.local(host);
}

/** Final statuses after which the next target is tried (RFC 3263 4.3: 503, timeout, transport). */
const FAIL_OVER = new Set([408, 503]);

interface Pending {
  uri: SipUri;
  targets: Address[];
  next: number;
}

export class OutsideFailover {
  private readonly pending = new Map<string, Pending>();

  /** The first target of a call; `targets` from locateSipServers. */
  start(id: string, uri: SipUri, targets: Address[]): LookupResult {
    if (targets.length === 0) return { type: 'reject', status: 404, reason: 'Domain Not Found' };
    this.pending.set(id, { uri, targets, next: 0 });
    return this.advance(id);
  }

  /** The previous target ended with `status`: the next one, or that status for the caller. */
  retry(id: string, status: number): LookupResult {
    const p = this.pending.get(id);
    if (!p || !FAIL_OVER.has(status) || p.next >= p.targets.length) {
      this.pending.delete(id);
      return { type: 'reject', status };
    }
    return this.advance(id);
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  forget(id: string): void {
    this.pending.delete(id);
  }

  get size(): number {
    return this.pending.size;
  }

  private advance(id: string): LookupResult {
    const p = this.pending.get(id);
    if (!p) return { type: 'reject', status: 500 };
    const address = p.targets[p.next++];
    // More targets left: come back (need-lookup with `previous`) if this one fails; the last
    // target's own final response goes to the caller as it is.
    const more = p.next < p.targets.length;
    if (!more) this.pending.delete(id);
    return { type: 'fork', targets: [{ uri: p.uri, address }], fallback: more };
  }
}
