// Helpers of the proxy core for RFC 3261 sections 16.3-16.6: "is this URI me", the route set of a
// request, Record-Route values, and branch ids that carry a loop-detection hash.

import { createHash } from 'node:crypto';
import type { TransportName } from '../net.ts';
import {
  BRANCH_MAGIC_COOKIE,
  getHeaders,
  type Header,
  type NameAddr,
  type SipRequest,
  type SipUri,
  tagOf,
  type Via,
} from '../sip/message.ts';
import { parseNameAddrList } from '../sip/parse.ts';
import { serializeNameAddr, serializeUri } from '../sip/serialize.ts';

export interface LocalIdentity {
  host: string;
  port: number;
  transport: TransportName;
  /** Other names of this proxy (every interface address, a DNS name). */
  aliases?: Array<{ host: string; port: number }>;
  /** Domains that name this proxy whatever the port (e.g. the office SIP domain phones register to). */
  domains?: string[];
  /**
   * Outside domains the coordinator routes by DNS (RFC 3263): a request for such an AoR (a user,
   * no port, no lr) is taken as ours, so it gets a need-lookup instead of a blind forward.
   */
  outsideDomain?: (uri: SipUri) => boolean;
}

function defaultPort(scheme: string, transport?: string | null): number {
  return scheme === 'sips' || transport?.toLowerCase() === 'tls' ? 5061 : 5060;
}

function names(me: LocalIdentity): Array<{ host: string; port: number }> {
  return [{ host: me.host, port: me.port }, ...(me.aliases ?? [])];
}

/** Whether a URI names this proxy (host and port). */
export function isLocalUri(me: LocalIdentity, uri: SipUri): boolean {
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return false;
  const t = uri.params.transport;
  const port = uri.port ?? defaultPort(uri.scheme, typeof t === 'string' ? t : null);
  const host = uri.host.toLowerCase();
  if (me.domains?.some((d) => d.toLowerCase() === host)) return true;
  if (names(me).some((n) => n.host.toLowerCase() === host && n.port === port)) return true;
  return (
    uri.user !== null && uri.port === null && !('lr' in uri.params) && (me.outsideDomain?.(uri) ?? false)
  );
}

/** Whether a Via was written by this proxy (sent-by is ours). */
export function isLocalVia(me: LocalIdentity, via: Via): boolean {
  const port = via.port ?? defaultPort('sip', via.transport);
  const host = via.host.toLowerCase();
  return names(me).some((n) => n.host.toLowerCase() === host && n.port === port);
}

/** The Route set of a request in order (comma lists split); null when a value does not parse. */
export function routeSet(req: { headers: Header[] }): NameAddr[] | null {
  const out: NameAddr[] = [];
  for (const v of getHeaders(req, 'Route')) {
    const list = parseNameAddrList(v);
    if (!list) return null;
    out.push(...list);
  }
  return out;
}

/** Replaces the Route headers (one per entry), keeping them where the first one was. */
export function setRouteSet(req: { headers: Header[] }, routes: NameAddr[]): void {
  const at = req.headers.findIndex((h) => h.name === 'Route');
  const rest = req.headers.filter((h) => h.name !== 'Route');
  const values = routes.map((r) => ({ name: 'Route', value: serializeNameAddr(r) }));
  const pos = at < 0 ? 0 : Math.min(at, rest.length);
  req.headers = [...rest.slice(0, pos), ...values, ...rest.slice(pos)];
}

/** The URI this proxy puts in Record-Route: loose routing (";lr"), transport when not UDP. */
export function recordRouteUri(me: LocalIdentity): SipUri {
  const params: Record<string, string | null> = { lr: null };
  if (me.transport !== 'UDP') params.transport = me.transport.toLowerCase();
  return { scheme: 'sip', user: null, password: null, host: me.host, port: me.port, params, headers: {} };
}

/** Adds our Record-Route above any existing ones (16.6 step 4). */
export function addRecordRoute(req: SipRequest, me: LocalIdentity): void {
  const value = `<${serializeUri(recordRouteUri(me))}>`;
  const at = req.headers.findIndex((h) => h.name === 'Record-Route');
  if (at < 0) req.headers.unshift({ name: 'Record-Route', value });
  else req.headers.splice(at, 0, { name: 'Record-Route', value });
}

/**
 * 16.6 step 8: a hash over the fields that stay the same when a request loops back to us (the
 * top Via is left out: it changes on every hop). A spiral changes the Request-URI, a loop does not.
 */
export function loopHash(req: SipRequest): string {
  const h = createHash('sha256');
  h.update(serializeUri(req.uri));
  h.update(`\n${tagOf(req.from) ?? ''}\n${tagOf(req.to) ?? ''}\n${req.callId}\n${req.cseq.seq}\n`);
  h.update(getHeaders(req, 'Proxy-Require').join(','));
  h.update('\n');
  h.update(getHeaders(req, 'Proxy-Authorization').join(','));
  return h.digest('hex').slice(0, 16);
}

const BRANCH_RE = new RegExp(`^${BRANCH_MAGIC_COOKIE}-px-([0-9a-f]{16})-([A-Za-z0-9]+)-(\\d+)$`);

export function makeBranch(hash: string, contextId: string, n: number): string {
  return `${BRANCH_MAGIC_COOKIE}-px-${hash}-${contextId}-${n}`;
}

/** The parts of a branch made by makeBranch, or null. */
export function parseBranch(branch: string): { hash: string; contextId: string; n: number } | null {
  const m = BRANCH_RE.exec(branch);
  return m ? { hash: m[1], contextId: m[2], n: Number(m[3]) } : null;
}

/** 16.3 step 4: the request carries a Via of ours whose branch hash equals this request's hash. */
export function isLoop(me: LocalIdentity, req: SipRequest): boolean {
  let hash: string | null = null;
  for (const v of req.via) {
    if (!isLocalVia(me, v)) continue;
    const b = typeof v.params.branch === 'string' ? parseBranch(v.params.branch) : null;
    if (!b) continue;
    hash ??= loopHash(req);
    if (b.hash === hash) return true;
  }
  return false;
}
