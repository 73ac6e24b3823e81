// The native boundary's way in: the library's scan options checked and resolved into the
// engine's (targets parsed, ranges built, timing and technique set), the same scan with
// another technique (-sS -sU), the split of a scan by route, and starting the engine, whose
// "CODE: text" errors become ScanErrors. Takes ScanOptions; gives a PreparedScan and a
// running NativeScan. Nothing here folds results: that is ts/engine/scan.ts.
import { ScanError, type TargetError } from '../errors.js';
import { parseIPv4, type AddressRange } from '../targets/address.js';
import { isLinkLocal6, parseIPv6, type AddressRange6 } from '../targets/address6.js';
import { parsePorts } from '../targets/ports.js';
import { engineRanges, isIPv6Set, parseTargets, type AnyTargetSet, type Resolver } from '../targets/targets.js';
import { engineRanges6, looksIPv6, parseTargets6, type Resolver6 } from '../targets/targets6.js';
import { udpPayloads } from '../targets/udp-payloads.js';
import type { Technique } from '../verdicts/classify.js';
import { native, type NativeScan, type NativeScanOptions } from './native.js';
import { engineRateFields } from './rate.js';
import { groupByRoute, ownIPv4Addresses, systemRoutes } from './routes.js';
import { afterEngineStart } from './privilege.js';
import { groupByRoute6, ownIPv6Values, systemRoutes6 } from './routes6.js';
import { drawsSynAck, RST_POLICIES, suppressRsts, type RstGuard, type RstPolicy } from './rst-policy.js';

/** Retransmissions of an unanswered probe, as nmap's default. */
export const DEFAULT_MAX_RETRIES = 10;
/** The most retransmissions the engine tells apart (MAX_RETRIES_LIMIT in crates/core/src/scan/config.rs). */
export const MAX_RETRIES = 50;

/** What to scan and how. Only `targets` is required. */
export interface ScanOptions {
  /** Target specs: addresses, CIDR blocks, ranges, hostnames ('198.18.0.0/24', '198.18.0.1-20'),
   *  or IPv6 addresses and blocks ('2001:2::2', '2001:2:0:1::/112', 'fe80::2%eth0'). */
  targets: readonly string[];
  /**
   * Scan IPv6 (nmap's -6): names resolve to AAAA records and IPv4 targets are refused. When
   * absent, a scan whose targets include an IPv6 address or block is an IPv6 scan.
   */
  ipv6?: boolean;
  /** A -p style string ('22,80,1000-2000', '-', 'http,ssh') or a list of ports; the 1000 most common TCP ports when absent. */
  ports?: string | readonly number[];
  /** Probe technique, as nmap's -sS/-sA/...; 'syn' when absent. */
  technique?: Technique;
  /** The probe's TCP flags for technique 'flags' (nmap's --scanflags), as a byte. */
  tcpFlags?: number;
  /**
   * A fixed rate in packets per second, retransmissions included, sent from the first probe
   * (lowered only while nmap's loss rules call for it); Infinity for no limit. When absent the
   * engine finds the rate: it starts at the timing template's start rate (1,000 packets/s for
   * -T3), grows while replies keep pace with probes, and backs off on loss, with no cap but
   * `maxRate` (ts/engine/rate.ts).
   */
  rate?: number;
  /** The cap of the found rate, packets per second (nmap's --max-rate); with `rate`, not below it. */
  maxRate?: number;
  /** The -T template (0-5) that shapes the found rate: higher starts higher and grows faster; 3 when absent. */
  timingTemplate?: number;
  /** Seed of the probe order; the same seed gives the same order. */
  seed?: bigint | number;
  /** Retransmissions of an unanswered probe; DEFAULT_MAX_RETRIES (10, as nmap) when absent. */
  maxRetries?: number;
  /** Network interface to send on; chosen from the routing table when absent. */
  interface?: string;
  /** Source address, of the targets' family; chosen from the routing table when absent. */
  sourceAddress?: string;
  /** -Pn: report every target as up, unanswered ports filtered. */
  assumeUp?: boolean;
  /**
   * Stops the scan: the engine's threads stop and `scan()`'s iterator ends by throwing an
   * AbortError (its summary still resolves, with `aborted: true`).
   */
  signal?: AbortSignal;
  /** Name resolution (defaults to the system resolver; a name's first IPv4 address is scanned). */
  resolve?: Resolver;
  /** Name resolution for IPv6 scans (defaults to the system resolver's AAAA answers). */
  resolve6?: Resolver6;
  /** Scan every IPv4 address of a name, not only the first (nmap's --resolve-all). */
  resolveAll?: boolean;
  /** Target specs never to probe (nmap's --exclude / --excludefile entries). */
  exclude?: readonly string[];
  /** Leave IANA special-purpose ranges out of target sets larger than a /8 (ts/targets/blocklist.ts); true when absent. */
  defaultBlocklist?: boolean;
  /** Called for a host name that does not resolve, which is then left out; without it such a name fails the scan (TargetError). */
  onUnresolved?: (error: TargetError) => void;
  /** Probe in address and port order instead of the seeded permutation (nmap's -r). */
  sequential?: boolean;
  /** Have the engine report every probe it sends (`packet` events; the CLI's --packet-trace). */
  trace?: boolean;
  /** Milliseconds between `progress` events; 1000 when absent. */
  progressInterval?: number;
  /**
   * Retransmission timeout bounds in milliseconds (nmap's --initial-rtt-timeout,
   * --min-rtt-timeout, --max-rtt-timeout); nmap's 1000, 100 and 10000 when absent.
   */
  initialRttTimeoutMs?: number;
  minRttTimeoutMs?: number;
  maxRttTimeoutMs?: number;
  /** The rate, found or fixed, never drops below this many packets per second (nmap's --min-rate); at most `rate` or `maxRate`. */
  minRate?: number;
  /** Adapt the rate to loss as nmap's congestion control does; true when absent. false sends at exactly `rate`, which it needs. */
  adaptive?: boolean;
  /**
   * What happens to the RSTs this host's kernel sends to the SYN/ACKs a SYN scan draws
   * (ts/engine/rst-policy.ts): 'kernel' leaves them (the default); 'suppress' drops those SYN/ACKs
   * in this namespace's raw table for the scan's duration (needs iptables and root).
   */
  rstPolicy?: RstPolicy;
  /** Scan only shard `index` of `count` (1-based) of the seeded permutation, as --shard i/N; give every shard the same seed. */
  shard?: { index: number; count: number };
  /**
   * Start at this position of the permutation: a cursor from an earlier run of the same scan
   * (same targets, ports, seed and shard), which then covers only what that run had not settled.
   */
  startPosition?: number;
}

/** Options checked and targets resolved: everything needed before packets flow. */
export interface PreparedScan {
  /** Of either family: an IPv6 set (targets6.ts) when the scan is IPv6. */
  targets: AnyTargetSet;
  ports: number[];
  /** 'suppress' when the scan drops the SYN/ACKs it draws before this host's kernel answers them. */
  rstPolicy?: RstPolicy;
  native: NativeScanOptions;
}

function positive(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) throw new ScanError(`invalid ${name} "${value}"`, 'EINVAL');
  return value;
}

/** Parses ports and resolves targets; throws TargetError/PortError/ScanError naming bad input. */
export async function prepareScan(options: ScanOptions): Promise<PreparedScan> {
  const ports = parsePorts(options.ports, options.technique === 'udp' ? 'udp' : 'tcp');
  const v6 = options.ipv6 ?? options.targets.some(looksIPv6);
  const targets: AnyTargetSet = v6
    ? await parseTargets6(options.targets, options.resolve6, { resolveAll: options.resolveAll, exclude: options.exclude })
    : await parseTargets(options.targets, options.resolve, {
        resolveAll: options.resolveAll,
        exclude: options.exclude,
        defaultBlocklist: options.defaultBlocklist,
        onUnresolved: options.onUnresolved,
      });
  const maxRetries = positive('maxRetries', options.maxRetries, DEFAULT_MAX_RETRIES, 0);
  if (!Number.isInteger(maxRetries) || maxRetries > MAX_RETRIES) throw new ScanError(`invalid maxRetries "${maxRetries}" (0 to ${MAX_RETRIES})`, 'EINVAL');
  if (options.adaptive === false && options.rate === undefined) throw new ScanError('adaptive: false sends at a fixed rate: give `rate`', 'EINVAL');
  const opts: NativeScanOptions = {
    ranges: isIPv6Set(targets) ? [] : engineRanges(targets),
    ports,
    technique: options.technique ?? 'syn',
    // Infinity: no limit (the engine then sends as fast as the link takes packets)
    ...engineRateFields(options),
    maxRetries,
  };
  if (options.seed !== undefined) opts.seed = BigInt(options.seed);
  if (options.sequential) opts.sequential = true;
  if (opts.technique === 'flags') {
    if (options.tcpFlags === undefined) throw new ScanError('technique "flags" needs tcpFlags', 'EINVAL');
    opts.tcpFlags = options.tcpFlags;
  }
  if (opts.technique === 'udp') opts.udpPayloads = [...udpPayloads()].map(([port, payload]) => ({ port, payload }));
  if (isIPv6Set(targets)) {
    opts.ranges6 = engineRanges6(targets.ranges);
    // a link-local target's zone names the interface (unless one was given)
    if (targets.zone !== undefined) opts.interface = targets.zone;
  }
  if (options.interface !== undefined) opts.interface = options.interface;
  if (options.sourceAddress !== undefined) opts.sourceAddress = options.sourceAddress;
  if (options.trace) opts.trace = true;
  if (options.initialRttTimeoutMs !== undefined) opts.initialRttTimeoutMs = positive('initialRttTimeoutMs', options.initialRttTimeoutMs, 0, 0);
  if (options.minRttTimeoutMs !== undefined) opts.minRttTimeoutMs = positive('minRttTimeoutMs', options.minRttTimeoutMs, 0, 0);
  if (options.maxRttTimeoutMs !== undefined) opts.maxRttTimeoutMs = positive('maxRttTimeoutMs', options.maxRttTimeoutMs, 0, 0);
  if (options.adaptive !== undefined) opts.adaptive = options.adaptive;
  if (options.shard !== undefined) {
    const { index, count } = options.shard;
    if (!(Number.isInteger(count) && count >= 1 && count <= 2 ** 32 && Number.isInteger(index) && index >= 1 && index <= count)) {
      throw new ScanError(`invalid shard ${index}/${count} (1 ≤ index ≤ count)`, 'EINVAL');
    }
    opts.shardIndex = index;
    opts.shardCount = count;
  }
  if (options.startPosition !== undefined) {
    if (!(Number.isSafeInteger(options.startPosition) && options.startPosition >= 0)) throw new ScanError(`invalid startPosition "${options.startPosition}"`, 'EINVAL');
    opts.startPosition = options.startPosition;
  }
  const rstPolicy = options.rstPolicy ?? 'kernel';
  if (!RST_POLICIES.includes(rstPolicy)) throw new ScanError(`invalid rstPolicy "${rstPolicy}" (one of ${RST_POLICIES.join(', ')})`, 'EINVAL');
  if (rstPolicy === 'suppress') {
    // The rule names the source ports: fix them now (retransmissions leave from port + attempt).
    opts.sourcePort = 32768 + Math.floor(Math.random() * (61000 - 32768 - maxRetries));
    return { targets, ports, native: opts, rstPolicy };
  }
  return { targets, ports, native: opts };
}

/**
 * The same scan (targets already resolved, same rate, seed, interface, ...) with another
 * technique and port list: the second scan of a -sS -sU run.
 */
export function withTechnique(prepared: PreparedScan, technique: Technique, ports: readonly number[], tcpFlags?: number): PreparedScan {
  const opts: NativeScanOptions = { ...prepared.native, ports: [...ports], technique };
  delete opts.tcpFlags;
  delete opts.udpPayloads;
  if (technique === 'flags') {
    if (tcpFlags === undefined) throw new ScanError('technique "flags" needs tcpFlags', 'EINVAL');
    opts.tcpFlags = tcpFlags;
  }
  if (technique === 'udp') opts.udpPayloads = [...udpPayloads()].map(([port, payload]) => ({ port, payload }));
  return { ...prepared, ports: [...ports], native: opts };
}

/** Suppression rules held for running engines (--rst-policy suppress), released by releaseEngine(). */
const rstGuards = new WeakMap<NativeScan, RstGuard>();

/** Starts the engine; its "CODE: text" errors become ScanError with that code. */
export function startEngine(prepared: PreparedScan): NativeScan {
  const n = prepared.native;
  const guard =
    prepared.rstPolicy === 'suppress' && !n.dryRun && n.sourcePort !== undefined && drawsSynAck(n.technique, n.tcpFlags ?? undefined)
      ? suppressRsts(n.sourcePort, Math.min(65535, n.sourcePort + n.maxRetries))
      : undefined;
  try {
    const engine = native().startScan(n);
    if (guard) rstGuards.set(engine, guard);
    try {
      // A run as root gives root up once these sockets are open (ts/engine/privilege.ts).
      afterEngineStart(n);
    } catch (e) {
      engine.abort();
      guard?.release();
      throw e;
    }
    return engine;
  } catch (e) {
    if (e instanceof ScanError) throw e;
    guard?.release();
    const message = (e as Error).message ?? String(e);
    const m = /^([A-Z]+):\s*(.*)$/s.exec(message);
    throw new ScanError(message.split('\n')[0], m ? m[1] : 'ENGINE');
  }
}

/**
 * The engine options split into one scan per route: loopback and this host's own addresses,
 * then each route of the routing table, in order of first use. One part when everything
 * leaves the same way (the common case); sharding and resuming need that, since their
 * positions belong to one permutation.
 */
export function splitByRoute(opts: NativeScanOptions): NativeScanOptions[] {
  if (opts.ranges6 && opts.ranges6.length > 0) return splitByRoute6(opts);
  const ranges: AddressRange[] = [];
  for (let i = 0; i + 1 < opts.ranges.length; i += 2) ranges.push({ start: opts.ranges[i], end: opts.ranges[i + 1] });
  if (opts.dryRun || opts.technique === 'connect' || opts.interface !== undefined || ranges.length === 0) return [opts];
  // this host's addresses and 127/8 leave through lo: cut them out first
  const local: AddressRange[] = [{ start: 0x7f000000, end: 0x7fffffff }, ...ownIPv4Addresses().flatMap((s) => parseIPv4(s) ?? []).map((a) => ({ start: a, end: a }))];
  const own: AddressRange[] = [];
  let rest: AddressRange[] = ranges;
  for (const l of local) {
    const next: AddressRange[] = [];
    for (const r of rest) {
      if (r.end < l.start || r.start > l.end) {
        next.push(r);
        continue;
      }
      own.push({ start: Math.max(r.start, l.start), end: Math.min(r.end, l.end) });
      if (r.start < l.start) next.push({ start: r.start, end: l.start - 1 });
      if (r.end > l.end) next.push({ start: l.end + 1, end: r.end });
    }
    rest = next;
  }
  const groups = [own.sort((a, b) => a.start - b.start), ...groupByRoute(rest.sort((a, b) => a.start - b.start), systemRoutes()).map((g) => g.ranges)].filter((g) => g.length > 0);
  if (groups.length <= 1) return [opts];
  if (opts.shardCount !== undefined || opts.startPosition !== undefined) {
    throw new ScanError('--shard and --resume need targets that leave by one route; these need several', 'EINVAL');
  }
  return groups.map((g) => ({ ...opts, ranges: g.flatMap((r) => [r.start, r.end]) }));
}

/** The IPv6 form of splitByRoute: ::1 and this host's own addresses, then each route of the IPv6 table. */
function splitByRoute6(opts: NativeScanOptions): NativeScanOptions[] {
  const flat = opts.ranges6 ?? [];
  const ranges: AddressRange6[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const start = parseIPv6(flat[i]);
    const end = parseIPv6(flat[i + 1]);
    if (start === undefined || end === undefined) return [opts]; // the engine will say what is wrong
    ranges.push({ start, end });
  }
  // link-local targets leave by the interface their zone names: no table to consult
  if (opts.dryRun || opts.technique === 'connect' || opts.interface !== undefined || ranges.some((r) => isLinkLocal6(r.start))) return [opts];
  const own: AddressRange6[] = [];
  let rest = ranges;
  for (const v of ownIPv6Values()) {
    const next: AddressRange6[] = [];
    for (const r of rest) {
      if (r.end < v || r.start > v) {
        next.push(r);
        continue;
      }
      own.push({ start: v, end: v });
      if (r.start < v) next.push({ start: r.start, end: v - 1n });
      if (r.end > v) next.push({ start: v + 1n, end: r.end });
    }
    rest = next;
  }
  const byStart = (a: AddressRange6, b: AddressRange6): number => (a.start < b.start ? -1 : 1);
  const groups = [own.sort(byStart), ...groupByRoute6(rest.sort(byStart), systemRoutes6()).map((g) => g.ranges)].filter((g) => g.length > 0);
  if (groups.length <= 1) return [opts];
  if (opts.shardCount !== undefined || opts.startPosition !== undefined) {
    throw new ScanError('--shard and --resume need targets that leave by one route; these need several', 'EINVAL');
  }
  return groups.map((g) => ({ ...opts, ranges6: engineRanges6(g) }));
}

/** Releases what startEngine() holds for a finished or abandoned engine (its RST rule). */
export function releaseEngine(engine: NativeScan): void {
  rstGuards.get(engine)?.release();
}
