// 5 PCs on a LAN with no multicast route: mDNS cannot work, broadcast beacons alone form the office
// (the joiners find the admin by beacons too). Both mechanisms stay on, as in the field.
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

describe.skipIf(skip)('an office of 5 PCs on a LAN that drops multicast', () => {
  it('forms by broadcast beacons with no multicast route; every peer looks up every extension', async () => {
    await expectOfficeFormsByDiscovery(lab!.lan({ hosts: 5, multicastRoute: false }), {
      PEERPBX_DISCOVERY: '',
      PEERPBX_JOIN_DISCOVER_MS: '2000',
    });
  }, 170_000);
});
