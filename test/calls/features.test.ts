// Call features through the overlay, end to end with real processes on loopback: forking to one
// extension on two PCs, DND, forward on busy and on no answer (USER-SETTINGS in the overlay, read by
// the caller's peer) and a ring-all group (OFFICE-CONFIG, admin-signed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.ts';
import {
  newOffice,
  nextPbxEvent,
  overlayAddress,
  type PbxPeer,
  pbxEvents,
  startPbxPeer,
  waitForContacts,
} from './harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('call features across peers', () => {
  const office = newOffice();
  let a: PbxPeer; // 101, admin: the caller
  let b1: PbxPeer; // 102 on PC 1: answers after 300 ms
  let b2: PbxPeer; // 102 on PC 2: answers after 4 s (loses the race)
  let c: PbxPeer; // 103: answers at once (forward target, group member)
  let d: PbxPeer; // 104: DND
  let e: PbxPeer; // 105: answers only by hand
  const all = () => [a, b1, b2, c, d, e].filter(Boolean);

  beforeAll(async () => {
    a = await startPbxPeer({ name: 'a', extension: '101', office, admin: true, tone: 440 });
    const boot = [overlayAddress(a)];
    [b1, b2, c, d, e] = await Promise.all([
      startPbxPeer({
        name: 'b1',
        extension: '102',
        office,
        bootstrap: boot,
        autoAnswer: true,
        answerDelayMs: 300,
      }),
      startPbxPeer({
        name: 'b2',
        extension: '102',
        office,
        bootstrap: boot,
        autoAnswer: true,
        answerDelayMs: 4000,
      }),
      startPbxPeer({ name: 'c', extension: '103', office, bootstrap: boot, autoAnswer: true }),
      startPbxPeer({ name: 'd', extension: '104', office, bootstrap: boot, autoAnswer: true }),
      startPbxPeer({ name: 'e', extension: '105', office, bootstrap: boot }),
    ]);
    await waitForContacts(a, '102', 2);
    for (const x of ['103', '104', '105']) await waitForContacts(a, x, 1);
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(all().map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
  });

  function clearEvents(): void {
    for (const p of all()) p.events.splice(0);
  }

  /** A dials `target`; resolves with A's call id and the final 'answered' or 'ended' event. */
  async function dial(target: string): Promise<string> {
    clearEvents();
    const r = await a.request({ op: 'dial', target });
    return String(r.call);
  }

  async function hangUpAnswered(call: string, callee: PbxPeer): Promise<void> {
    await nextPbxEvent(a, 'answered', (x) => x.call === call, 15_000);
    await a.request({ op: 'hangup', call });
    await nextPbxEvent(a, 'ended', (x) => x.call === call);
    const ended = await nextPbxEvent(callee, 'ended');
    expect(ended.reason).toBe('remote-bye');
  }

  it('forking: 102 rings on both PCs, the first to answer wins, the other gets CANCEL', async () => {
    const call = await dial('102');
    await nextPbxEvent(b1, 'incoming');
    await nextPbxEvent(b2, 'incoming');
    await nextPbxEvent(a, 'answered', (x) => x.call === call);
    const lost = await nextPbxEvent(b2, 'ended');
    expect(lost.reason).toBe('cancelled');
    await hangUpAnswered(call, b1);
    expect(pbxEvents(b2, 'answered')).toHaveLength(0);
  }, 30_000);

  it('DND: 104 does not ring and the caller is refused; DND + forward-busy reaches 103', async () => {
    await d.request({ op: 'settings', value: { dnd: true } });
    await sleep(500); // the watch notification reaches A's cache
    let call = await dial('104');
    const refused = await nextPbxEvent(a, 'ended', (x) => x.call === call);
    expect(refused).toMatchObject({ reason: 'rejected', status: 480 });
    expect(pbxEvents(d, 'incoming')).toHaveLength(0);

    await d.request({ op: 'settings', value: { dnd: true, forwardBusy: '103' } });
    await sleep(500);
    call = await dial('104');
    await nextPbxEvent(c, 'incoming');
    await hangUpAnswered(call, c);
    expect(pbxEvents(d, 'incoming')).toHaveLength(0);
  }, 30_000);

  it('forward on busy: 105 declines, the call goes on to 103', async () => {
    await e.request({
      op: 'settings',
      value: { dnd: false, forwardBusy: '103', forwardNoAnswer: '103', noAnswerMs: 1500 },
    });
    await sleep(500);
    const call = await dial('105');
    const ringing = await nextPbxEvent(e, 'incoming');
    await e.request({ op: 'hangup', call: ringing.call }); // 603 Decline: busy
    await nextPbxEvent(c, 'incoming');
    await hangUpAnswered(call, c);
  }, 30_000);

  it('forward on no answer: 105 rings 1.5 s, is cancelled, 103 answers', async () => {
    const call = await dial('105');
    const t0 = Date.now();
    await nextPbxEvent(e, 'incoming');
    const gaveUp = await nextPbxEvent(e, 'ended');
    expect(gaveUp.reason).toBe('cancelled');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1200);
    await nextPbxEvent(c, 'incoming');
    await hangUpAnswered(call, c);
  }, 30_000);

  it('ring group 600 (ring-all 103 + 105): both ring, 103 answers, 105 is cancelled', async () => {
    await a.request({
      op: 'office-config',
      value: { ringGroups: [{ extension: '600', members: ['103', '105'], strategy: 'ring-all' }] },
    });
    await sleep(500);
    const call = await dial('600');
    await nextPbxEvent(c, 'incoming');
    await nextPbxEvent(e, 'incoming');
    await nextPbxEvent(a, 'answered', (x) => x.call === call);
    expect((await nextPbxEvent(e, 'ended')).reason).toBe('cancelled');
    await hangUpAnswered(call, c);
  }, 30_000);
  it('hunt group 601 (105 then 103, 1 s each): 105 rings alone, is cancelled, then 103 answers', async () => {
    await a.request({
      op: 'office-config',
      value: {
        ringGroups: [
          { extension: '600', members: ['103', '105'], strategy: 'ring-all' },
          { extension: '601', members: ['105', '103'], strategy: 'hunt', memberTimeoutMs: 1000 },
        ],
      },
    });
    await sleep(500);
    const call = await dial('601');
    await nextPbxEvent(e, 'incoming');
    expect(pbxEvents(c, 'incoming')).toHaveLength(0);
    expect((await nextPbxEvent(e, 'ended')).reason).toBe('cancelled');
    await nextPbxEvent(c, 'incoming');
    await hangUpAnswered(call, c);
  }, 30_000);
  it('blind transfer: A calls 103, transfers it to 105; 103 calls 105 through its own peer', async () => {
    const call = await dial('103');
    await nextPbxEvent(a, 'answered', (x) => x.call === call);
    expect((await a.request({ op: 'transfer', call, target: '105' })).status).toBe(202);
    expect((await nextPbxEvent(a, 'ended', (x) => x.call === call)).reason).toBe('local-bye');
    const moved = await nextPbxEvent(c, 'transferred');
    expect(moved.target).toBe('105');
    expect((await nextPbxEvent(c, 'ended', (x) => x.call === moved.from)).reason).toBe('remote-bye');
    const ringing = await nextPbxEvent(e, 'incoming');
    expect(String(ringing.from)).toContain('103');
    await e.request({ op: 'answer', call: ringing.call });
    await nextPbxEvent(c, 'answered', (x) => x.call === moved.call);
    await c.request({ op: 'hangup', call: moved.call });
    expect((await nextPbxEvent(e, 'ended')).reason).toBe('remote-bye');
  }, 30_000);
});
