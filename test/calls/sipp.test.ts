// sipp as a second, independent SIP client of the gateway peers: REGISTER with digest, receive a
// call from a PeerPBX user, place a call (407 proxy auth) to a PeerPBX user, and a load run of 100
// calls desk phone -> gateway A -> overlay -> gateway B -> desk phone with no failure.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { killAll } from '../helpers/processes.ts';
import { haveSipp, sippErrors, startSipp } from '../helpers/sipp.ts';
import {
  newOffice,
  nextPbxEvent,
  overlayAddress,
  type PbxPeer,
  startPbxPeer,
  waitForContacts,
} from './harness.ts';
import { callSippUas, SCENARIOS, sippRegister } from './sipp-calls.ts';

describe.skipIf(!haveSipp())('sipp against gateway peers', () => {
  const office = newOffice();
  let a: PbxPeer; // 101; serves desk phone 302
  let b: PbxPeer; // 102 (auto-answer); serves desk phone 301
  let uasPort = 0;

  beforeAll(async () => {
    a = await startPbxPeer({
      name: 'a',
      extension: '101',
      office,
      deskPhones: [{ extension: '302', password: 'pw302' }],
    });
    b = await startPbxPeer({
      name: 'b',
      extension: '102',
      office,
      bootstrap: [overlayAddress(a)],
      autoAnswer: true,
      deskPhones: [{ extension: '301', password: 'pw301' }],
    });
    uasPort = await freePort();
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([a, b].filter(Boolean).map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
  });

  const register = (peer: PbxPeer, ext: string, password: string, localPort: number) =>
    sippRegister(Number(peer.ready.sipPort), ext, localPort, password);

  it('sipp registers 301 (digest) on B, and receives a call from PeerPBX user 101', async () => {
    await register(b, '301', 'pw301', uasPort);
    await waitForContacts(a, '301', 1);
    const stats = await callSippUas(a, '301', uasPort);
    expect(stats?.failed).toBe(0);
  }, 40_000);

  it('a wrong password is refused', async () => {
    const reg = startSipp({
      scenario: { file: join(SCENARIOS, 'register-auth.xml') },
      remote: `127.0.0.1:${String(b.ready.sipPort)}`,
      localPort: await freePort(),
      calls: 1,
      extra: ['-s', '301', '-au', '301', '-ap', 'wrong'],
    });
    const r = await reg.finish();
    expect(r.stats?.successful).toBe(0);
  }, 60_000);

  it('sipp 302 registered on A calls PeerPBX user 102 through A (407 proxy auth)', async () => {
    const port = await freePort();
    await register(a, '302', 'pw302', port);
    const uac = startSipp({
      scenario: { file: join(SCENARIOS, 'uac-auth.xml') },
      remote: `127.0.0.1:${String(a.ready.sipPort)}`,
      localPort: port,
      calls: 1,
      extra: ['-s', '102', '-key', 'caller', '302', '-au', '302', '-ap', 'pw302', '-d', '500'],
    });
    const r = await uac.finish();
    expect(r.stats?.successful, sippErrors(uac.dir)).toBe(1);
    const ended = await nextPbxEvent(b, 'ended');
    expect(ended.reason).toBe('remote-bye');
  }, 40_000);

  const N = Number(process.env.N ?? 100);
  it('load: 100 calls 302 -> A -> B -> 301, 0 failures, routed from the watched cache', async () => {
    // Bounded by the UAC's count, not its own: a stray retransmission may count as a call there.
    const uas = startSipp({
      scenario: { file: join(SCENARIOS, 'uas.xml') },
      localPort: uasPort,
      calls: 2 * N,
    });
    await new Promise((r) => setTimeout(r, 300));
    const uac = startSipp({
      scenario: { file: join(SCENARIOS, 'uac-auth.xml') },
      remote: `127.0.0.1:${String(a.ready.sipPort)}`,
      localPort: await freePort(),
      calls: 100,
      extra: [
        '-s',
        '301',
        '-key',
        'caller',
        '302',
        '-au',
        '302',
        '-ap',
        'pw302',
        '-d',
        '200',
        '-r',
        '25',
        '-l',
        '20',
      ],
    });
    const r = await uac.finish();
    uas.child.kill('SIGTERM');
    await uas.done;
    expect(r.stats?.successful, sippErrors(uac.dir)).toBe(N);
    expect(r.stats?.failed).toBe(0);
    expect(r.stats?.created).toBe(N);
    const stats = await a.request({ op: 'stats' });
    // One overlay fetch for 301 at most: every other call was routed from the watched cache.
    expect((stats.directory as { fetches: number; hits: number }).hits).toBeGreaterThanOrEqual(N);
  }, 90_000);
});
