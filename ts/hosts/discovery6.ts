// Host discovery for IPv6 targets (nmap's with -6), discovery.ts's counterpart: this host's own
// addresses (::1 included) are up without a probe (localhost-response); on-link targets —
// those of an on-link route, and link-local ones on their zone's interface — get a neighbour
// solicitation (nmap's ND ping, the IPv6 -PR, on by default; reason nd-response, with their
// MAC); the rest get the IP probes: by default ICMPv6 echo, TCP SYN to 443 and TCP ACK to 80
// (nmap's DEFAULT_IPV6_PING_TYPES: no timestamp, which IPv6 lacks). One engine scan per probe
// kind, each only to the hosts not yet found up, at the full rate, as for IPv4.
import type { NativeScan, NativeScanOptions } from '../engine/native.js';
import { decodeBatch, RecordKind, type EngineRecord } from '../engine/records.js';
import { groupByRoute6, ownIPv6Values, systemRoutes6, type Route6 } from '../engine/routes6.js';
import { DEFAULT_MAX_RETRIES, startEngine } from '../engine/prepare.js';
import { engineRateFields } from '../engine/rate.js';
import { ScanError, UsageError } from '../errors.js';
import { isLinkLocal6, parseIPv6, type AddressRange6, type AddressValue } from '../targets/address6.js';
import { containsAddress6, engineRanges6, mergeRanges6, type TargetSet6 } from '../targets/targets6.js';
import { udpPayloads } from '../targets/udp-payloads.js';
import { CONNECT_PING_PORTS, DEFAULT_PROBES, hostEvidence, type DiscoveredHost, type DiscoveryOptions, type DiscoveryResult, type PingProbe } from './discovery.js';

/** Removes single addresses from sorted, disjoint ranges. */
function without6(ranges: readonly AddressRange6[], values: readonly bigint[]): AddressRange6[] {
  let out = ranges.map((r) => ({ ...r }));
  for (const v of values) {
    out = out.flatMap((r) => {
      if (v < r.start || v > r.end) return [r];
      const parts: AddressRange6[] = [];
      if (r.start < v) parts.push({ start: r.start, end: v - 1n });
      if (v < r.end) parts.push({ start: v + 1n, end: r.end });
      return parts;
    });
  }
  return out;
}

/** The IP probes of a plan that exist for IPv6; timestamp and mask pings are refused, as nmap refuses them. */
export function ipv6Probes(probes: readonly PingProbe[]): PingProbe[] {
  if (probes.some((p) => p.type === 'timestamp' || p.type === 'mask')) throw new UsageError('ICMP Timestamp and Address Mask pings are only valid for IPv4.');
  return [...probes];
}

/** nmap's default IPv6 ping (DEFAULT_IPV6_PING_TYPES): ICMPv6 echo, SYN to 443, ACK to 80. */
export const DEFAULT_PROBES6: readonly PingProbe[] = [{ type: 'echo' }, { type: 'syn', ports: [443] }, { type: 'ack', ports: [80] }];

/** The probes IPv6 discovery sends for a plan: IPv4's default set becomes IPv6's. */
function probesOf(probes: readonly PingProbe[]): PingProbe[] {
  const isDefault = probes.length === DEFAULT_PROBES.length && probes.every((p, i) => p.type === DEFAULT_PROBES[i].type);
  return ipv6Probes(isDefault ? DEFAULT_PROBES6.map((p) => ({ ...p })) : probes);
}

interface Job6 {
  technique: NativeScanOptions['technique'];
  ranges: AddressRange6[];
  ports: number[];
  /** The interface the job must leave by (on-link jobs on a named interface). */
  iface?: string;
}

/** Runs IPv6 discovery and resolves with the hosts that are up (keys are bigint values). */
export async function discover6(options: DiscoveryOptions & { targets: TargetSet6; routes6?: readonly Route6[]; localAddresses6?: readonly string[] }): Promise<DiscoveryResult> {
  const t0 = performance.now();
  const { targets, plan } = options;
  const up = new Map<AddressValue, DiscoveredHost>();
  const probes = probesOf(plan.probes);
  const iface = options.interface ?? targets.zone;

  const locals = ownIPv6Values(options.localAddresses6).filter((v) => containsAddress6(targets, v));
  for (const v of locals) up.set(v, { status: { state: 'up', reason: 'localhost-response', ttl: 0 }, rttUs: 0 });
  const remote = without6(targets.ranges, locals);

  // link-local targets are on the link of their zone; the rest go by the routing table
  const linkLocal = remote.filter((r) => isLinkLocal6(r.start));
  const routed = remote.filter((r) => !isLinkLocal6(r.start));
  const groups = [
    ...(linkLocal.length ? [{ direct: true, ranges: linkLocal, iface }] : []),
    ...groupByRoute6(routed, options.routes6 ?? systemRoutes6(), iface).map((g) => ({ direct: g.direct, ranges: g.ranges, iface: iface ?? g.route?.iface })),
  ];
  const onLink = groups.filter((g) => g.direct).flatMap((g) => g.ranges);
  const isOnLink = (v: bigint): boolean => onLink.some((r) => v >= r.start && v <= r.end);

  const ipJobs = (ranges: AddressRange6[], via?: string): Job6[] =>
    ranges.length === 0 ? [] : probes.map((p) => ({ technique: p.type, ranges, ports: 'ports' in p ? p.ports : [0], iface: via }));
  let jobs: Job6[] = groups.flatMap((g) => (g.direct && plan.arp ? [{ technique: 'ndp' as const, ranges: g.ranges, ports: [0], iface: g.iface }] : ipJobs(g.ranges, g.iface)));

  const rate = engineRateFields(options.rates ?? {});
  let unprivileged = false;
  const start = options.start ?? ((native: NativeScanOptions) => startEngine({ targets, ports: native.ports, native }));
  const fold = (records: EngineRecord[]): void => {
    options.onRecords?.(records);
    for (const record of records) {
      if (record.kind === RecordKind.ProbeSent) continue;
      const value = typeof record.target === 'bigint' ? record.target : parseIPv6(record.address);
      if (value === undefined || !containsAddress6(targets, value)) continue;
      const evidence = hostEvidence(record);
      if (!evidence) continue;
      let host = up.get(value);
      if (!host) {
        host = { status: { state: 'up', reason: evidence.reason, ttl: evidence.ttl }, rttUs: 0 };
        up.set(value, host);
      }
      if (record.rttUs > 0 && (host.rttUs === 0 || record.rttUs < host.rttUs)) host.rttUs = record.rttUs;
      if (host.mac === undefined && record.mac !== undefined && record.mac !== '00:00:00:00:00:00' && isOnLink(value)) host.mac = record.mac;
    }
  };
  const launch = (job: Job6): NativeScan => {
    const native = {
      ranges: [],
      ranges6: engineRanges6(job.ranges),
      ports: job.ports,
      technique: job.technique,
      ...rate,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    } as NativeScanOptions;
    if (options.seed !== undefined) native.seed = options.seed;
    const via = options.interface ?? (job.technique === 'ndp' || job.ranges.some((r) => isLinkLocal6(r.start)) ? job.iface : undefined);
    if (via !== undefined) native.interface = via;
    if (options.sourceAddress !== undefined) native.sourceAddress = options.sourceAddress;
    if (job.technique === 'udp') native.udpPayloads = [...udpPayloads()].map(([port, payload]) => ({ port, payload }));
    return start(native);
  };

  const engines: NativeScan[] = [];
  let current: NativeScan | undefined;
  const abortAll = (): void => current?.abort();
  if (options.signal?.aborted) return { up, elapsedSeconds: (performance.now() - t0) / 1000, sent: 0, unprivileged };
  options.signal?.addEventListener('abort', abortAll, { once: true });
  try {
    for (let i = 0; i < jobs.length && !options.signal?.aborted; i++) {
      const found = [...up.keys()].filter((v): v is bigint => typeof v === 'bigint').sort((a, b) => (a < b ? -1 : 1));
      const ranges = without6(jobs[i].ranges, found);
      if (ranges.length === 0) continue;
      try {
        current = launch({ ...jobs[i], ranges });
      } catch (e) {
        if (!(e instanceof ScanError)) throw e;
        if (e.code === 'EPERM' && !unprivileged) {
          // as nmap without root: connect() to 80 and 443
          unprivileged = true;
          jobs = groups.map((g) => ({ technique: 'connect', ranges: g.ranges, ports: CONNECT_PING_PORTS, iface: g.iface }));
          i = -1;
          continue;
        }
        if (e.code === 'EROUTE' && jobs[i].technique === 'ndp') {
          // no link to solicit on: probe those targets over IP instead
          jobs.splice(i, 1, ...ipJobs(jobs[i].ranges, jobs[i].iface));
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
  let sent = 0;
  for (const e of engines) sent += e.summary().sent;
  return { up, elapsedSeconds: (performance.now() - t0) / 1000, sent, unprivileged };
}

/** Sorted up IPv6 addresses as merged ranges: what the port scan probes after discovery. */
export function upRanges6(up: ReadonlyMap<AddressValue, unknown>): AddressRange6[] {
  return mergeRanges6([...up.keys()].filter((v): v is bigint => typeof v === 'bigint').map((v) => ({ start: v, end: v })));
}
