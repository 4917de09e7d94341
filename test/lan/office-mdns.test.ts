// 5 PCs in network namespaces form an office by mDNS alone: enrolled by code (the joiners find the
// admin by mDNS browse), then started at once with empty peer caches and no --peer.
import { describe, it } from 'vitest';
import { expectOfficeFormsByDiscovery } from '../office/lan.ts';
import { fileLab } from './lab.ts';

const { skip, lab } = fileLab('test/lan/office-mdns.test.ts');

describe.skipIf(skip)('an office of 5 PCs on one LAN, by mDNS', () => {
  it('forms by mDNS; every peer looks up every extension', async () => {
    await expectOfficeFormsByDiscovery(lab!.lan({ hosts: 5 }), {
      PEERPBX_DISCOVERY: 'mdns',
      PEERPBX_JOIN_DISCOVER_MS: '2000',
    });
  }, 170_000);
});
