// Which targets have no route from here, found before the first packet so that they are
// reported one by one and the rest is scanned (nmap: "setup_target: failed to determine
// route to X", the host skipped), instead of the engine refusing the whole scan. Reads the
// main routing table (/proc/net/route) and asks the kernel itself for what that table does
// not cover (policy routing): a UDP socket connected to the address gets a source address
// only if a route exists. Nothing is sent.
import { createSocket } from 'node:dgram';
import { formatIPv4, parseIPv4, type AddressRange } from '../targets/address.js';
import { groupByRoute, ownIPv4Addresses, systemRoutes, type Route } from './routes.js';

/** Kernel route lookups in flight at once. */
const CONCURRENCY = 64;

/** True when the kernel has a route to `address` (a connected UDP socket gets a source; nothing is sent). */
export function kernelRoutes(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (ok: boolean): void => {
      socket.close();
      resolve(ok);
    };
    // No route: connect(2) fails (ENETUNREACH), or libuv leaves the socket bound to 0.0.0.0.
    socket.once('error', () => done(false));
    socket.connect(9, address, () => done(socket.address().address !== '0.0.0.0'));
  });
}

/** `ranges` (sorted, disjoint) without loopback and this host's own addresses, which always route (over lo). */
function withoutLocal(ranges: readonly AddressRange[]): AddressRange[] {
  const local: AddressRange[] = [{ start: 0x7f000000, end: 0x7fffffff }, ...ownIPv4Addresses().flatMap((s) => parseIPv4(s) ?? []).map((a) => ({ start: a, end: a }))];
  let rest = [...ranges];
  for (const l of local) {
    const next: AddressRange[] = [];
    for (const r of rest) {
      if (r.end < l.start || r.start > l.end) next.push(r);
      else {
        if (r.start < l.start) next.push({ start: r.start, end: l.start - 1 });
        if (r.end > l.end) next.push({ start: l.end + 1, end: r.end });
      }
    }
    rest = next;
  }
  return rest.sort((a, b) => a.start - b.start);
}

export interface ReachOptions {
  /** -e: with -S too, the engine needs no route at all (it sends on that interface from that address). */
  interface?: string;
  sourceAddress?: string;
  /** The main table (tests pass their own); this namespace's when absent. */
  routes?: readonly Route[];
  /** The kernel's answer for one address (tests pass their own). */
  kernelRoutes?: (address: string) => Promise<boolean>;
}

/**
 * The parts of `ranges` (sorted, disjoint) that have no route: ranges the main table does
 * not cover, confirmed by the kernel for their first address (policy routing that splits
 * such a range is not followed). O(ranges × routes) and one lookup per uncovered range,
 * never one per address.
 */
export async function unroutableRanges(ranges: readonly AddressRange[], options: ReachOptions = {}): Promise<AddressRange[]> {
  if (ranges.length === 0 || (options.interface !== undefined && options.sourceAddress !== undefined)) return [];
  const routes = options.routes ?? systemRoutes();
  const uncovered = groupByRoute(withoutLocal(ranges), routes)
    .filter((g) => g.route === undefined)
    .flatMap((g) => g.ranges);
  const ask = options.kernelRoutes ?? kernelRoutes;
  const out: AddressRange[] = [];
  for (let i = 0; i < uncovered.length; i += CONCURRENCY) {
    const batch = uncovered.slice(i, i + CONCURRENCY);
    const routed = await Promise.all(batch.map((r) => ask(formatIPv4(r.start))));
    batch.forEach((r, k) => {
      if (!routed[k]) out.push(r);
    });
  }
  return out;
}

/** How a run reports skipped targets: "198.18.1.1", or "198.18.1.0-198.18.1.255 (256 addresses)". */
export function describeRange(r: AddressRange): string {
  const n = r.end - r.start + 1;
  return n === 1 ? formatIPv4(r.start) : `${formatIPv4(r.start)}-${formatIPv4(r.end)} (${n} addresses)`;
}
