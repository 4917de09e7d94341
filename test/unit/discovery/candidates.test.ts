import { describe, expect, it } from 'vitest';
import { beaconTargets } from '../../../src/main/discovery/broadcast.ts';
import {
  broadcastAddress,
  type LocalInterface,
  orderCandidates,
  sameIPv4Subnet,
} from '../../../src/main/discovery/candidates.ts';

const locals: LocalInterface[] = [
  { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true },
  { address: '192.168.1.20', netmask: '255.255.255.0', family: 'IPv4', internal: false },
  { address: '10.8.0.5', netmask: '255.255.255.255', family: 'IPv4', internal: false },
  { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', internal: false },
];

describe('candidate addresses', () => {
  it('puts same-subnet IPv4 first, then other IPv4, global IPv6, link-local IPv6, loopback', () => {
    const advertised = [
      'fe80::2',
      '172.17.0.1',
      '2001:db8::7',
      '127.0.0.1',
      '192.168.1.33',
      '172.17.0.1',
      'not-an-ip',
    ];
    expect(orderCandidates(advertised, locals)).toEqual([
      '192.168.1.33',
      '172.17.0.1',
      '2001:db8::7',
      'fe80::2',
      '127.0.0.1',
    ]);
  });

  it('keeps the advertised order within a rank (the packet source comes first)', () => {
    expect(orderCandidates(['10.1.0.1', '10.2.0.1'], locals)).toEqual(['10.1.0.1', '10.2.0.1']);
    expect(orderCandidates(['10.2.0.1', '10.1.0.1'], locals)).toEqual(['10.2.0.1', '10.1.0.1']);
  });

  it('computes subnets and broadcast addresses', () => {
    expect(sameIPv4Subnet('10.77.0.1', '10.77.0.200', '255.255.255.0')).toBe(true);
    expect(sameIPv4Subnet('10.77.0.1', '10.77.1.1', '255.255.255.0')).toBe(false);
    expect(sameIPv4Subnet('10.77.0.1', 'fe80::1', '255.255.255.0')).toBe(false);
    expect(broadcastAddress('10.77.0.5', '255.255.255.0')).toBe('10.77.0.255');
    expect(broadcastAddress('172.16.5.4', '255.240.0.0')).toBe('172.31.255.255');
    expect(broadcastAddress('fe80::1', 'ffff::')).toBeUndefined();
  });

  it('beacons to every external IPv4 broadcast domain, or only the configured interface', () => {
    const two = [
      ...locals,
      { address: '10.77.3.9', netmask: '255.255.0.0', family: 'IPv4' as const, internal: false },
    ];
    // Loopback (internal), the /32 VPN (no broadcast domain) and IPv6 are skipped.
    expect(beaconTargets(two)).toEqual(['192.168.1.255', '10.77.255.255']);
    expect(beaconTargets(two, '10.77.3.9')).toEqual(['10.77.255.255']);
    expect(beaconTargets(two, '10.9.9.9')).toEqual([]);
  });
});
