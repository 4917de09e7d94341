// Attended transfer with a real SIP phone as the target: C is baresip, desk phone 203 behind gateway
// peer c. A (PeerPBX 101) talks to B (PeerPBX 102), holds B, calls 203 and transfers; B sends its
// INVITE with Replaces straight to baresip's contact. Debian 12's baresip 1.0.0 does not implement
// Replaces (RFC 3891 lets such a UA treat the INVITE as a new call): it answers B as a second call
// and leaves its call with A up, so A's fallback BYE ends the consultation. B and baresip then talk.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { killAll, waitFor } from '../helpers/processes.ts';
import { startDeskPhone } from './baresip-phone.ts';
import {
  newOffice,
  nextPbxEvent,
  overlayAddress,
  type PbxPeer,
  startPbxPeer,
  toneIn,
  waitForContacts,
} from './harness.ts';

const haveBaresip = spawnSync('baresip', ['-h'], { stdio: 'ignore' }).error === undefined;

describe.skipIf(!haveBaresip)('attended transfer to a baresip desk phone', () => {
  const office = newOffice();
  let a: PbxPeer; // 101: the transferor
  let b: PbxPeer; // 102: the transferee, plays 700 Hz
  let c: PbxPeer; // 103: gateway of desk phone 203 (baresip, 1000 Hz)

  beforeAll(async () => {
    a = await startPbxPeer({ name: 'a', extension: '101', office, admin: true, tone: 440 });
    const boot = [overlayAddress(a)];
    [b, c] = await Promise.all([
      startPbxPeer({ name: 'b', extension: '102', office, bootstrap: boot, autoAnswer: true, tone: 700 }),
      startPbxPeer({
        name: 'c',
        extension: '103',
        office,
        bootstrap: boot,
        deskPhones: [{ extension: '203', password: 'pw203' }],
      }),
    ]);
    await waitForContacts(a, '102', 1);
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([a, b, c].filter(Boolean).map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
  });

  it('A consults baresip and transfers B to it: B and baresip talk, A leaves both calls', async () => {
    const phone = startDeskPhone({
      extension: '203',
      password: 'pw203',
      registrar: `127.0.0.1:${String(c.ready.sipPort)}`,
      host: '127.0.0.1',
      sipPort: await freePort(),
      rtpPorts: [21100, 21110],
      toneHz: 1000,
      lifetimeSec: 40,
    });
    await nextPbxEvent(c, 'desk-phone', (e) => e.extension === '203' && e.registered === true);
    await waitForContacts(a, '203', 1);
    const ab = String((await a.request({ op: 'dial', target: '102' })).call);
    await nextPbxEvent(a, 'answered', (x) => x.call === ab);
    expect((await a.request({ op: 'hold', call: ab })).done).toBe(true);
    const ac = String((await a.request({ op: 'dial', target: '203' })).call);
    await nextPbxEvent(a, 'answered', (x) => x.call === ac, 20_000);
    // A consults for a moment (and baresip names its recordings by the second they start).
    await new Promise((res) => setTimeout(res, 1500));

    const r = await a.request({ op: 'attended-transfer', call: ab, consultation: ac }, 25_000);
    expect(r.status).toBe(200);
    const moved = await nextPbxEvent(b, 'transferred');
    await nextPbxEvent(b, 'answered', (x) => x.call === moved.call);
    expect((await nextPbxEvent(a, 'ended', (x) => x.call === ab)).reason).toBe('local-bye');
    await nextPbxEvent(a, 'ended', (x) => x.call === ac, 10_000);
    await waitFor('baresip has B on the line', () => /Call established: sip:102@/.test(phone.proc.stdout()));

    await new Promise((res) => setTimeout(res, 2500));
    await b.request({ op: 'hangup', call: moved.call });
    const bEnd = await nextPbxEvent(b, 'ended', (x) => x.call === moved.call);
    expect(await toneIn(String(bEnd.recording), 1000)).toBeGreaterThan(0.8);
    // baresip's recording of the second call (files sort by start time) carries B's 700 Hz.
    const heard = await waitFor('baresip recording of the transferred call', () => phone.decoded().sort()[1]);
    expect(phone.decoded()).toHaveLength(2);
    await new Promise((res) => setTimeout(res, 500));
    expect(await toneIn(heard, 700)).toBeGreaterThan(0.5);
  }, 60_000);
});
