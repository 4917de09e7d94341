// RFC 3263 lookups for calls to outside domains: runs the queries the sans-IO planner
// (core/sip/dns/sip-locator.ts) asks for with node:dns's promise Resolver, in parallel per round,
// and returns the ordered targets. DNS servers: `servers`, else PEERPBX_DNS_SERVERS
// ("127.0.0.1:5353,10.0.0.1"), else the system's.
import { randomInt } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type { Address, TransportName } from '../../core/net.ts';
import {
  type DnsAnswer,
  type DnsQuery,
  dnsKey,
  type LocatePlan,
  locateSipServers,
} from '../../core/sip/dns/sip-locator.ts';
import type { SipUri } from '../../core/sip/message.ts';
import type { Logger } from '../log.ts';

export interface SipDnsResolverOptions {
  servers?: string[];
  /** Per-query timeout (ms); node's Resolver retries `tries` times. */
  timeoutMs?: number;
  tries?: number;
  transports?: TransportName[];
  log?: Logger;
}

/** Rounds of lookups before giving up (NAPTR -> SRV -> A/AAAA is 3). */
const MAX_ROUNDS = 6;
/** Answers that mean "no such records" rather than a failure. */
const EMPTY_CODES = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN', 'ENONAME']);

export function dnsServersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const list = env.PEERPBX_DNS_SERVERS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list && list.length > 0 ? list : undefined;
}

export class SipDnsResolver {
  private readonly resolver: Resolver;

  constructor(private readonly opts: SipDnsResolverOptions = {}) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
    const servers = opts.servers ?? dnsServersFromEnv();
    if (servers) this.resolver.setServers(servers);
  }

  /** The transport addresses to try for `uri`, in order; empty with a reason when none. */
  async locate(uri: SipUri): Promise<{ targets: Address[]; reason?: string }> {
    const answers = new Map<string, DnsAnswer>();
    const random = () => randomInt(0, 2 ** 32) / 2 ** 32;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const plan: LocatePlan = locateSipServers(uri, answers, { random, transports: this.opts.transports });
      if (plan.type === 'targets') return { targets: plan.targets, reason: plan.reason };
      const results = await Promise.all(plan.queries.map((q) => this.query(q)));
      plan.queries.forEach((q, i) => {
        answers.set(dnsKey(q), results[i]);
      });
    }
    return { targets: [], reason: 'too many DNS rounds' };
  }

  cancel(): void {
    this.resolver.cancel();
  }

  private async query(q: DnsQuery): Promise<DnsAnswer> {
    try {
      switch (q.type) {
        case 'NAPTR':
          return { type: 'NAPTR', records: await this.resolver.resolveNaptr(q.name) };
        case 'SRV':
          return {
            type: 'SRV',
            records: (await this.resolver.resolveSrv(q.name)).map((r) => ({
              priority: r.priority,
              weight: r.weight,
              port: r.port,
              target: r.name,
            })),
          };
        case 'A':
          return { type: 'A', records: await this.resolver.resolve4(q.name) };
        case 'AAAA':
          return { type: 'AAAA', records: await this.resolver.resolve6(q.name) };
      }
    } catch (err) {
      const code = (err as { code?: string }).code ?? String(err);
      if (EMPTY_CODES.has(code)) return { type: q.type, records: [] } as DnsAnswer;
      this.opts.log?.warn('DNS lookup failed', { type: q.type, name: q.name, code });
      return { type: q.type, error: code };
    }
  }
}
