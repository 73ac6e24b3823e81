// The default blocklist: address blocks that a sweep larger than a /8 leaves out unless
// --no-default-blocklist is given. Taken from the IANA IPv4 Special-Purpose Address
// Registry (RFC 6890; https://www.iana.org/assignments/iana-ipv4-special-registry/),
// keeping the entries that are not globally reachable, plus multicast (224.0.0.0/4, RFC 5771,
// listed in IANA's multicast registry instead) as zmap's blocklist does: a unicast probe
// there is never an answerable scan.
//
// Registry entries covered by a larger block below: 0.0.0.0/32 (in 0.0.0.0/8),
// 192.0.0.0/29, 192.0.0.8/32, 192.0.0.9/32, 192.0.0.10/32, 192.0.0.170/32, 192.0.0.171/32
// (in 192.0.0.0/24). Left out on purpose because the registry marks them globally
// reachable (real anycast services): 192.31.196.0/24 (AS112-v4), 192.52.193.0/24 (AMT),
// 192.175.48.0/24 (AS112 direct delegation).
import type { AddressRange } from './address.js';

export interface BlocklistEntry extends AddressRange {
  cidr: string;
  name: string;
}

/** Sets with more addresses than this (a /8) get the default blocklist. */
export const DEFAULT_BLOCKLIST_THRESHOLD = 2 ** 24;

const ENTRIES: [string, string][] = [
  ['0.0.0.0/8', '"This network"'],
  ['10.0.0.0/8', 'Private-Use'],
  ['100.64.0.0/10', 'Shared Address Space'],
  ['127.0.0.0/8', 'Loopback'],
  ['169.254.0.0/16', 'Link Local'],
  ['172.16.0.0/12', 'Private-Use'],
  ['192.0.0.0/24', 'IETF Protocol Assignments'],
  ['192.0.2.0/24', 'Documentation (TEST-NET-1)'],
  ['192.88.99.0/24', 'Deprecated (6to4 Relay Anycast)'],
  ['192.168.0.0/16', 'Private-Use'],
  ['198.18.0.0/15', 'Benchmarking'],
  ['198.51.100.0/24', 'Documentation (TEST-NET-2)'],
  ['203.0.113.0/24', 'Documentation (TEST-NET-3)'],
  ['224.0.0.0/4', 'Multicast'],
  ['240.0.0.0/4', 'Reserved'],
  ['255.255.255.255/32', 'Limited Broadcast'],
];

function block(cidr: string, name: string): BlocklistEntry {
  const [addr, bits] = cidr.split('/');
  const start = addr.split('.').reduce((v, o) => v * 256 + Number(o), 0);
  return { cidr, name, start, end: start + 2 ** (32 - Number(bits)) - 1 };
}

/** The default blocklist, ascending and disjoint. */
export const DEFAULT_BLOCKLIST: readonly BlocklistEntry[] = ENTRIES.map(([c, n]) => block(c, n));

/** The header line naming the blocklist, printed when it was applied. */
export function blocklistNotice(applied: readonly BlocklistEntry[]): string | undefined {
  if (applied.length === 0) return undefined;
  return `Excluding IANA special-purpose ranges (default blocklist for target sets larger than a /8; --no-default-blocklist to scan them): ${applied.map((e) => e.cidr).join(', ')}`;
}
