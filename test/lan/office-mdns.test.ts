// 5 PCs in network namespaces form an office by mDNS alone: enrolled by code (the joiners find the
// admin by mDNS browse), then started at once with empty peer caches and no --peer.
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.ts';
import { expectOfficeFormsByDiscovery } from '../office/lan.ts';
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
    await expectOfficeFormsByDiscovery(lab!.lan({ hosts: 5 }), {
      PEERPBX_DISCOVERY: 'mdns',
      PEERPBX_JOIN_DISCOVER_MS: '2000',
    });
  }, 170_000);
});
