// Two subnets joined by a router namespace: neither multicast nor broadcast crosses. `--peer`
// bootstraps across the router; after a restart the peer cache alone brings a PC back.
import { describe, expect, it } from 'vitest';
import {
  cachedPeers,
  enrollOffice,
  expectAllLookups,
  extensionsSeenBy,
  forgetPeers,
  OVERLAY_PORT,
  startPc,
} from '../office/lan.ts';
import { fileLab } from './lab.ts';

const { skip, lab } = fileLab('test/lan/office-routed.test.ts');

describe.skipIf(skip)('an office over two routed subnets', () => {
  it('--peer bootstraps across the router; the peer cache rejoins a restarted PC with no flags', async () => {
    const env = { PEERPBX_DISCOVERY: '', PEERPBX_JOIN_DISCOVER_MS: '1500' };
    const { subnets } = lab!.routedLans(2);
    const [a1, a2] = subnets[0];
    const [b1, b2] = subnets[1];
    const adminAddr = `${a1.address}:${OVERLAY_PORT}`;
    // Subnet B cannot find the admin by discovery: its PCs enroll with --peer.
    const pcs = await enrollOffice([a1, a2, b1, b2], 'routed', env, (pc) =>
      pc.host === b1 || pc.host === b2 ? ['--peer', adminAddr] : [],
    );
    await pcs[0].peer!.stop();
    for (const pc of pcs) forgetPeers(pc);
    const [pa1, pa2, pb1, pb2] = pcs;
    // Subnet A by discovery; b1 across the router by --peer; b2 only by discovery (finds b1).
    pa1.peer = await startPc(pa1, env);
    pa2.peer = await startPc(pa2, env);
    pb1.peer = await startPc(pb1, env, ['--peer', adminAddr]);
    pb2.peer = await startPc(pb2, env);
    await expectAllLookups(pcs);
    expect(await extensionsSeenBy(pa1)).toEqual(['101', '102', '103', '104']);

    // Subnet B goes down; b1 comes back with no flags: its cache knows subnet A's peers.
    await pb2.peer.stop();
    await pb1.peer.stop();
    expect(cachedPeers(pb1).some((a) => a.startsWith('10.77.1.'))).toBe(true);
    pb1.peer = await startPc(pb1, env);
    pb2.peer = undefined;
    // It joined through its cache at start (not by being found later).
    const starting = pb1.peer.run
      .stderr()
      .split('\n')
      .find((l) => l.includes('"msg":"overlay starting"'));
    expect(starting).toMatch(/"bootstrap":\["10\.77\.1\./);
    await expectAllLookups([pa1, pa2, pb1]);
    expect(await extensionsSeenBy(pb1)).toEqual(['101', '102', '103']);
    for (const pc of [pa1, pa2, pb1]) expect((await pc.peer!.stop()).code).toBe(0);
  }, 170_000);
});
