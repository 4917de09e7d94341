// 5 PCs on a LAN with no multicast route: mDNS cannot work, broadcast beacons alone form the office
// (the joiners find the admin by beacons too). Both mechanisms stay on, as in the field.
import { describe, it } from 'vitest';
import { expectOfficeFormsByDiscovery } from '../office/lan.ts';
import { fileLab } from './lab.ts';

const { skip, lab } = fileLab('test/lan/office-broadcast.test.ts');

describe.skipIf(skip)('an office of 5 PCs on a LAN that drops multicast', () => {
  it('forms by broadcast beacons with no multicast route; every peer looks up every extension', async () => {
    await expectOfficeFormsByDiscovery(lab!.lan({ hosts: 5, multicastRoute: false }), {
      PEERPBX_DISCOVERY: '',
      PEERPBX_JOIN_DISCOVER_MS: '2000',
    });
  }, 170_000);
});
