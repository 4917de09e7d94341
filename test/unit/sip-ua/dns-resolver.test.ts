// The node:dns side of RFC 3263 against the test DNS server on loopback: real NAPTR/SRV/A/AAAA
// wire answers through SipDnsResolver, NXDOMAIN as "no records", and PEERPBX_DNS_SERVERS parsing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUri } from '../../../src/core/sip/uri.ts';
import { dnsServersFromEnv, SipDnsResolver } from '../../../src/main/sip/dns-resolver.ts';
import { TestDnsServer } from '../../helpers/dns-server.ts';

describe('SipDnsResolver', () => {
  let dns: TestDnsServer;
  beforeAll(async () => {
    dns = await TestDnsServer.start({
      'example.test': {
        NAPTR: [
          {
            order: 10,
            preference: 20,
            flags: 'S',
            service: 'SIP+D2U',
            regexp: '',
            replacement: '_sip._udp.example.test',
          },
          {
            order: 10,
            preference: 10,
            flags: 'S',
            service: 'SIP+D2T',
            regexp: '',
            replacement: '_sip._tcp.example.test',
          },
        ],
      },
      '_sip._udp.example.test': { SRV: [{ priority: 5, weight: 0, port: 5070, target: 'u.example.test' }] },
      '_sip._tcp.example.test': { SRV: [{ priority: 5, weight: 0, port: 5080, target: 't.example.test' }] },
      'u.example.test': { A: ['192.0.2.1'] },
      't.example.test': { A: ['192.0.2.2'], AAAA: ['2001:db8::2'] },
      'plain.test': { A: ['192.0.2.9'] },
    });
  });
  afterAll(() => dns.close());

  const uri = (s: string) => {
    const u = parseUri(s);
    if (!u) throw new Error(s);
    return u;
  };

  it('walks NAPTR -> SRV -> A/AAAA over the wire, TCP first by NAPTR preference', async () => {
    const r = new SipDnsResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 });
    expect(await r.locate(uri('sip:bob@example.test'))).toEqual({
      targets: [
        { transport: 'TCP', host: '192.0.2.2', port: 5080 },
        { transport: 'TCP', host: '2001:db8::2', port: 5080 },
        { transport: 'UDP', host: '192.0.2.1', port: 5070 },
      ],
      reason: undefined,
    });
  });

  it('no NAPTR/SRV: the A record on 5060; an unknown name: no targets with a reason', async () => {
    const r = new SipDnsResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 });
    expect((await r.locate(uri('sip:bob@plain.test'))).targets).toEqual([
      { transport: 'UDP', host: '192.0.2.9', port: 5060 },
    ]);
    const none = await r.locate(uri('sip:bob@missing.test'));
    expect(none.targets).toEqual([]);
    expect(none.reason).toMatch(/missing\.test has no address/);
    expect(dns.asked).toContain('NAPTR missing.test');
  });

  it('PEERPBX_DNS_SERVERS is a comma list; empty means the system servers', () => {
    expect(dnsServersFromEnv({ PEERPBX_DNS_SERVERS: '127.0.0.1:5353, 10.0.0.1' })).toEqual([
      '127.0.0.1:5353',
      '10.0.0.1',
    ]);
    expect(dnsServersFromEnv({ PEERPBX_DNS_SERVERS: ' ' })).toBeUndefined();
    expect(dnsServersFromEnv({})).toBeUndefined();
  });
});
