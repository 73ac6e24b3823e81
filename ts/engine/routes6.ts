// Which IPv6 targets are on the local link and which leave by which route: read from the
// kernel's IPv6 routing table (/proc/net/ipv6_route of this process's namespace), as
// routes.ts reads IPv4's, so host discovery can solicit on-link targets (nmap's ND ping) and
// show their MAC, and a scan is split into one engine scan per route. Reads files, sends nothing.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { MAX_IPV6, parseIPv6, type AddressRange6 } from '../targets/address6.js';

export interface Route6 {
  iface: string;
  network: bigint;
  prefix: number;
  /** The next hop; undefined for an on-link route. */
  gateway?: bigint;
  metric: number;
}

/** This machine's own IPv6 addresses (::1 included), zones dropped. */
export function ownIPv6Addresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((i) => i.family === 'IPv6').map((i) => i.address.split('%')[0]));
}

const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const RTF_REJECT = 0x200;

/** Parses /proc/net/ipv6_route: unicast routes that are up and do not reject, not the local table's (on lo). */
export function parseProcRoutes6(text: string): Route6[] {
  const routes: Route6[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^[0-9a-f]{32}$/.test(f[0]) || !/^[0-9a-f]{32}$/.test(f[4])) continue;
    const flags = Number.parseInt(f[8], 16);
    const prefix = Number.parseInt(f[1], 16);
    if (!(flags & RTF_UP) || flags & RTF_REJECT || f[9] === 'lo' || prefix > 128) continue;
    const network = BigInt(`0x${f[0]}`);
    // multicast (ff00::/8) is not where unicast probes go
    if (network >> 120n === 0xffn) continue;
    const route: Route6 = { iface: f[9], network, prefix, metric: Number.parseInt(f[5], 16) };
    const gw = BigInt(`0x${f[4]}`);
    if (flags & RTF_GATEWAY && gw !== 0n) route.gateway = gw;
    routes.push(route);
  }
  return routes;
}

/** The IPv6 routes of this process's namespace; empty when the table cannot be read. */
export function systemRoutes6(): Route6[] {
  try {
    return parseProcRoutes6(readFileSync('/proc/net/ipv6_route', 'utf8'));
  } catch {
    return [];
  }
}

const maskOf = (prefix: number): bigint => (prefix === 0 ? 0n : (MAX_IPV6 << BigInt(128 - prefix)) & MAX_IPV6);

/** The route the kernel would pick (longest prefix, then lowest metric). */
export function routeFor6(routes: readonly Route6[], address: bigint): Route6 | undefined {
  let best: Route6 | undefined;
  for (const r of routes) {
    if ((address & maskOf(r.prefix)) !== r.network) continue;
    if (!best || r.prefix > best.prefix || (r.prefix === best.prefix && r.metric < best.metric)) best = r;
  }
  return best;
}

export interface RouteGroup6 {
  route?: Route6;
  /** On-link (no gateway), on `iface` when one was given. */
  direct: boolean;
  ranges: AddressRange6[];
}

/** Splits sorted, disjoint ranges by the route each address takes, in order of first use (O(ranges × routes)). */
export function groupByRoute6(ranges: readonly AddressRange6[], routes: readonly Route6[], iface?: string): RouteGroup6[] {
  const cuts = new Set<bigint>();
  for (const r of routes) {
    cuts.add(r.network);
    const end = r.network | (~maskOf(r.prefix) & MAX_IPV6);
    if (end < MAX_IPV6) cuts.add(end + 1n);
  }
  const sortedCuts = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const groups = new Map<Route6 | undefined, RouteGroup6>();
  for (const range of ranges) {
    let start = range.start;
    while (start <= range.end) {
      const next = sortedCuts.find((c) => c > start);
      const end = next === undefined || next - 1n > range.end ? range.end : next - 1n;
      const route = routeFor6(routes, start);
      let group = groups.get(route);
      if (!group) {
        group = { direct: route !== undefined && route.gateway === undefined && (iface === undefined || route.iface === iface), ranges: [] };
        if (route) group.route = route;
        groups.set(route, group);
      }
      const last = group.ranges[group.ranges.length - 1];
      if (last && last.end + 1n === start) last.end = end;
      else group.ranges.push({ start, end });
      if (end === MAX_IPV6) break;
      start = end + 1n;
    }
  }
  return [...groups.values()];
}

/** Values of this machine's own IPv6 addresses, ::1 included. */
export function ownIPv6Values(addresses: readonly string[] = ownIPv6Addresses()): bigint[] {
  return [...new Set([1n, ...addresses.map(parseIPv6).filter((v): v is bigint => v !== undefined)])].sort((a, b) => (a < b ? -1 : 1));
}
