// The real `peerpbx run` process answers what a SIP peer without users must answer: OPTIONS 200
// (to sipp, UDP and TCP), INVITE to an unknown user 404, malformed requests 400, odd methods 405/501.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { killAll, type PeerProcess, startPeer } from '../helpers/processes.ts';
import { request, statusOf, tcpExchange, udpExchange } from '../helpers/raw-sip.ts';
import { haveSipp, sippErrors, startSipp } from '../helpers/sipp.ts';

const SCENARIOS = join(import.meta.dirname, 'scenarios');

describe('peerpbx run', () => {
  let peer: PeerProcess;
  beforeAll(async () => {
    peer = await startPeer();
  });
  afterAll(async () => {
    await killAll();
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it.skipIf(!haveSipp())(`answers sipp's OPTIONS with 200 and Allow over ${transport}`, async () => {
      const sipp = startSipp({
        scenario: { file: join(SCENARIOS, 'options.xml') },
        remote: `127.0.0.1:${peer.port}`,
        localPort: await freePort(),
        transport,
        calls: 10,
      });
      const r = await sipp.finish();
      expect(r.code, sippErrors(sipp.dir) + r.stderr).toBe(0);
      expect(r.stats?.successful).toBe(10);
      expect(r.stats?.failed).toBe(0);
    });

    it.skipIf(!haveSipp())(
      `answers sipp's INVITE to an unknown user with 404 over ${transport}`,
      async () => {
        const sipp = startSipp({
          scenario: { file: join(SCENARIOS, 'invite-404.xml') },
          remote: `127.0.0.1:${peer.port}`,
          localPort: await freePort(),
          transport,
          calls: 5,
          extra: ['-s', 'nobody'],
        });
        const r = await sipp.finish();
        expect(r.code, sippErrors(sipp.dir) + r.stderr).toBe(0);
        expect(r.stats?.successful).toBe(5);
      },
    );
  }

  it('OPTIONS over raw UDP gets 200 with Allow, Accept and Supported', async () => {
    const [res] = await udpExchange(peer.port, request('OPTIONS', 'x', peer.port));
    expect(statusOf(res)).toBe(200);
    expect(res).toMatch(/\r\nAllow: [^\r]*INVITE/);
    expect(res).toMatch(/\r\nAccept: application\/sdp\r\n/);
    expect(res).toMatch(/\r\nSupported:/);
    // RFC 3581: the response records where the request came from.
    expect(res).toMatch(/;received=127\.0\.0\.1/);
    expect(res).toMatch(/;rport=\d+/);
  });

  it('INVITE to an unknown user over TCP gets 404 on the same connection', async () => {
    const res = await tcpExchange(peer.port, request('INVITE', 'nobody', peer.port, 'TCP'));
    expect(res).toMatch(/^SIP\/2\.0 (100 Trying\r\n[\s\S]*SIP\/2\.0 )?404 /);
    expect(res).toContain('SIP/2.0 404 Not Found');
  });

  it('malformed requests get 400 over UDP and TCP', async () => {
    const bad = request('OPTIONS', 'x', peer.port).replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS');
    const [res] = await udpExchange(peer.port, bad);
    expect(statusOf(res)).toBe(400);
    const mismatch = request('OPTIONS', 'x', peer.port, 'TCP').replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE');
    expect(statusOf(await tcpExchange(peer.port, mismatch))).toBe(400);
  });

  it('a request of another SIP version gets 505', async () => {
    const [res] = await udpExchange(
      peer.port,
      request('OPTIONS', 'x', peer.port).replace(' SIP/2.0\r\n', ' SIP/7.0\r\n'),
    );
    expect(statusOf(res)).toBe(505);
  });

  it('unknown and unsupported methods get 501 and 405 with Allow', async () => {
    const [r501] = await udpExchange(peer.port, request('FROB', 'x', peer.port));
    expect(statusOf(r501)).toBe(501);
    const [r405] = await udpExchange(peer.port, request('SUBSCRIBE', 'x', peer.port));
    expect(statusOf(r405)).toBe(405);
    expect(r405).toMatch(/\r\nAllow: /);
  });

  it('junk without Via gets no answer and the peer keeps serving', async () => {
    expect(await udpExchange(peer.port, 'hello there\r\n\r\n', 300)).toEqual([]);
    const [res] = await udpExchange(peer.port, request('OPTIONS', 'x', peer.port));
    expect(statusOf(res)).toBe(200);
  });
});
