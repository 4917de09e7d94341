// Attended transfer (REFER with Replaces, RFC 5589 section 7 / RFC 3891) between three real PeerPBX
// peers on loopback: A talks to B, holds B, consults C, then transfers. B sends an INVITE with
// Replaces to C's contact; C answers it without ringing and ends its call with A by BYE; A gets the
// NOTIFY sipfrag 200 and hangs up B. B and C then hear each other's tones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.ts';
import {
  newOffice,
  nextPbxEvent,
  overlayAddress,
  type PbxPeer,
  pbxEvents,
  startPbxPeer,
  toneIn,
  waitForContacts,
} from './harness.ts';

describe('attended transfer across three peers', () => {
  const office = newOffice();
  let a: PbxPeer; // 101: the transferor
  let b: PbxPeer; // 102: the transferee, plays 700 Hz
  let c: PbxPeer; // 103: the target, plays 1000 Hz
  const all = () => [a, b, c].filter(Boolean);

  beforeAll(async () => {
    a = await startPbxPeer({ name: 'a', extension: '101', office, admin: true, tone: 440 });
    const boot = [overlayAddress(a)];
    [b, c] = await Promise.all([
      startPbxPeer({ name: 'b', extension: '102', office, bootstrap: boot, autoAnswer: true, tone: 700 }),
      startPbxPeer({ name: 'c', extension: '103', office, bootstrap: boot, autoAnswer: true, tone: 1000 }),
    ]);
    await waitForContacts(a, '102', 1);
    await waitForContacts(a, '103', 1);
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(all().map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
  });

  async function answeredCall(target: string): Promise<string> {
    const call = String((await a.request({ op: 'dial', target })).call);
    await nextPbxEvent(a, 'answered', (x) => x.call === call);
    return call;
  }

  it('A holds B, consults C and transfers: B and C talk, A is out of both calls', async () => {
    const ab = await answeredCall('102');
    const bOld = String((await nextPbxEvent(b, 'incoming')).call);
    expect((await a.request({ op: 'hold', call: ab })).done).toBe(true);
    const ac = await answeredCall('103');
    const cOld = String((await nextPbxEvent(c, 'incoming')).call);

    const t0 = Date.now();
    const r = await a.request({ op: 'attended-transfer', call: ab, consultation: ac }, 25_000);
    expect(r.status).toBe(200);
    console.log(`attended transfer: REFER to final NOTIFY in ${Date.now() - t0} ms`);

    // B placed the replacing call; C took it over without ringing and ended its call with A.
    const moved = await nextPbxEvent(b, 'transferred');
    expect(moved).toMatchObject({ from: bOld, target: '103' });
    const cNew = await nextPbxEvent(c, 'incoming', (x) => x.replaces === cOld);
    const cEnded = await nextPbxEvent(c, 'ended', (x) => x.call === cOld);
    expect(cEnded).toMatchObject({ reason: 'local-bye', replacedBy: cNew.call });
    expect(pbxEvents(c, 'ringing')).toHaveLength(0);
    // A: C's BYE ended the consultation, A's own BYE the held call with B.
    expect((await nextPbxEvent(a, 'ended', (x) => x.call === ac)).reason).toBe('remote-bye');
    expect((await nextPbxEvent(a, 'ended', (x) => x.call === ab)).reason).toBe('local-bye');
    expect((await nextPbxEvent(b, 'ended', (x) => x.call === bOld)).reason).toBe('remote-bye');
    await nextPbxEvent(b, 'answered', (x) => x.call === moved.call);

    // B and C hear each other (2 s of audio), then B hangs up.
    await new Promise((res) => setTimeout(res, 2500));
    await b.request({ op: 'hangup', call: moved.call });
    const bEnd = await nextPbxEvent(b, 'ended', (x) => x.call === moved.call);
    const cEnd = await nextPbxEvent(c, 'ended', (x) => x.call === cNew.call);
    expect(cEnd.reason).toBe('remote-bye');
    expect(await toneIn(String(cEnd.recording), 700)).toBeGreaterThan(0.8);
    expect(await toneIn(String(bEnd.recording), 1000)).toBeGreaterThan(0.8);
    expect(await toneIn(String(bEnd.recording), 440)).toBeLessThan(0.1);

    // Nothing is left behind on any of the three.
    for (const p of all()) {
      const stats = await p.request({ op: 'stats' });
      expect(stats.calls).toBe(0);
    }
  }, 60_000);
});
