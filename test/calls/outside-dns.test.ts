// A call to a SIP address outside the office, located by RFC 3263 DNS: a PeerPBX user dials
// sip:bob@example.test; the peer asks a test DNS server (NAPTR -> SRV -> A) and gets two SRV
// targets: priority 10 answers 503 (a sipp UAS), so the proxy fails over to priority 20, a sipp UAS
// that answers. The call connects and hangs up cleanly. Then a desk phone (sipp, digest account
// 302 of the same gateway) dials the same outside address through the gateway's proxy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDnsServer } from '../helpers/dns-server.ts';
import { freePort } from '../helpers/ports.ts';
import { killAll } from '../helpers/processes.ts';
import { haveSipp, type SippRun, sippErrors, startSipp } from '../helpers/sipp.ts';
import { newOffice, nextPbxEvent, type PbxPeer, startPbxPeer } from './harness.ts';
import { SCENARIOS } from './sipp-calls.ts';

/** A UAS that refuses every INVITE with 503 (an overloaded server: RFC 3263 4.3 tries the next). */
const UNAVAILABLE_UAS = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas 503">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 503 Service Unavailable
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag503[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
`;

describe.skipIf(!haveSipp())('calls to outside domains by RFC 3263 DNS', () => {
  const office = newOffice();
  let dns: TestDnsServer;
  let a: PbxPeer;
  let busy: SippRun;
  let uas: SippRun;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outside-dns-'));
    const busyPort = await freePort();
    const uasPort = await freePort();
    dns = await TestDnsServer.start({
      'example.test': {
        NAPTR: [
          {
            order: 10,
            preference: 10,
            flags: 's',
            service: 'SIP+D2U',
            regexp: '',
            replacement: '_sip._udp.example.test',
          },
        ],
      },
      '_sip._udp.example.test': {
        SRV: [
          { priority: 20, weight: 0, port: uasPort, target: 'backup.example.test' },
          { priority: 10, weight: 0, port: busyPort, target: 'main.example.test' },
        ],
      },
      'main.example.test': { A: ['127.0.0.1'] },
      'backup.example.test': { A: ['127.0.0.1'] },
    });
    const scenario = join(dir, 'uas-503.xml');
    writeFileSync(scenario, UNAVAILABLE_UAS);
    // Two calls each: the user's own, then the desk phone's.
    busy = startSipp({ scenario: { file: scenario }, localPort: busyPort, calls: 2 });
    uas = startSipp({ scenario: { file: join(SCENARIOS, 'uas.xml') }, localPort: uasPort, calls: 2 });
    const saved = process.env.PEERPBX_DNS_SERVERS;
    process.env.PEERPBX_DNS_SERVERS = dns.address; // the peer process inherits it
    try {
      a = await startPbxPeer({
        name: 'a',
        extension: '101',
        office,
        admin: true,
        tone: 440,
        deskPhones: [{ extension: '302', password: 'pw302' }],
      });
    } finally {
      if (saved === undefined) delete process.env.PEERPBX_DNS_SERVERS;
      else process.env.PEERPBX_DNS_SERVERS = saved;
    }
  }, 60_000);

  afterAll(async () => {
    await a?.request({ op: 'stop' }, 5000).catch(() => {});
    await killAll();
    await dns?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sip:bob@example.test: NAPTR -> SRV -> A, the 503 target is skipped, the backup answers', async () => {
    const t0 = Date.now();
    const call = String((await a.request({ op: 'dial', target: 'sip:bob@example.test' })).call);
    await nextPbxEvent(a, 'answered', (x) => x.call === call, 20_000);
    console.log(`outside call answered ${Date.now() - t0} ms after dial (DNS + 503 + failover)`);
    expect(dns.asked.slice(0, 2)).toEqual(['NAPTR example.test', 'SRV _sip._udp.example.test']);
    expect(dns.asked).toContain('A main.example.test');
    expect(dns.asked).toContain('A backup.example.test');

    await new Promise((r) => setTimeout(r, 500));
    await a.request({ op: 'hangup', call });
    expect((await nextPbxEvent(a, 'ended', (x) => x.call === call)).reason).toBe('local-bye');
  }, 45_000);

  it('a desk phone (sipp, digest) dials sip:bob@example.test through its gateway: same route', async () => {
    // uac-auth.xml with the outside address as Request-URI and To; the gateway is the next hop.
    const outside = readFileSync(join(SCENARIOS, 'uac-auth.xml'), 'utf8')
      .replaceAll('INVITE sip:[service]@[remote_ip]:[remote_port]', 'INVITE sip:[service]@example.test')
      .replaceAll('ACK sip:[service]@[remote_ip]:[remote_port]', 'ACK sip:[service]@example.test')
      .replaceAll('To: <sip:[service]@[remote_ip]:[remote_port]>', 'To: <sip:[service]@example.test>');
    const file = join(dir, 'uac-outside.xml');
    writeFileSync(file, outside);
    const uac = startSipp({
      scenario: { file },
      remote: `127.0.0.1:${String(a.ready.sipPort)}`,
      localPort: await freePort(),
      calls: 1,
      extra: ['-s', 'bob', '-key', 'caller', '302', '-au', '302', '-ap', 'pw302', '-d', '300'],
    });
    const r = await uac.finish();
    expect(r.stats?.successful, sippErrors(uac.dir)).toBe(1);
    const [b, u] = await Promise.all([busy.finish(), uas.finish()]);
    // Each call met the 503 server once and then completed at the backup.
    expect(b.stats?.successful, sippErrors(busy.dir)).toBe(2);
    expect(u.stats?.successful, sippErrors(uas.dir)).toBe(2);
    expect(u.stats?.failed).toBe(0);
  }, 45_000);
});
