// 5 PCs in network namespaces form an office by mDNS alone: enrolled by code (the joiners find the
// admin by mDNS browse), then started at once with empty peer caches and no --peer.
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.ts';
import { enrollOffice, expectAllLookups, extensionsSeenBy, forgetPeers, startPc } from '../office/lan.ts';
import { NetnsLab, rootSkipReason } from './netns.ts';

const skip = rootSkipReason();
const lab = skip ? null : new NetnsLab();
afterAll(async () => {
  await killAll();
  await lab?.destroy();
  expect(lab?.leftovers() ?? []).toEqual([]);
});

describe.skipIf(skip)('an office of 5 PCs on one LAN, by mDNS', () => {
  it('forms by mDNS; every peer looks up every extension', async () => {
    const env = { PEERPBX_DISCOVERY: 'mdns', PEERPBX_JOIN_DISCOVER_MS: '2000' };
    const pcs = await enrollOffice(lab!.lan({ hosts: 5 }), 'lanoffice', env);
    await pcs[0].peer!.stop();
    for (const pc of pcs) forgetPeers(pc);
    await Promise.all(
      pcs.map(async (pc) => {
        pc.peer = await startPc(pc, env);
      }),
    );
    await expectAllLookups(pcs);
    for (const pc of pcs) expect(await extensionsSeenBy(pc)).toEqual(['101', '102', '103', '104', '105']);
    for (const pc of pcs) expect((await pc.peer!.stop()).code).toBe(0);
  }, 170_000);
});
