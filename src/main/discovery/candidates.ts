// Orders the addresses a found peer advertises. mDNS A/AAAA records carry every interface of the
// sender (docker bridges, VPNs, other LANs); the caller verifies by connecting, trying the most
// plausible first: addresses on one of our own subnets, then other IPv4, then IPv6.
import { isIPv4, isIPv6 } from 'node:net';

export interface LocalInterface {
  address: string;
  netmask: string;
  family: 'IPv4' | 'IPv6';
  internal: boolean;
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

export function sameIPv4Subnet(a: string, b: string, netmask: string): boolean {
  if (!isIPv4(a) || !isIPv4(b) || !isIPv4(netmask)) return false;
  const m = ipv4ToInt(netmask);
  return (ipv4ToInt(a) & m) === (ipv4ToInt(b) & m);
}

/** The directed broadcast address of an IPv4 interface (10.77.0.5/255.255.255.0 -> 10.77.0.255). */
export function broadcastAddress(address: string, netmask: string): string | undefined {
  if (!isIPv4(address) || !isIPv4(netmask)) return undefined;
  const b = (ipv4ToInt(address) | ~ipv4ToInt(netmask)) >>> 0;
  return [b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255].join('.');
}

function rank(addr: string, locals: readonly LocalInterface[]): number {
  if (isIPv4(addr)) {
    if (addr.startsWith('127.')) return 4;
    if (locals.some((l) => l.family === 'IPv4' && !l.internal && sameIPv4Subnet(addr, l.address, l.netmask)))
      return 0;
    return 1;
  }
  if (isIPv6(addr)) return addr.toLowerCase().startsWith('fe80:') ? 3 : 2;
  return 5;
}

/** Dedupes and orders candidates (stable within a rank); drops strings that are not IP addresses. */
export function orderCandidates(addresses: readonly string[], locals: readonly LocalInterface[]): string[] {
  const unique = [...new Set(addresses)].filter((a) => isIPv4(a) || isIPv6(a));
  return unique
    .map((a, i) => ({ a, i, r: rank(a, locals) }))
    .sort((x, y) => x.r - y.r || x.i - y.i)
    .map((x) => x.a);
}
