// Transaction matching (RFC 3261 17.1.3 and 17.2.3) and the response destination (18.2.2 + RFC 3581).

import type { Address, TransportName } from '../../net.ts';
import {
  BRANCH_MAGIC_COOKIE,
  type Params,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type SipUri,
  tagOf,
  topBranch,
  type Via,
} from '../message.ts';

/** 17.1.3: a response matches the client transaction with the same top branch and CSeq method. */
export function clientKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

export function clientKeyOfResponse(res: SipResponse): string {
  return clientKey(topBranch(res), res.cseq.method);
}

export function hasMagicCookie(msg: SipMessage): boolean {
  return topBranch(msg).startsWith(BRANCH_MAGIC_COOKIE);
}

function sentBy(v: Via | undefined): string {
  return v ? `${v.host.toLowerCase()}:${v.port ?? ''}` : '';
}

/**
 * 17.2.3 with the magic cookie: branch + sent-by + method, where an ACK matches the INVITE
 * transaction. `method` lets CANCEL look up the INVITE it cancels.
 */
export function serverKey(req: SipRequest, method = req.method): string {
  const m = method === 'ACK' ? 'INVITE' : method;
  return `${topBranch(req)}|${sentBy(req.via[0])}|${m}`;
}

function paramsKey(p: Params): string {
  return Object.keys(p)
    .sort()
    .map((k) => `${k}=${p[k] ?? ''}`)
    .join(';');
}

/** Structural URI comparison good enough for RFC 2543 matching of retransmissions. */
export function uriKey(u: SipUri): string {
  return [
    u.scheme,
    u.user ?? '',
    u.host.toLowerCase(),
    u.port ?? '',
    paramsKey(u.params),
    u.opaque ?? '',
  ].join('|');
}

function viaKey(v: Via | undefined): string {
  return v ? `${v.transport}|${sentBy(v)}|${paramsKey(v.params)}` : '';
}

/**
 * RFC 2543 fallback (17.2.3): Request-URI, From tag, Call-ID, CSeq number and top Via. The To tag
 * and the CSeq method are compared by the caller because ACK and CANCEL treat them differently.
 */
export function legacyKey(req: SipRequest): string {
  return [uriKey(req.uri), tagOf(req.from) ?? '', req.callId, req.cseq.seq, viaKey(req.via[0])].join('#');
}

function defaultPort(t: string): number {
  return t.toUpperCase() === 'TLS' ? 5061 : 5060;
}

function asTransport(t: string): TransportName {
  const u = t.toUpperCase();
  return u === 'TCP' || u === 'TLS' ? u : 'UDP';
}

/**
 * Where to send responses for a request whose top Via is `via`, received from `source`
 * (RFC 3261 18.2.2 and RFC 3581). The transport adds `received` and fills `rport` on receipt;
 * when it has not, the source address stands in for them.
 */
export function responseAddress(via: Via, source: Address): Address {
  const transport = asTransport(via.transport);
  // Reliable transports answer on the connection the request came in on.
  if (transport !== 'UDP') return { ...source };
  const maddr = via.params.maddr;
  if (typeof maddr === 'string' && maddr) {
    return { transport, host: maddr, port: via.port ?? defaultPort(transport) };
  }
  const received = via.params.received;
  const host = typeof received === 'string' && received ? received : via.host;
  if ('rport' in via.params) {
    const rport = Number(via.params.rport);
    const port = via.params.rport !== null && Number.isInteger(rport) && rport > 0 ? rport : source.port;
    return { transport, host: typeof received === 'string' && received ? received : source.host, port };
  }
  return { transport, host, port: via.port ?? defaultPort(transport) };
}
