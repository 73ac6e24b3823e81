// What is known of a host beside its ports, gathered while the scan runs and added to its
// report before it is written: the hardware address of on-link hosts (from the Ethernet
// source of their reply frames), its vendor, the reverse DNS name, and the round-trip time
// host discovery measured.
import type { DiscoveredHost } from './discovery.js';
import type { HostReport } from './model.js';
import type { OsReport } from '../os/detect.js';
import type { HintBook } from '../os/hints.js';
import { formatMac, macVendor } from './oui.js';
import type { EngineRecord } from '../engine/records.js';
import { splitOnLink, systemRoutes, type Route } from '../engine/routes.js';
import { groupByRoute6, systemRoutes6 } from '../engine/routes6.js';
import { isIPv6Set, type AnyTargetSet } from '../targets/targets.js';
import type { AddressRange } from '../targets/address.js';
import { isLinkLocal6, type AddressRange6, type AddressValue } from '../targets/address6.js';
import { addressValue } from './model.js';

const NO_MAC = '00:00:00:00:00:00';

/** Hardware addresses of on-link targets, from the records of any scan. */
export class MacBook {
  private readonly onLink: readonly (AddressRange | AddressRange6)[];
  private readonly macs = new Map<AddressValue, string>();

  constructor(targets: AnyTargetSet, options: { routes?: readonly Route[]; interface?: string } = {}) {
    if (isIPv6Set(targets)) {
      // link-local targets are on their zone's link; the rest as the IPv6 table says
      const iface = options.interface ?? targets.zone;
      const routed = targets.ranges.filter((r) => !isLinkLocal6(r.start));
      const direct = groupByRoute6(routed, systemRoutes6(), iface).filter((g) => g.direct).flatMap((g) => g.ranges);
      this.onLink = [...targets.ranges.filter((r) => isLinkLocal6(r.start)), ...direct];
    } else this.onLink = splitOnLink(targets.ranges, options.routes ?? systemRoutes(), options.interface).onLink;
  }

  /** Whether an address is reached directly on a link (its frames carry its own MAC). */
  isOnLink(value: AddressValue): boolean {
    return this.onLink.some((r) => value >= r.start && value <= r.end);
  }

  /** Notes the MAC of every reply from an on-link target; the first one seen stays. */
  note(records: readonly EngineRecord[]): void {
    if (this.onLink.length === 0) return;
    for (const r of records) {
      if (r.mac === undefined || r.mac === NO_MAC || r.kind === 5) continue;
      // An ICMP error from a router carries the router's MAC, not the target's.
      if (r.responder !== r.address && r.kind === 2) continue;
      const v = r.target ?? addressValue(r.address);
      if (v !== undefined && !this.macs.has(v) && this.isOnLink(v)) this.macs.set(v, r.mac);
    }
  }

  set(value: AddressValue, mac: string): void {
    if (!this.macs.has(value)) this.macs.set(value, mac);
  }

  /** MACs noted so far. */
  get size(): number {
    return this.macs.size;
  }

  get(value: AddressValue): string | undefined {
    return this.macs.get(value);
  }
}

export interface HostFacts {
  macs?: MacBook;
  /** Address → reverse DNS name. */
  names?: ReadonlyMap<string, string>;
  discovered?: ReadonlyMap<AddressValue, DiscoveredHost>;
  /** Address → OS detection's report (-O). */
  os?: ReadonlyMap<string, OsReport>;
  /** --os-hints: each host's first passive hint. */
  hints?: HintBook;
}

/** The host's report with its MAC address and vendor, PTR name and discovery latency added. */
export function withFacts(host: HostReport, facts: HostFacts): HostReport {
  // Object.assign, not a spread: V8 makes adding a property to a spread copy slow (~3 µs
  // a host, most of --os-hints' cost on a /16 sweep).
  const out: HostReport = Object.assign({}, host);
  const ptr = facts.names?.get(host.address);
  if (ptr !== undefined) out.ptr = ptr;
  const os = facts.os?.get(host.address);
  if (os !== undefined && host.status.state === 'up') out.os = os;
  // the address's value only when something is kept by value (a sweep of routed hosts has
  // neither MACs, nor discovery, nor hints: 65,536 parses saved)
  if (!facts.macs?.size && !facts.discovered?.size && !facts.hints) return out;
  const value = addressValue(host.address);
  if (value === undefined) return out;
  const found = facts.discovered?.get(value);
  if (out.latency === undefined && found && found.rttUs > 0) out.latency = found.rttUs / 1e6;
  const mac = facts.macs?.get(value) ?? found?.mac;
  if (mac !== undefined && host.status.state === 'up') {
    out.mac = formatMac(mac);
    const vendor = macVendor(mac);
    if (vendor !== undefined) out.vendor = vendor;
  }
  const hint = facts.hints?.get(value);
  if (hint !== undefined && host.status.state === 'up') out.osHint = hint;
  return out;
}
