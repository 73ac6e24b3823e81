// Host discovery, the phase before port scanning (skipped with -Pn; the whole run with -sn),
// as nmap does it by default: on the local link an ARP request (-PR, unless
// --disable-arp-ping); elsewhere, as root, ICMP echo, TCP SYN to 443, TCP ACK to 80 and
// ICMP timestamp together; without raw-socket rights, connect() to 80 and 443. -PE -PP -PS
// -PA -PU choose the IP probes instead. Every probe kind is one engine scan over the same
// address ranges (the engine's permutation, cookies and rate limit), all running at once
// with the rate split between them, so a ping sweep of a /16 runs at sweep speed. A host is
// up with the first reply that came from it; its reason is nmap's name for that reply.
import { classify } from '../verdicts/classify.js';
import { ScanError, UsageError } from '../errors.js';
import type { HostStatus } from './model.js';
import type { NativeScan, NativeScanOptions } from '../engine/native.js';
import { parsePorts } from '../targets/ports.js';
import { decodeBatch, RecordKind, type EngineRecord } from '../engine/records.js';
import { groupByRoute, ownIPv4Addresses, systemRoutes, type Route } from '../engine/routes.js';
import { DEFAULT_MAX_RETRIES, startEngine } from '../engine/prepare.js';
import { engineRateFields, type RateOptions } from '../engine/rate.js';
import { containsAddress, isIPv6Set, mergeRanges, type AnyTargetSet, type TargetSet } from '../targets/targets.js';
import { parseIPv4, type AddressRange } from '../targets/address.js';
import type { AddressValue } from '../targets/address6.js';
import { udpPayloads } from '../targets/udp-payloads.js';
import { discover6 } from './discovery6.js';

/** The engine's discovery techniques beside its port-scan ones (types before the addon is rebuilt). */
type EngineTechnique = NativeScanOptions['technique'];

/** One kind of IP ping probe. */
export type PingProbe = { type: 'echo' } | { type: 'timestamp' } | { type: 'mask' } | { type: 'syn' | 'ack' | 'udp'; ports: number[] };

/** What discovery sends, from the -P options. */
export interface DiscoveryPlan {
  /** IP probes for targets not ARPed; nmap's default set when none was chosen. */
  probes: PingProbe[];
  /** ARP for targets on the local link (default true; --disable-arp-ping false). */
  arp: boolean;
}

/** nmap's default ports: -PS and -PA 80, -PU 40125 (the default discovery uses SYN to 443). */
export const DEFAULT_PING_PORTS = { syn: [80], ack: [80], udp: [40125] } as const;

/** nmap's default discovery as root: echo, SYN to 443, ACK to 80, timestamp. */
export const DEFAULT_PROBES: readonly PingProbe[] = [{ type: 'echo' }, { type: 'syn', ports: [443] }, { type: 'ack', ports: [80] }, { type: 'timestamp' }];

/** Without raw-socket rights: connect() to these ports. */
export const CONNECT_PING_PORTS = [80, 443];

const PORT_PROBES: Record<string, 'syn' | 'ack' | 'udp'> = { S: 'syn', A: 'ack', U: 'udp' };

/**
 * Parses host discovery options as nmap spells them: "-PE", "-PP", "-PR", "-PS", "-PS22,80",
 * "-PA443", "-PU53,161" (ports attached, nmap's syntax). Returns the plan; throws UsageError
 * for an unknown or unsupported one.
 */
export function parseDiscoveryFlags(flags: readonly string[], disableArp = false): DiscoveryPlan {
  const probes: PingProbe[] = [];
  const add = (p: PingProbe): void => {
    const same = probes.find((q) => q.type === p.type);
    if (same && 'ports' in same && 'ports' in p) same.ports = [...new Set([...same.ports, ...p.ports])].sort((a, b) => a - b);
    else if (!same) probes.push(p);
  };
  for (const flag of flags) {
    const f = flag.replace(/^-/, '');
    if (f === 'PE') add({ type: 'echo' });
    else if (f === 'PP') add({ type: 'timestamp' });
    else if (f === 'PR') continue; // ARP is on by default for on-link targets
    else if (f === 'PM') add({ type: 'mask' });
    else if (/^P[SAU]/.test(f)) {
      const type = PORT_PROBES[f[1]];
      const spec = f.slice(2);
      let ports: number[];
      try {
        ports = spec === '' ? [...DEFAULT_PING_PORTS[type]] : parsePorts(spec, type === 'udp' ? 'udp' : 'tcp');
      } catch (e) {
        throw new UsageError(`invalid port list in -${f.slice(0, 2)} "${spec}": ${(e as Error).message}`);
      }
      if (ports.length === 0) throw new UsageError(`-${f.slice(0, 2)} needs at least one port`);
      add({ type, ports });
    } else if (/^P[OYBI0-9]/.test(f)) throw new UsageError(`host discovery option "-${f}" is not supported yet`);
    else throw new UsageError(`unknown host discovery option "-${f}"`);
  }
  return { probes: probes.length ? probes : DEFAULT_PROBES.map((p) => ({ ...p })), arp: !disableArp };
}

/** A host found up, and what showed it. */
export interface DiscoveredHost {
  status: HostStatus;
  /** Smallest round-trip time of a reply from it, µs; 0 when none was measured. */
  rttUs: number;
  /** Hardware address of an on-link host ("52:54:00:12:08:02"), from its reply frames. */
  mac?: string;
}

export interface DiscoveryResult {
  /** Hosts up, by address value (a number for IPv4, a bigint for IPv6). */
  up: Map<AddressValue, DiscoveredHost>;
  elapsedSeconds: number;
  /** Probes sent in all (retransmissions included). */
  sent: number;
  /** True when raw sockets were refused and connect() probes were used instead. */
  unprivileged: boolean;
}

export interface DiscoveryOptions {
  /** Of either family: IPv6 sets are discovered as nmap -6 does (discovery6.ts). */
  targets: AnyTargetSet;
  plan: DiscoveryPlan;
  /** The rate of the discovery probes (one probe kind after another): fixed, or found as the port scan's is. */
  rates?: RateOptions;
  maxRetries?: number;
  seed?: bigint;
  interface?: string;
  sourceAddress?: string;
  signal?: AbortSignal;
  /** The routing table (tests); this namespace's when absent. */
  routes?: readonly Route[];
  /** This machine's own IPv4 addresses (tests); read from the interfaces when absent. */
  localAddresses?: readonly string[];
  /** Starts one engine scan (tests); the addon's when absent. */
  start?: (options: NativeScanOptions) => NativeScan;
  /** Every decoded batch of every discovery engine scan (--packet-trace). */
  onRecords?: (records: EngineRecord[]) => void;
}

/** Removes single addresses from sorted, disjoint ranges. */
function without(ranges: readonly AddressRange[], values: readonly number[]): AddressRange[] {
  let out = ranges.map((r) => ({ ...r }));
  for (const v of values) {
    out = out.flatMap((r) => {
      if (v < r.start || v > r.end) return [r];
      const parts: AddressRange[] = [];
      if (r.start < v) parts.push({ start: r.start, end: v - 1 });
      if (v < r.end) parts.push({ start: v + 1, end: r.end });
      return parts;
    });
  }
  return out;
}

const flatten = (ranges: readonly AddressRange[]): number[] => ranges.flatMap((r) => [r.start, r.end]);

const ICMP_ECHO_REPLY = 0;
const ICMPV6_ECHO_REPLY = 129;
const ICMP_TIMESTAMP_REPLY = 14;
const ICMP_MASK_REPLY = 18;
/** Technique codes of the engine's records (crates/core/src/record.rs). */
const TECHNIQUE_CODE = { syn: 1, ack: 2, udp: 9, connect: 10, echo: 11, timestamp: 12, arp: 13, mask: 14 } as const;

/**
 * What one record says about its host: up with nmap's reason, or nothing (a router's ICMP
 * error, a connect() that failed). Exported for the tests.
 */
export function hostEvidence(record: EngineRecord): { reason: string; ttl: number } | undefined {
  switch (record.kind) {
    case RecordKind.Arp:
      return { reason: 'arp-response', ttl: 0 };
    case RecordKind.Ndp:
      return { reason: 'nd-response', ttl: 0 };
    case RecordKind.Tcp:
      if (record.flags & 0x04) return { reason: 'reset', ttl: record.ttl };
      if (record.flags & 0x02) return { reason: 'syn-ack', ttl: record.ttl };
      return undefined;
    case RecordKind.Udp:
      return { reason: 'udp-response', ttl: record.ttl };
    case RecordKind.Connect:
      // connect() shows no reply packet: no TTL, as nmap prints it.
      if (record.window === 0) return { reason: 'syn-ack', ttl: 0 };
      if (record.window === 111) return { reason: 'conn-refused', ttl: 0 };
      return undefined;
    case RecordKind.Icmp: {
      // An ICMP error from a router says the host could not be reached, not that it is up.
      if (record.responder !== record.address) return undefined;
      if (record.family === 6) {
        if (record.icmpType === ICMPV6_ECHO_REPLY) return { reason: 'echo-reply', ttl: record.ttl };
      } else if (record.icmpType === ICMP_ECHO_REPLY) return { reason: 'echo-reply', ttl: record.ttl };
      if (record.icmpType === ICMP_TIMESTAMP_REPLY) return { reason: 'timestamp-reply', ttl: record.ttl };
      if (record.icmpType === ICMP_MASK_REPLY) return { reason: 'addressmask-reply', ttl: record.ttl };
      // An error quoting our probe, from the host itself (port-unreach to -PU, ...): the
      // port scan tables already hold nmap's names for every type/code.
      const verdict = classify(record, record.technique === TECHNIQUE_CODE.udp ? 'udp' : 'syn');
      return verdict && { reason: verdict.reason, ttl: record.ttl };
    }
    default:
      return undefined;
  }
}

interface EngineJob {
  technique: EngineTechnique;
  ranges: AddressRange[];
  ports: number[];
}

/** Runs discovery and resolves with the hosts that are up. */
export async function discover(options: DiscoveryOptions): Promise<DiscoveryResult> {
  const { targets } = options;
  if (isIPv6Set(targets)) return discover6({ ...options, targets });
  return discover4({ ...options, targets });
}

async function discover4(options: DiscoveryOptions & { targets: TargetSet }): Promise<DiscoveryResult> {
  const t0 = performance.now();
  const { targets, plan } = options;
  const up = new Map<number, DiscoveredHost>();

  // This machine's own addresses are up without a probe, as nmap's localhost-response.
  const locals = (options.localAddresses ?? ownIPv4Addresses())
    .map(parseIPv4)
    .filter((v): v is number => v !== undefined)
    .filter((v) => targets.ranges.some((r) => v >= r.start && v <= r.end));
  for (const r of targets.ranges) {
    // 127.0.0.0/8 is this machine too.
    const lo = Math.max(r.start, 0x7f000000);
    const hi = Math.min(r.end, 0x7fffffff);
    for (let v = lo; v <= hi && locals.length < 1 << 24; v++) locals.push(v);
  }
  for (const v of locals) up.set(v, { status: { state: 'up', reason: 'localhost-response', ttl: 0 }, rttUs: 0 });
  const remote = without(targets.ranges, [...new Set(locals)].sort((a, b) => a - b));

  // The engine sends to one next hop per scan: one set of engine scans per route.
  const groups = groupByRoute(remote, options.routes ?? systemRoutes(), options.interface);
  // MAC addresses are shown for on-link hosts only: a routed host's frames carry its router's.
  const onLink = groups.filter((g) => g.direct).flatMap((g) => g.ranges);
  const isOnLink = (v: number): boolean => onLink.some((r) => v >= r.start && v <= r.end);

  const ipJobs = (ranges: AddressRange[]): EngineJob[] =>
    ranges.length === 0 ? [] : plan.probes.map((p) => ({ technique: p.type, ranges, ports: 'ports' in p ? p.ports : [0] }));
  let jobs: EngineJob[] = groups.flatMap((g) => (g.direct && plan.arp ? [{ technique: 'arp' as const, ranges: g.ranges, ports: [0] }] : ipJobs(g.ranges)));

  const rate = engineRateFields(options.rates ?? {});
  let sent = 0;
  let unprivileged = false;
  const start = options.start ?? ((native: NativeScanOptions) => startEngine({ targets, ports: native.ports, native }));
  const fold = (records: EngineRecord[]): void => {
    options.onRecords?.(records);
    for (const record of records) {
      if (record.kind === RecordKind.ProbeSent) continue;
      const value = parseIPv4(record.address);
      if (value === undefined || !containsAddress(targets, value)) continue;
      const evidence = hostEvidence(record);
      if (!evidence) continue;
      let host = up.get(value);
      if (!host) {
        // The first reply decides the reason, as in nmap.
        host = { status: { state: 'up', reason: evidence.reason, ttl: evidence.ttl }, rttUs: 0 };
        up.set(value, host);
      }
      if (record.rttUs > 0 && (host.rttUs === 0 || record.rttUs < host.rttUs)) host.rttUs = record.rttUs;
      if (host.mac === undefined && record.mac !== undefined && record.mac !== '00:00:00:00:00:00' && isOnLink(value)) host.mac = record.mac;
    }
  };

  const launch = (job: EngineJob): NativeScan => {
    const native = {
      ranges: flatten(job.ranges),
      ports: job.ports,
      technique: job.technique,
      ...rate,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    } as NativeScanOptions;
    if (options.seed !== undefined) native.seed = options.seed;
    if (options.interface !== undefined) native.interface = options.interface;
    if (options.sourceAddress !== undefined) native.sourceAddress = options.sourceAddress;
    if (job.technique === 'udp') native.udpPayloads = [...udpPayloads()].map(([port, payload]) => ({ port, payload }));
    return start(native);
  };

  // One probe type after another, each only to the hosts still not found up: a sweep where
  // every host answers the first probe costs one probe per host, as a port sweep does, at the
  // full rate; silent hosts get every probe type, as in nmap. A refusal (no raw-socket
  // rights, no link for ARP) shows at the first start, before anything was sent.
  const engines: NativeScan[] = [];
  let current: NativeScan | undefined;
  const abortAll = (): void => current?.abort();
  if (options.signal?.aborted) return { up, elapsedSeconds: (performance.now() - t0) / 1000, sent, unprivileged };
  options.signal?.addEventListener('abort', abortAll, { once: true });
  try {
    for (let i = 0; i < jobs.length && !options.signal?.aborted; i++) {
      const found = [...up.keys()].sort((a, b) => a - b);
      const ranges = without(jobs[i].ranges, found);
      if (ranges.length === 0) continue;
      try {
        current = launch({ ...jobs[i], ranges });
      } catch (e) {
        if (!(e instanceof ScanError)) throw e;
        if (e.code === 'EPERM' && !unprivileged) {
          // As nmap without root: connect() to 80 and 443 for every target.
          unprivileged = true;
          jobs = groups.map((g) => ({ technique: 'connect', ranges: g.ranges, ports: CONNECT_PING_PORTS }));
          i = -1;
          continue;
        }
        if (e.code === 'EROUTE' && jobs[i].technique === 'arp') {
          // The engine found no link to ARP on: probe those targets over IP instead.
          jobs.splice(i, 1, ...ipJobs(jobs[i].ranges));
          i--;
          continue;
        }
        throw e;
      }
      engines.push(current);
      for (let batch = await current.nextBatch(); batch !== null; batch = await current.nextBatch()) fold(decodeBatch(batch));
    }
  } finally {
    options.signal?.removeEventListener('abort', abortAll);
    for (const e of engines) if (!e.summary().finished) e.abort();
  }
  for (const e of engines) sent += e.summary().sent;
  return { up: up as Map<AddressValue, DiscoveredHost>, elapsedSeconds: (performance.now() - t0) / 1000, sent, unprivileged };
}

/** Sorted up IPv4 addresses as merged ranges: what the port scan probes after discovery. */
export function upRanges(up: ReadonlyMap<AddressValue, unknown>): AddressRange[] {
  return mergeRanges([...up.keys()].filter((v): v is number => typeof v === 'number').map((v) => ({ start: v, end: v })));
}

/** -Pn: every target up, as nmap's "user-set". */
export const USER_SET: HostStatus = { state: 'up', reason: 'user-set', ttl: 0 };
