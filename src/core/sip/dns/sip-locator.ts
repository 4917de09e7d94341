// RFC 3263 section 4 (client usage) as a pure planner: given a SIP URI and the DNS answers known so
// far, either ask for more lookups (NAPTR, SRV, A/AAAA) or return the ordered list of transport
// addresses to try (the caller fails over to the next on 503, timeout or transport error, 4.3).
// No I/O: the host runs the queries it asks for, adds the answers and calls again. SRV order
// follows RFC 2782 (priority, then weighted random with the `random` passed in).

import type { Address, TransportName } from '../../net.ts';
import type { SipUri } from '../message.ts';

export type DnsQueryType = 'NAPTR' | 'SRV' | 'A' | 'AAAA';

export interface DnsQuery {
  type: DnsQueryType;
  name: string;
}

export interface NaptrRecord {
  order: number;
  preference: number;
  flags: string;
  service: string;
  regexp: string;
  replacement: string;
}

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** One answer: its records (empty = no data / NXDOMAIN), or an error (server failure, timeout). */
export type DnsAnswer =
  | { type: 'NAPTR'; records: NaptrRecord[] }
  | { type: 'SRV'; records: SrvRecord[] }
  | { type: 'A' | 'AAAA'; records: string[] }
  | { type: DnsQueryType; error: string };

interface RecordsOf {
  NAPTR: NaptrRecord[];
  SRV: SrvRecord[];
  A: string[];
  AAAA: string[];
}

/** Answers by dnsKey(query). */
export type DnsAnswers = ReadonlyMap<string, DnsAnswer>;

export type LocatePlan =
  | { type: 'lookup'; queries: DnsQuery[] }
  /** `targets` in the order to try; empty when the name resolves to nothing usable (`reason`). */
  | { type: 'targets'; targets: Address[]; reason?: string };

export interface LocateOptions {
  /** Transports this client can use, in order of preference (default UDP, TCP). */
  transports?: TransportName[];
  /** Uniform in [0, 1): the weighted SRV choice within one priority. */
  random: () => number;
}

export function dnsKey(q: DnsQuery): string {
  return `${q.type} ${q.name.toLowerCase().replace(/\.$/, '')}`;
}

const NAPTR_SERVICES: Record<string, { transport: TransportName; secure: boolean }> = {
  'SIP+D2U': { transport: 'UDP', secure: false },
  'SIP+D2T': { transport: 'TCP', secure: false },
  'SIPS+D2T': { transport: 'TLS', secure: true },
};

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(':') || host.startsWith('[');
}

function defaultPort(t: TransportName): number {
  return t === 'TLS' ? 5061 : 5060;
}

function srvName(t: TransportName, host: string): string {
  return t === 'TLS' ? `_sips._tcp.${host}` : `_sip._${t.toLowerCase()}.${host}`;
}

/** 4.1: the transport a URI names explicitly (transport param, or sips), else null. */
function explicitTransport(uri: SipUri): TransportName | null {
  const p = uri.params.transport;
  if (typeof p === 'string') {
    const t = p.toUpperCase();
    if (uri.scheme === 'sips' || t === 'TLS') return 'TLS'; // sips over TCP is TLS
    return t === 'TCP' ? 'TCP' : t === 'UDP' ? 'UDP' : null;
  }
  return null;
}

/** RFC 2782: by priority; within one priority, repeatedly pick by running sum of weights. */
export function orderSrv(records: SrvRecord[], random: () => number): SrvRecord[] {
  const usable = records.filter((r) => r.target !== '.' && r.target !== '');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const out: SrvRecord[] = [];
  for (const p of priorities) {
    // Zero-weight records first so they keep a small chance (RFC 2782 "arrange ... zero weight first").
    const pool = usable.filter((r) => r.priority === p).sort((a, b) => a.weight - b.weight);
    while (pool.length > 0) {
      const total = pool.reduce((s, r) => s + r.weight, 0);
      const pick = Math.floor(random() * (total + 1));
      let sum = 0;
      let i = 0;
      for (; i < pool.length - 1; i++) {
        sum += pool[i].weight;
        if (sum >= pick) break;
      }
      out.push(pool[i]);
      pool.splice(i, 1);
    }
  }
  return out;
}

class Walk {
  readonly missing: DnsQuery[] = [];
  constructor(private readonly answers: DnsAnswers) {}

  /** The records of a lookup; null while unknown (then it is asked for), 'error' when it failed. */
  get<T extends DnsQueryType>(type: T, name: string): RecordsOf[T] | null | 'error' {
    const q = { type, name };
    const a = this.answers.get(dnsKey(q));
    if (!a) {
      if (!this.missing.some((m) => dnsKey(m) === dnsKey(q))) this.missing.push(q);
      return null;
    }
    return 'error' in a ? 'error' : (a.records as RecordsOf[T]);
  }

  /** A then AAAA addresses of `host` (null while either is unknown). */
  addresses(host: string): string[] | null {
    const a = this.get('A', host);
    const aaaa = this.get('AAAA', host);
    if (a === null || aaaa === null) return null;
    return [...(a === 'error' ? [] : a), ...(aaaa === 'error' ? [] : aaaa)];
  }

  /** Targets of an SRV answer in RFC 2782 order; null while some address is unknown. */
  srvTargets(records: SrvRecord[], transport: TransportName, random: () => number): Address[] | null {
    const ordered = orderSrv(records, random);
    const lists = ordered.map((r) => this.addresses(r.target));
    if (lists.some((l) => l === null)) return null;
    return ordered.flatMap((r, i) => (lists[i] ?? []).map((host) => ({ transport, host, port: r.port })));
  }
}

function done(targets: Address[], reason: string): LocatePlan {
  return targets.length > 0 ? { type: 'targets', targets } : { type: 'targets', targets, reason };
}

/** RFC 3263 4.1-4.2: the next lookups needed for `uri`, or the ordered targets. */
export function locateSipServers(uri: SipUri, answers: DnsAnswers, opts: LocateOptions): LocatePlan {
  const supported = opts.transports ?? ['UDP', 'TCP'];
  const secure = uri.scheme === 'sips';
  const maddr = uri.params.maddr;
  const host = (typeof maddr === 'string' && maddr ? maddr : uri.host).replace(/\.$/, '');
  let transport = explicitTransport(uri);
  if (transport === null && (isIpLiteral(host) || uri.port !== null)) transport = secure ? 'TLS' : 'UDP';
  if (transport !== null && !supported.includes(transport))
    return done([], `transport ${transport} not supported`);

  if (isIpLiteral(host)) {
    const t = transport ?? 'UDP';
    return done([{ transport: t, host: host.replace(/^\[|\]$/g, ''), port: uri.port ?? defaultPort(t) }], '');
  }
  const walk = new Walk(answers);
  const lookup = (): LocatePlan => ({ type: 'lookup', queries: walk.missing });
  const byAddress = (t: TransportName, port: number): LocatePlan => {
    const addrs = walk.addresses(host);
    if (addrs === null) return lookup();
    return done(
      addrs.map((h) => ({ transport: t, host: h, port })),
      `${host} has no address`,
    );
  };

  // 4.2: a port given means A/AAAA only.
  if (transport !== null && uri.port !== null) return byAddress(transport, uri.port);
  // 4.2: the transport is known: SRV for it, else A/AAAA on the default port.
  if (transport !== null) {
    const srv = walk.get('SRV', srvName(transport, host));
    if (srv === null) return lookup();
    if (srv !== 'error' && srv.length > 0) {
      const targets = walk.srvTargets(srv, transport, opts.random);
      return targets === null ? lookup() : done(targets, `SRV of ${host} leads nowhere`);
    }
    return byAddress(transport, defaultPort(transport));
  }

  // 4.1: NAPTR picks the transport; entries we support, by order then preference.
  const naptr = walk.get('NAPTR', host);
  if (naptr === null) return lookup();
  const entries = (naptr === 'error' ? [] : naptr)
    .filter((r) => r.flags.toLowerCase() === 's' && r.replacement && r.replacement !== '.')
    .map((r) => ({ r, svc: NAPTR_SERVICES[r.service.toUpperCase()] }))
    .filter((x) => x.svc && x.svc.secure === secure && supported.includes(x.svc.transport))
    .sort((a, b) => a.r.order - b.r.order || a.r.preference - b.r.preference);
  if (entries.length > 0) {
    const targets: Address[] = [];
    let pending = false;
    for (const { r, svc } of entries) {
      const srv = walk.get('SRV', r.replacement.replace(/\.$/, ''));
      if (srv === null || srv === 'error') {
        pending ||= srv === null;
        continue;
      }
      const t = walk.srvTargets(srv, svc.transport, opts.random);
      if (t === null) pending = true;
      else targets.push(...t);
    }
    if (pending) return lookup();
    if (targets.length > 0) return done(targets, '');
    // NAPTR entries whose SRVs lead nowhere: fall through to the SRV/A steps below.
  }

  // 4.1: no usable NAPTR: SRV for each supported transport (in our preference), then A/AAAA.
  const transports = supported.filter((t) => (t === 'TLS') === secure);
  const srvs = transports.map((t) => ({ t, srv: walk.get('SRV', srvName(t, host)) }));
  if (srvs.some((x) => x.srv === null)) return lookup();
  const targets: Address[] = [];
  for (const { t, srv } of srvs) {
    if (srv === null || srv === 'error' || srv.length === 0) continue;
    const list = walk.srvTargets(srv, t, opts.random);
    if (list === null) return lookup();
    targets.push(...list);
  }
  if (targets.length > 0 || srvs.some((x) => x.srv !== 'error' && (x.srv?.length ?? 0) > 0))
    return done(targets, `SRV of ${host} leads nowhere`);
  const fallback: TransportName = secure ? 'TLS' : 'UDP';
  if (!supported.includes(fallback)) return done([], `transport ${fallback} not supported`);
  return byAddress(fallback, defaultPort(fallback));
}
