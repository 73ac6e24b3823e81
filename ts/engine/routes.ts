// Which targets are on the local link: read from the kernel's IPv4 routing table
// (/proc/net/route, the main table of the namespace this process runs in), so host discovery
// can ARP them as nmap does and show their hardware address. Reads a file, sends nothing.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { AddressRange } from '../targets/address.js';

export interface Route {
  iface: string;
  /** Network and mask as unsigned 32-bit integers in host order. */
  network: number;
  mask: number;
  prefix: number;
  /** The next hop; 0 for a directly connected (on-link) route. */
  gateway: number;
}

/** This machine's own IPv4 addresses (loopback included): the kernel delivers probes to them
 *  over lo, whatever the routing table says. Reads interfaces, sends nothing. */
export function ownIPv4Addresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((i) => i.family === 'IPv4').map((i) => i.address));
}

/** /proc/net/route prints addresses as the hex of their in-memory (network-order) bytes. */
function procAddress(hex: string): number {
  const n = Number.parseInt(hex, 16);
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | (n >>> 24)) >>> 0;
}

/** Parses /proc/net/route; lines that do not parse are skipped. */
export function parseProcRoutes(text: string): Route[] {
  const routes: Route[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^[0-9A-Fa-f]{8}$/.test(f[1]) || !/^[0-9A-Fa-f]{8}$/.test(f[7])) continue;
    const flags = Number.parseInt(f[3], 16);
    if (!(flags & 0x1)) continue; // RTF_UP
    const mask = procAddress(f[7]);
    let prefix = 0;
    for (let m = mask; m & 0x80000000; m = (m << 1) >>> 0) prefix++;
    routes.push({ iface: f[0], network: (procAddress(f[1]) & mask) >>> 0, mask, prefix, gateway: procAddress(f[2]) });
  }
  return routes;
}

/** The routes of this process's network namespace; empty when /proc/net/route cannot be read. */
export function systemRoutes(): Route[] {
  try {
    return parseProcRoutes(readFileSync('/proc/net/route', 'utf8'));
  } catch {
    return [];
  }
}

/** The route the kernel would pick for `address` (longest prefix, then lowest table order). */
export function routeFor(routes: readonly Route[], address: number): Route | undefined {
  let best: Route | undefined;
  for (const r of routes) if (((address & r.mask) >>> 0) === r.network && (!best || r.prefix > best.prefix)) best = r;
  return best;
}

/** Target ranges that leave by one route: one engine scan each (the engine sends to one next hop per scan). */
export interface RouteGroup {
  /** The route, or undefined when none matches (the engine will say so). */
  route?: Route;
  /** True when the route is on-link (no gateway), on `iface` when one was given. */
  direct: boolean;
  ranges: AddressRange[];
}

/**
 * Splits sorted, disjoint ranges by the route each address takes, in order of first use.
 * Costs O(ranges × routes), never O(addresses).
 */
export function groupByRoute(ranges: readonly AddressRange[], routes: readonly Route[], iface?: string): RouteGroup[] {
  const cuts = new Set<number>();
  for (const r of routes) {
    cuts.add(r.network);
    const end = (r.network | (~r.mask >>> 0)) >>> 0;
    if (end < 0xffffffff) cuts.add(end + 1);
  }
  const sortedCuts = [...cuts].sort((a, b) => a - b);
  const groups = new Map<Route | undefined, RouteGroup>();
  for (const range of ranges) {
    let start = range.start;
    while (start <= range.end) {
      const next = sortedCuts.find((c) => c > start);
      const end = next === undefined || next - 1 > range.end ? range.end : next - 1;
      const route = routeFor(routes, start);
      let group = groups.get(route);
      if (!group) {
        group = { direct: route !== undefined && route.gateway === 0 && (iface === undefined || route.iface === iface), ranges: [] };
        if (route) group.route = route;
        groups.set(route, group);
      }
      const last = group.ranges[group.ranges.length - 1];
      if (last && last.end + 1 === start) last.end = end;
      else group.ranges.push({ start, end });
      start = end + 1;
    }
  }
  return [...groups.values()];
}

/** The on-link parts of sorted, disjoint ranges (see groupByRoute), and the rest. */
export function splitOnLink(ranges: readonly AddressRange[], routes: readonly Route[], iface?: string): { onLink: AddressRange[]; routed: AddressRange[] } {
  const groups = groupByRoute(ranges, routes, iface);
  const merge = (list: RouteGroup[]): AddressRange[] => list.flatMap((g) => g.ranges).sort((a, b) => a.start - b.start);
  return { onLink: merge(groups.filter((g) => g.direct)), routed: merge(groups.filter((g) => !g.direct)) };
}
