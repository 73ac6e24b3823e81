// ts/hosts/ — who answered. Takes verdicts, host discovery's hosts up (discovery.ts) and what
// else is learnt of a host (MAC and vendor: oui.ts; reverse DNS: rdns.ts; host-facts.ts); gives
// a HostReport per host: its status and every port. This file is the model.
//
// The hosts/ports model: folds classified replies into per-host port verdicts, and decides
// which hosts are up. Memory follows replies, not addresses × ports: only hosts and ports
// that answered are stored; the silent rest are counted and synthesised when written.
import { AddressMap } from './address-map.js';
import { ownIPv4Addresses } from '../engine/routes.js';
import { ownIPv6Addresses } from '../engine/routes6.js';
import { classify, mergeVerdict, noResponse, type PortState, type Technique, type Verdict } from '../verdicts/classify.js';
import type { EngineRecord } from '../engine/records.js';
import { containsAddress, isIPv6Set, targetEntries, type AnyTargetSet, type TargetEntry } from '../targets/targets.js';
import { formatIPv4, parseIPv4 } from '../targets/address.js';
import { compareValues, formatIPv6, parseIPv6, type AddressValue } from '../targets/address6.js';
import type { ServiceInfo } from '../service/format.js';
import type { OsReport } from '../os/detect.js';
import type { OsHint } from '../os/hints.js';

export type Protocol = 'tcp' | 'udp';

/** One port's outcome, as the library hands it out. */
export interface PortResult {
  address: string;
  port: number;
  protocol: Protocol;
  state: PortState;
  reason: string;
  ttl: number;
}

export interface HostStatus {
  state: 'up' | 'down';
  /** nmap's host reason: user-set, localhost-response, syn-ack, reset, ..., no-response. */
  reason: string;
  /** TTL of the reply that showed the host up (0 when not from a reply). */
  ttl: number;
}

/** One protocol's ports of a host: what one scan technique found. */
export interface PortSection {
  protocol: Protocol;
  /** Ports that answered, by number. */
  ports: ReadonlyMap<number, Verdict>;
  /** Ports scanned in all (answered + unanswered). */
  totalPorts: number;
  /** The verdict every unanswered port gets. */
  unanswered: Verdict;
  /** Every port scanned with this protocol, ascending. */
  scanned: readonly number[];
}

export interface HostReport {
  address: string;
  /** The name the target was given by on the command line. */
  hostname?: string;
  /** The address's reverse DNS (PTR) name. */
  ptr?: string;
  /** Hardware address of an on-link host, uppercase ("52:54:00:12:08:02"), and its vendor. */
  mac?: string;
  vendor?: string;
  status: HostStatus;
  /** Smallest round-trip time seen, in seconds; undefined when none was measured. */
  latency?: number;
  /** Ports that answered, by number. */
  ports: ReadonlyMap<number, Verdict>;
  /** Ports scanned in all (answered + unanswered). */
  totalPorts: number;
  /** The verdict every unanswered port gets. */
  unanswered: Verdict;
  /** The transport protocol of every port in this report. */
  protocol: Protocol;
  /**
   * Present when several techniques scanned the host (-sS -sU): each protocol's ports, in
   * nmap's order (TCP, then UDP). The fields above then repeat the first section.
   */
  sections?: readonly PortSection[];
  /** -sV: what the service scan found, by "port/protocol" (ts/service/attach.ts). */
  services?: ReadonlyMap<string, ServiceInfo>;
  /** OS detection's report (-O). */
  os?: OsReport;
  /** --os-hints: what p0f makes of the host's SYN+ACK. */
  osHint?: OsHint;
}

export interface ModelOptions {
  /** Of either family; an IPv6 set's hosts are keyed by bigint values. */
  targets: AnyTargetSet;
  /** Scanned ports, ascending. */
  ports: readonly number[];
  technique?: Technique;
  /** -Pn: treat every target as up without evidence. */
  assumeUp?: boolean;
  /** Host discovery's verdicts: exactly these hosts are up, with these statuses (ts/hosts/discovery.ts). */
  discovered?: ReadonlyMap<AddressValue, HostStatus>;
  /** Whether an address belongs to this machine (nmap reports those as localhost-response). */
  isLocal?: (address: string) => boolean;
}

interface HostState {
  /** Most hosts of a sweep answer on one port: that port's verdict is kept inline, and a
   *  map is made only for a second port (a /16 sweep then holds no map per host). */
  port: number;
  verdict: Verdict | undefined;
  ports: Map<number, Verdict> | undefined;
  /** Set once a reply came from the host itself. */
  upBy?: Verdict;
  rttUs: number;
}

/** A test for loopback and this machine's own addresses, which it reads once, on first use. */
function localAddressTest(): (address: string) => boolean {
  let own: ReadonlySet<string> | undefined;
  return (address) => address.startsWith('127.') || address === '::1' || (own ??= new Set([...ownIPv4Addresses(), ...ownIPv6Addresses()])).has(address);
}

/** The hosts table of a model: IPv4 hosts by number in an AddressMap (the sweep's hot path),
 *  IPv6 hosts by bigint in a Map. */
interface HostTable<V> {
  get(key: AddressValue): V | undefined;
  set(key: AddressValue, value: V): unknown;
  values(): Iterable<V>;
  entries(): Iterable<[AddressValue, V]>;
}

/** The value of an address's text, of either family. */
export function addressValue(address: string): AddressValue | undefined {
  return address.includes(':') ? parseIPv6(address) : parseIPv4(address);
}

/** The text of an address value, of either family. */
export function formatAddress(value: AddressValue): string {
  return typeof value === 'bigint' ? formatIPv6(value) : formatIPv4(value);
}

/** True for loopback and this machine's own addresses; reads interfaces, sends nothing. */
export function isLocalAddress(address: string): boolean {
  return localAddressTest()(address);
}

export class ScanModel {
  readonly technique: Technique;
  readonly protocol: Protocol;
  readonly targets: AnyTargetSet;
  readonly ports: readonly number[];
  readonly assumeUp: boolean;
  private readonly discovered: ReadonlyMap<AddressValue, HostStatus> | undefined;
  private readonly portSet: ReadonlySet<number>;
  private readonly hosts: HostTable<HostState>;
  private openCount = 0;
  /** The verdict of every silent port, shared by all reports (read-only). */
  private readonly unanswered: Verdict;
  private readonly isLocal: (address: string) => boolean;

  constructor(options: ModelOptions) {
    this.technique = options.technique ?? 'syn';
    this.protocol = this.technique === 'udp' ? 'udp' : 'tcp';
    this.targets = options.targets;
    this.ports = options.ports;
    this.portSet = new Set(options.ports);
    this.assumeUp = options.assumeUp ?? false;
    this.discovered = options.assumeUp ? undefined : options.discovered;
    this.isLocal = options.isLocal ?? localAddressTest();
    this.unanswered = noResponse(this.technique);
    // (AddressMap's keys are numbers: an IPv6 model never passes it one, nor the reverse)
    this.hosts = (isIPv6Set(options.targets) ? new Map<bigint, HostState>() : new AddressMap<HostState>()) as HostTable<HostState>;
  }

  /**
   * Folds one engine record in. Returns the port's result when this record set or changed
   * its verdict (so streams report each change once), else undefined.
   */
  add(record: EngineRecord): PortResult | undefined {
    const value = record.target ?? addressValue(record.address);
    // The engine validates cookies; this guards against a record for something we never asked.
    if (value === undefined || !containsAddress(this.targets, value) || !this.portSet.has(record.port)) return undefined;
    const verdict = classify(record, this.technique);
    if (!verdict) return undefined;
    let host = this.hosts.get(value);
    if (!host) {
      host = { port: -1, verdict: undefined, ports: undefined, rttUs: 0 };
      this.hosts.set(value, host);
    }
    // An ICMP error from a router says nothing about the host being up; anything from the
    // host itself does.
    if (!host.upBy && verdict.reasonIp === undefined) host.upBy = verdict;
    if (record.rttUs > 0 && (host.rttUs === 0 || record.rttUs < host.rttUs)) host.rttUs = record.rttUs;
    const prev = host.ports ? host.ports.get(record.port) : host.port === record.port ? host.verdict : undefined;
    const merged = mergeVerdict(prev, verdict, this.technique);
    if (merged === prev) return undefined;
    if (host.ports) host.ports.set(record.port, merged);
    else if (host.port === -1 || host.port === record.port) {
      host.port = record.port;
      host.verdict = merged;
    } else {
      host.ports = new Map([[host.port, host.verdict as Verdict], [record.port, merged]]);
      host.verdict = undefined;
    }
    this.openCount += (OPENISH_STATES.has(merged.state) ? 1 : 0) - (prev && OPENISH_STATES.has(prev.state) ? 1 : 0);
    return { address: record.address, port: record.port, protocol: this.protocol, state: merged.state, reason: merged.reason, ttl: merged.ttl };
  }

  /** How many of the host's ports have a verdict (the CLI streams a host once all have). */
  answeredPorts(value: number): number {
    const host = this.hosts.get(value);
    return host ? (host.ports ? host.ports.size : host.verdict ? 1 : 0) : 0;
  }

  /** Ports now open or open|filtered (the progress line's count). */
  get openPorts(): number {
    return this.openCount;
  }

  /** The report for one target address. */
  report(entry: TargetEntry): HostReport {
    const host = this.hosts.get(entry.value);
    const report: HostReport = {
      address: entry.address,
      status: this.status(entry.address, host, entry.value),
      ports: portsOf(host),
      totalPorts: this.ports.length,
      unanswered: this.unanswered,
      protocol: this.protocol,
    };
    if (entry.hostname !== undefined) report.hostname = entry.hostname;
    if (host && host.rttUs > 0) report.latency = host.rttUs / 1e6;
    return report;
  }

  private status(address: string, host: HostState | undefined, value: AddressValue): HostStatus {
    if (this.assumeUp) return { state: 'up', reason: 'user-set', ttl: 0 };
    if (this.discovered) return this.discovered.get(value) ?? { state: 'down', reason: 'no-response', ttl: 0 };
    if (!host?.upBy) return { state: 'down', reason: 'no-response', ttl: 0 };
    if (this.isLocal(address)) return { state: 'up', reason: 'localhost-response', ttl: 0 };
    return { state: 'up', reason: host.upBy.reason, ttl: host.upBy.ttl };
  }

  /** Every target in command-line order, down hosts included (lazy: walk, don't store). */
  *reports(): Generator<HostReport> {
    for (const entry of targetEntries(this.targets)) yield this.report(entry);
  }

  /** Hosts up, without walking the whole target space. */
  get hostsUp(): number {
    if (this.assumeUp) return this.targets.count;
    if (this.discovered) return this.discovered.size;
    let n = 0;
    for (const h of this.hosts.values()) if (h.upBy) n++;
    return n;
  }

  /** Reports for hosts that are up, in target order. Walks only stored (or discovered) hosts unless -Pn. */
  *upReports(): Generator<HostReport> {
    if (this.assumeUp) {
      yield* this.reports();
      return;
    }
    for (const entry of orderedEntries(this.targets, this.upValues())) yield this.report(entry);
  }

  /** Addresses (numbers, or bigints for IPv6) of the hosts up, in no particular order (with -Pn: only those that answered). */
  upValues(): AddressValue[] {
    return this.discovered ? [...this.discovered.keys()] : [...this.hosts.entries()].filter(([, h]) => h.upBy).map(([v]) => v);
  }
}

/** States the progress line counts as open. */
const OPENISH_STATES: ReadonlySet<PortState> = new Set<PortState>(['open', 'open|filtered']);

function portsOf(host: HostState | undefined): Map<number, Verdict> {
  if (host?.ports) return host.ports;
  const ports = new Map<number, Verdict>();
  if (host?.verdict) ports.set(host.port, host.verdict);
  return ports;
}

/** Target entries for `values`, in target order (piece order, then address). */
function orderedEntries(targets: AnyTargetSet, values: AddressValue[]): TargetEntry[] {
  const pieces: readonly { start: AddressValue; end: AddressValue; hostname?: string }[] = targets.pieces;
  if (pieces.length === 1) return singlePiece(pieces[0], values);
  const order = new Map<AddressValue, number>();
  // Target order is piece order; find each up host's piece (few pieces, few up hosts).
  for (const v of values) order.set(v, pieces.findIndex((p) => v >= p.start && v <= p.end));
  const up = [...values].sort((a, b) => order.get(a)! - order.get(b)! || compareValues(a, b));
  return up.map((v) => {
    const piece = pieces[order.get(v)!];
    const entry: TargetEntry = { address: formatAddress(v), value: v };
    if (piece?.hostname !== undefined) entry.hostname = piece.hostname;
    return entry;
  });
}

/**
 * The common case, one piece (one block, a sweep): address order alone. IPv6 values are
 * sorted as number offsets from the piece's start when they fit a double exactly (a /76 or
 * smaller): a typed array sorts 65,536 of them far faster than bigint comparisons do.
 */
function singlePiece(piece: { start: AddressValue; end: AddressValue; hostname?: string }, values: AddressValue[]): TargetEntry[] {
  const entry = (v: AddressValue): TargetEntry => {
    const e: TargetEntry = { address: formatAddress(v), value: v };
    if (piece.hostname !== undefined) e.hostname = piece.hostname;
    return e;
  };
  if (typeof piece.start === 'bigint' && typeof piece.end === 'bigint' && piece.end - piece.start < 2n ** 53n) {
    const base = piece.start;
    const offsets = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) offsets[i] = Number((values[i] as bigint) - base);
    offsets.sort();
    return Array.from(offsets, (o) => entry(base + BigInt(o)));
  }
  return [...values].sort(compareValues).map(entry);
}

/** What the CLI reads from a finished scan: hosts up and their reports. */
export interface HostsModel {
  readonly hostsUp: number;
  reports(): Iterable<HostReport>;
  upReports(): Iterable<HostReport>;
}

/** A port section from one technique's host report. */
function sectionOf(report: HostReport, scanned: readonly number[]): PortSection {
  return { protocol: report.protocol, ports: report.ports, totalPorts: report.totalPorts, unanswered: report.unanswered, scanned };
}

/**
 * Several techniques' models of the same targets (nmap's -sS -sU) folded into hosts that
 * carry the ports of every protocol: one section per model, in the models' order (TCP
 * first, as nmap lists them). A host is up when any model saw it up (with -Pn or host
 * discovery every model agrees); its latency is the smallest any model measured.
 */
export class CombinedModel implements HostsModel {
  constructor(readonly models: readonly ScanModel[]) {
    if (models.length === 0) throw new Error('CombinedModel needs at least one model');
  }

  private merge(reports: HostReport[]): HostReport {
    const first = reports[0];
    const up = reports.find((r) => r.status.state === 'up');
    const latencies = reports.map((r) => r.latency).filter((l): l is number => l !== undefined);
    const out: HostReport = { ...first, status: (up ?? first).status, sections: reports.map((r, i) => sectionOf(r, this.models[i].ports)) };
    delete out.latency;
    if (latencies.length) out.latency = Math.min(...latencies);
    return out;
  }

  private reportFor(entry: TargetEntry): HostReport {
    return this.merge(this.models.map((m) => m.report(entry)));
  }

  get hostsUp(): number {
    const [first] = this.models;
    if (first.assumeUp) return first.targets.count;
    if (this.models.length === 1) return first.hostsUp;
    return this.upSet().size;
  }

  private upSet(): Set<AddressValue> {
    const up = new Set<AddressValue>();
    for (const m of this.models) for (const v of m.upValues()) up.add(v);
    return up;
  }

  *reports(): Generator<HostReport> {
    for (const entry of targetEntries(this.models[0].targets)) yield this.reportFor(entry);
  }

  *upReports(): Generator<HostReport> {
    const [first] = this.models;
    if (first.assumeUp) {
      yield* this.reports();
      return;
    }
    for (const entry of orderedEntries(first.targets, [...this.upSet()])) yield this.reportFor(entry);
  }
}

/** The host with only the ports that answered (an interrupted scan's report): nothing silent is synthesised. */
export function answeredOnly(host: HostReport): HostReport {
  const out: HostReport = { ...host, totalPorts: host.ports.size };
  if (host.sections) out.sections = host.sections.map((s) => ({ ...s, totalPorts: s.ports.size }));
  return out;
}

/** Ports that answered, every protocol together. */
export function answeredCount(host: HostReport): number {
  return host.sections ? host.sections.reduce((n, s) => n + s.ports.size, 0) : host.ports.size;
}
