// RFC 3263 planner (NAPTR -> SRV -> A/AAAA, transport and port rules, RFC 2782 SRV order) and the
// outside-domain failover over its targets. The DNS is a table; the planner is driven to the end.
import { describe, expect, it } from 'vitest';
import type { Address } from '../../../src/core/net.ts';
import { isOutsideUri, OutsideFailover } from '../../../src/core/pbx/outside-routing.ts';
import {
  type DnsAnswer,
  type DnsQuery,
  dnsKey,
  locateSipServers,
  type NaptrRecord,
  orderSrv,
  type SrvRecord,
} from '../../../src/core/sip/dns/sip-locator.ts';
import { parseUri } from '../../../src/core/sip/uri.ts';

type Zone = Record<string, DnsAnswer>;

const naptr = (order: number, preference: number, service: string, replacement: string): NaptrRecord => ({
  order,
  preference,
  flags: 's',
  service,
  regexp: '',
  replacement,
});
const srv = (priority: number, weight: number, port: number, target: string): SrvRecord => ({
  priority,
  weight,
  port,
  target,
});

/** Runs the planner against `zone` (missing names answer no records); returns targets and queries. */
function locate(uriText: string, zone: Zone, random = () => 0.5, transports?: Array<'UDP' | 'TCP' | 'TLS'>) {
  const uri = parseUri(uriText);
  if (!uri) throw new Error(uriText);
  const answers = new Map<string, DnsAnswer>();
  const asked: DnsQuery[][] = [];
  for (let round = 0; round < 10; round++) {
    const plan = locateSipServers(uri, answers, { random, transports });
    if (plan.type === 'targets') return { targets: plan.targets, reason: plan.reason, asked };
    asked.push(plan.queries);
    for (const q of plan.queries) {
      answers.set(dnsKey(q), zone[dnsKey(q)] ?? ({ type: q.type, records: [] } as DnsAnswer));
    }
  }
  throw new Error('planner did not finish');
}

const t = (transport: Address['transport'], host: string, port: number): Address => ({
  transport,
  host,
  port,
});

describe('RFC 3263 server location', () => {
  it('a numeric host needs no DNS: UDP (or the transport param) and the default port', () => {
    expect(locate('sip:bob@192.0.2.1', {})).toMatchObject({
      targets: [t('UDP', '192.0.2.1', 5060)],
      asked: [],
    });
    expect(locate('sip:bob@192.0.2.1:5070;transport=tcp', {}).targets).toEqual([t('TCP', '192.0.2.1', 5070)]);
  });

  it('a port given means A/AAAA only, on that port', () => {
    const zone: Zone = { 'A pbx.example.test': { type: 'A', records: ['192.0.2.7'] } };
    const r = locate('sip:bob@pbx.example.test:5080', zone);
    expect(r.targets).toEqual([t('UDP', '192.0.2.7', 5080)]);
    expect(r.asked.flat().map((q) => q.type)).toEqual(['A', 'AAAA']);
  });

  it('a transport param without port: SRV for that transport, then the targets addresses', () => {
    const zone: Zone = {
      'SRV _sip._tcp.example.test': { type: 'SRV', records: [srv(10, 0, 5070, 'b.example.test')] },
      'A b.example.test': { type: 'A', records: ['192.0.2.2'] },
    };
    const r = locate('sip:bob@example.test;transport=tcp', zone);
    expect(r.targets).toEqual([t('TCP', '192.0.2.2', 5070)]);
    expect(r.asked[0]).toEqual([{ type: 'SRV', name: '_sip._tcp.example.test' }]);
  });

  it('NAPTR picks transports by order then preference; unsupported services are skipped', () => {
    const zone: Zone = {
      'NAPTR example.test': {
        type: 'NAPTR',
        records: [
          naptr(20, 10, 'SIP+D2U', '_sip._udp.example.test'),
          naptr(10, 50, 'SIP+D2T', '_sip._tcp.example.test'),
          naptr(10, 40, 'SIP+D2S', '_sip._sctp.example.test'),
          naptr(5, 10, 'SIPS+D2T', '_sips._tcp.example.test'),
        ],
      },
      'SRV _sip._udp.example.test': { type: 'SRV', records: [srv(0, 0, 5060, 'u.example.test')] },
      'SRV _sip._tcp.example.test': { type: 'SRV', records: [srv(0, 0, 5062, 't.example.test')] },
      'A u.example.test': { type: 'A', records: ['192.0.2.10'] },
      'A t.example.test': { type: 'A', records: ['192.0.2.11'] },
      'AAAA t.example.test': { type: 'AAAA', records: ['2001:db8::11'] },
    };
    const r = locate('sip:bob@example.test', zone);
    // TCP (order 10) before UDP (order 20); SCTP and SIPS are not ours for a sip: URI over UDP/TCP.
    expect(r.targets).toEqual([
      t('TCP', '192.0.2.11', 5062),
      t('TCP', '2001:db8::11', 5062),
      t('UDP', '192.0.2.10', 5060),
    ]);
    expect(r.asked.map((round) => round.map((q) => q.type))).toEqual([
      ['NAPTR'],
      ['SRV', 'SRV'],
      ['A', 'AAAA', 'A', 'AAAA'],
    ]);
    expect(r.asked.flat().some((q) => q.name.includes('sctp') || q.name.includes('sips'))).toBe(false);
  });

  it('no NAPTR: SRV for each supported transport (UDP first); neither: A/AAAA on 5060 over UDP', () => {
    const zone: Zone = {
      'SRV _sip._tcp.example.test': { type: 'SRV', records: [srv(0, 0, 5070, 't.example.test')] },
      'A t.example.test': { type: 'A', records: ['192.0.2.3'] },
    };
    const r = locate('sip:bob@example.test', zone);
    expect(r.targets).toEqual([t('TCP', '192.0.2.3', 5070)]);
    expect(r.asked[1].map(dnsKey)).toEqual(['SRV _sip._udp.example.test', 'SRV _sip._tcp.example.test']);
    const plain = locate('sip:bob@example.test', { 'A example.test': { type: 'A', records: ['192.0.2.4'] } });
    expect(plain.targets).toEqual([t('UDP', '192.0.2.4', 5060)]);
    const none = locate('sip:bob@nowhere.test', {});
    expect(none.targets).toEqual([]);
    expect(none.reason).toMatch(/no address/);
  });

  it('SRV "." means no service; a sips: URI needs TLS, which a UDP/TCP client lacks', () => {
    const dot = locate('sip:bob@example.test;transport=udp', {
      'SRV _sip._udp.example.test': { type: 'SRV', records: [srv(0, 0, 0, '.')] },
    });
    expect(dot.targets).toEqual([]);
    expect(locate('sips:bob@example.test', {}).targets).toEqual([]);
  });

  it('a failed SRV lookup (server failure) falls back like no records', () => {
    const r = locate('sip:bob@example.test;transport=udp', {
      'SRV _sip._udp.example.test': { type: 'SRV', error: 'ESERVFAIL' },
      'A example.test': { type: 'A', records: ['192.0.2.5'] },
    });
    expect(r.targets).toEqual([t('UDP', '192.0.2.5', 5060)]);
  });

  it('SRV order: lower priority first always; within a priority by weight (RFC 2782)', () => {
    const records = [srv(20, 100, 1, 'c'), srv(10, 10, 2, 'a'), srv(10, 90, 3, 'b'), srv(30, 0, 4, 'd')];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let bFirst = 0;
    const runs = 2000;
    for (let i = 0; i < runs; i++) {
      const o = orderSrv(records, random).map((r) => r.target);
      expect(o.slice(2)).toEqual(['c', 'd']);
      expect(o.slice(0, 2).sort()).toEqual(['a', 'b']);
      if (o[0] === 'b') bFirst++;
    }
    const share = bFirst / runs;
    console.log(`SRV weight 90 of 100 came first in ${(share * 100).toFixed(1)}% of ${runs} orderings`);
    expect(share).toBeGreaterThan(0.85);
    expect(share).toBeLessThan(0.95);
  });
});

describe('outside-domain routing', () => {
  const rules = { office: 'office', local: (h: string) => h === 'trunk.example.test' };
  const uri = (s: string) => {
    const u = parseUri(s);
    if (!u) throw new Error(s);
    return u;
  };

  it('outside = a DNS name with a user that is not the office, this peer or a trunk', () => {
    expect(isOutsideUri(uri('sip:bob@example.test'), rules)).toBe(true);
    expect(isOutsideUri(uri('sip:101@office'), rules)).toBe(false);
    expect(isOutsideUri(uri('sip:bob@127.0.0.1'), rules)).toBe(false);
    expect(isOutsideUri(uri('sip:bob@trunk.example.test'), rules)).toBe(false);
    expect(isOutsideUri(uri('sip:example.test'), rules)).toBe(false);
    expect(isOutsideUri(uri('sip:bob@localhost'), rules)).toBe(false);
  });

  it('tries one target at a time: next on 503 and 408, stops on any other status', () => {
    const f = new OutsideFailover();
    const targets = [t('UDP', '192.0.2.1', 5060), t('UDP', '192.0.2.2', 5060), t('TCP', '192.0.2.3', 5070)];
    const to = uri('sip:bob@example.test');
    expect(f.start('k1', to, targets)).toEqual({
      type: 'fork',
      targets: [{ uri: to, address: targets[0] }],
      fallback: true,
    });
    expect(f.retry('k1', 503)).toMatchObject({ targets: [{ address: targets[1] }], fallback: true });
    // The last target goes without fallback: its own final response reaches the caller.
    expect(f.retry('k1', 408)).toMatchObject({ targets: [{ address: targets[2] }], fallback: false });
    expect(f.size).toBe(0);

    f.start('k2', to, targets);
    expect(f.retry('k2', 486)).toEqual({ type: 'reject', status: 486 });
    expect(f.size).toBe(0);
    expect(f.start('k3', to, [])).toMatchObject({ type: 'reject', status: 404 });
  });
});
