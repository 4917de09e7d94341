// Desk phones through the overlay, on two hosts (network namespaces): baresip 201 registers with
// digest auth to peer A, baresip 202 to peer B; 201 dials 202: A authenticates and routes by the
// overlay registration B published for 202, B rings its phone. Tones cross both ways; the hang-up
// travels back through the proxies.
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, waitFor } from '../helpers/processes.ts';
import { NetnsLab, rootSkipReason } from '../lan/netns.ts';
import { startDeskPhone } from './baresip-phone.ts';
import {
  newOffice,
  nextPbxEvent,
  overlayAddress,
  type PbxPeer,
  type PbxPeerSpec,
  startPbxPeer,
  toneIn,
  waitForContacts,
} from './harness.ts';

const skip = rootSkipReason();

describe.skipIf(skip !== undefined)('desk phones on two gateway peers in two namespaces', () => {
  const lab = skip ? null : new NetnsLab();
  const peers: PbxPeer[] = [];
  afterAll(async () => {
    await Promise.allSettled(peers.map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
    await lab?.destroy();
  });

  /** Peers 101 and 102 on two hosts of a fresh LAN (102 joins through 101), with extra options. */
  async function twoHosts(extraA: Partial<PbxPeerSpec>, extraB: Partial<PbxPeerSpec>) {
    if (!lab) throw new Error('no lab');
    const [h1, h2] = lab.lan({ hosts: 2 });
    const office = newOffice();
    const on = (h: typeof h1) => ({ host: h.address, prefix: ['ip', 'netns', 'exec', h.ns] });
    const a = await startPbxPeer({ name: 'a', extension: '101', office, ...on(h1), ...extraA });
    peers.push(a);
    const b = await startPbxPeer({
      name: 'b',
      extension: '102',
      office,
      ...on(h2),
      bootstrap: [overlayAddress(a, h1.address)],
      ...extraB,
    });
    peers.push(b);
    return { h1, h2, a, b };
  }

  it('baresip 201 (via A) calls baresip 202 (via B): connects, 440 Hz and 700 Hz cross, clean BYE', async () => {
    if (!lab) return;
    const { h1, h2, a, b } = await twoHosts(
      { deskPhones: [{ extension: '201', password: 'secret201' }] },
      { deskPhones: [{ extension: '202', password: 'secret202' }] },
    );
    const callee = startDeskPhone({
      extension: '202',
      password: 'secret202',
      registrar: `${h2.address}:${String(b.ready.sipPort)}`,
      host: h2.address,
      toneHz: 700,
      lifetimeSec: 40,
      netns: h2.ns,
    });
    await nextPbxEvent(b, 'desk-phone', (e) => e.extension === '202' && e.registered === true);
    const contacts = (await waitForContacts(a, '202', 1)) as Array<{ deskPhone: boolean; nodeId: string }>;
    expect(contacts[0]).toMatchObject({ deskPhone: true, nodeId: b.ready.nodeId });

    const caller = startDeskPhone({
      extension: '201',
      password: 'secret201',
      registrar: `${h1.address}:${String(a.ready.sipPort)}`,
      host: h1.address,
      toneHz: 440,
      dial: '202',
      lifetimeSec: 9,
      netns: h1.ns,
    });
    const answered = await nextPbxEvent(a, 'final', (e) => e.method === 'INVITE' && e.status === 200, 20_000);
    expect(answered.status).toBe(200);
    // The caller quits after its lifetime: its BYE crosses A and B to the callee.
    await caller.proc.done;
    await nextPbxEvent(b, 'final', (e) => e.method === 'BYE' && e.status === 200, 10_000);
    await nextPbxEvent(a, 'final', (e) => e.method === 'BYE' && e.status === 200, 10_000);
    const heardByCallee = await waitFor('callee recording', () => callee.decoded()[0], 10_000);
    const heardByCaller = await waitFor('caller recording', () => caller.decoded()[0], 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await toneIn(heardByCallee, 440)).toBeGreaterThan(0.5);
    expect(await toneIn(heardByCaller, 700)).toBeGreaterThan(0.5);
    expect(await toneIn(heardByCallee, 700)).toBeLessThan(0.1);
  }, 120_000);
  it('two PeerPBX users (no desk phone) on two hosts: 440 Hz and 1000 Hz cross, clean hang-up', async () => {
    if (!lab) return;
    const { a, b } = await twoHosts({ tone: 440 }, { autoAnswer: true, tone: 1000 });
    await waitForContacts(a, '102', 1);
    const call = String((await a.request({ op: 'dial', target: '102' })).call);
    await nextPbxEvent(a, 'answered', (e) => e.call === call);
    await new Promise((r) => setTimeout(r, 2000));
    await a.request({ op: 'hangup', call });
    const endA = await nextPbxEvent(a, 'ended', (e) => e.call === call);
    const endB = await nextPbxEvent(b, 'ended');
    expect(endB.reason).toBe('remote-bye');
    expect(await toneIn(String(endB.recording), 440)).toBeGreaterThan(0.8);
    expect(await toneIn(String(endA.recording), 1000)).toBeGreaterThan(0.8);
  }, 60_000);
});
