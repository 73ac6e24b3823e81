// ts/verdicts/ — what a reply means. Takes one engine record and the scan's technique; gives
// nmap's verdict for the port: state, reason and the reply's TTL.
//
// Engine records → nmap port states and reasons. Each technique is a table (TCP flag rules,
// ICMP type/code map, the verdict for silence, which states are final), so ACK, FIN,
// Window and UDP scans are new tables, not new code. Reason names are nmap's, verified
// against `nmap --reason` output. ICMPv6 errors (records of family 6) have their own map,
// nmap's (scan_engine_raw.cc, portreasons.cc): destination-unreachable codes, and parameter
// problems; IPv6 time-exceeded and packet-too-big decide nothing in a port scan.
import { RecordKind, TCP, type EngineRecord } from '../engine/records.js';

export type PortState = 'open' | 'closed' | 'filtered' | 'unfiltered' | 'open|filtered' | 'closed|filtered';

export type Technique = 'syn' | 'ack' | 'window' | 'fin' | 'null' | 'xmas' | 'maimon' | 'flags' | 'udp' | 'connect';

/** A port's state, why, and the TTL of the reply that decided it (0 for no-response). */
export interface Verdict {
  state: PortState;
  reason: string;
  ttl: number;
  /** The replying router, when not the target itself (nmap's reason_ip). */
  reasonIp?: string;
}

interface TcpRule {
  /** Bits that must all be set, and bits that must all be clear. */
  set: number;
  clear: number;
  state: PortState;
  reason: string;
}

interface TechniqueTable {
  /** ICMPv6 entries that apply only when the target itself sent the error (UDP's port-unreach);
   *  the rest of ICMPv6 is ICMP6_FILTERED for every technique with an ICMP table. */
  icmp6FromTarget?: Record<string, { state: PortState; reason: string }>;
  /** nmap's name for it in -v output ("SYN Stealth Scan"). */
  title: string;
  /** First matching rule wins. */
  tcp: TcpRule[];
  /** Keyed "type/code"; ICMP errors not listed are ignored, as nmap ignores them. */
  icmp: Record<string, { state: PortState; reason: string }>;
  /** ICMP entries that apply only when the target itself sent the error (UDP's port-unreach). */
  icmpFromTarget?: Record<string, { state: PortState; reason: string }>;
  /** The verdict for any UDP datagram from the probed port (UDP scan). */
  udp?: { state: PortState; reason: string };
  /** Verdicts by the errno a connect() ended with, 0 = connected (connect scan). */
  connect?: Record<number, { state: PortState; reason: string }>;
  noResponse: { state: PortState; reason: string };
  /** States no later reply may change. */
  final: ReadonlySet<PortState>;
}

// Unreachables that mean "something dropped it on purpose or could not deliver it";
// shared by every TCP technique.
const ICMP_FILTERED: TechniqueTable['icmp'] = {
  '3/0': { state: 'filtered', reason: 'net-unreach' },
  '3/1': { state: 'filtered', reason: 'host-unreach' },
  '3/2': { state: 'filtered', reason: 'proto-unreach' },
  '3/3': { state: 'filtered', reason: 'port-unreach' },
  '3/9': { state: 'filtered', reason: 'net-prohibited' },
  '3/10': { state: 'filtered', reason: 'host-prohibited' },
  '3/13': { state: 'filtered', reason: 'admin-prohibited' },
  '11/0': { state: 'filtered', reason: 'time-exceeded' },
  '11/1': { state: 'filtered', reason: 'time-exceeded' },
};

// ICMPv6 destination unreachable (type 1) and parameter problem (type 4), as nmap reads them:
// every unreachable code filters the port; a parameter problem about a header field says the
// probe was understood (open), about the next header that it was not (filtered).
const ICMP6_FILTERED: Record<string, { state: PortState; reason: string }> = {
  '1/0': { state: 'filtered', reason: 'no-route' },
  '1/1': { state: 'filtered', reason: 'admin-prohibited' },
  '1/2': { state: 'filtered', reason: 'beyond-scope' },
  '1/3': { state: 'filtered', reason: 'host-unreach' },
  '1/4': { state: 'filtered', reason: 'port-unreach' },
  '1/5': { state: 'filtered', reason: 'admin-prohibited' },
  '1/6': { state: 'filtered', reason: 'reject-route' },
  '4/0': { state: 'open', reason: 'param-problem' },
  '4/1': { state: 'filtered', reason: 'param-problem' },
};

const SYN_RULES: TcpRule[] = [
  { set: TCP.SYN | TCP.ACK, clear: 0, state: 'open', reason: 'syn-ack' },
  { set: TCP.RST, clear: 0, state: 'closed', reason: 'reset' },
  // A bare SYN is the "split handshake" (RFC 793 simultaneous open): still a listener.
  { set: TCP.SYN, clear: TCP.ACK, state: 'open', reason: 'split-handshake-syn' },
];

/** FIN, NULL, Xmas and Maimon probes: an RFC 793 stack resets closed ports and stays
 *  silent on open ones, so silence is only "open|filtered". */
function stealth(title: string): TechniqueTable {
  return {
    title,
    tcp: [{ set: TCP.RST, clear: 0, state: 'closed', reason: 'reset' }],
    icmp: ICMP_FILTERED,
    noResponse: { state: 'open|filtered', reason: 'no-response' },
    final: new Set<PortState>(['closed']),
  };
}

/** Linux errno values a connect() can end with, and what nmap makes of each. */
const CONNECT_ERRNO: TechniqueTable['connect'] = {
  0: { state: 'open', reason: 'syn-ack' },
  111: { state: 'closed', reason: 'conn-refused' }, // ECONNREFUSED: a RST, or ICMP port-unreach
  113: { state: 'filtered', reason: 'host-unreach' }, // EHOSTUNREACH: also ICMP 9/10/13 on Linux
  112: { state: 'filtered', reason: 'host-unreach' }, // EHOSTDOWN
  101: { state: 'filtered', reason: 'net-unreach' }, // ENETUNREACH
  100: { state: 'filtered', reason: 'net-unreach' }, // ENETDOWN
  13: { state: 'filtered', reason: 'admin-prohibited' }, // EACCES: a local firewall said no
  1: { state: 'filtered', reason: 'admin-prohibited' }, // EPERM: likewise
};

export const TECHNIQUES: Record<Technique, TechniqueTable> = {
  syn: {
    title: 'SYN Stealth Scan',
    tcp: SYN_RULES,
    icmp: ICMP_FILTERED,
    noResponse: { state: 'filtered', reason: 'no-response' },
    final: new Set<PortState>(['open', 'closed']),
  },
  // An ACK reaches open and closed ports alike: a RST only says no filter dropped it.
  ack: {
    title: 'ACK Scan',
    tcp: [{ set: TCP.RST, clear: 0, state: 'unfiltered', reason: 'reset' }],
    icmp: ICMP_FILTERED,
    noResponse: { state: 'filtered', reason: 'no-response' },
    final: new Set<PortState>(['unfiltered']),
  },
  // The Window scan reads the RST's window, which some stacks set non-zero on open ports.
  // Rule order matters: a zero window is tested through the window field in classify().
  window: {
    title: 'Window Scan',
    tcp: [{ set: TCP.RST, clear: 0, state: 'open', reason: 'reset' }],
    icmp: ICMP_FILTERED,
    noResponse: { state: 'filtered', reason: 'no-response' },
    final: new Set<PortState>(['open', 'closed']),
  },
  fin: stealth('FIN Scan'),
  null: stealth('NULL Scan'),
  xmas: stealth('XMAS Scan'),
  maimon: stealth('Maimon Scan'),
  // --scanflags: nmap reads the replies as a SYN scan does.
  flags: {
    title: 'Custom Scan',
    tcp: SYN_RULES,
    icmp: ICMP_FILTERED,
    noResponse: { state: 'filtered', reason: 'no-response' },
    final: new Set<PortState>(['open', 'closed']),
  },
  connect: {
    title: 'Connect Scan',
    tcp: [],
    connect: CONNECT_ERRNO,
    icmp: {},
    noResponse: { state: 'filtered', reason: 'no-response' },
    final: new Set<PortState>(['open', 'closed']),
  },
  udp: {
    title: 'UDP Scan',
    tcp: [],
    udp: { state: 'open', reason: 'udp-response' },
    // port-unreachable means closed only when the target says so; from a router it is a filter
    icmp: ICMP_FILTERED,
    icmpFromTarget: { '3/3': { state: 'closed', reason: 'port-unreach' } },
    icmp6FromTarget: { '1/4': { state: 'closed', reason: 'port-unreach' } },
    noResponse: { state: 'open|filtered', reason: 'no-response' },
    final: new Set<PortState>(['open', 'closed']),
  },
};

/**
 * Verdicts are never changed once made, so TCP replies share one object per (rule, state,
 * TTL): a sweep's 65,536 SYN/ACKs make one verdict, not 65,536.
 */
const verdicts = new Map<TcpRule, Verdict[]>();

function sharedVerdict(rule: TcpRule, state: PortState, ttl: number): Verdict {
  let byTtl = verdicts.get(rule);
  if (!byTtl) verdicts.set(rule, (byTtl = []));
  // slots 0-255: the rule's own state; 256-511: the window scan's "closed"
  const slot = (state === rule.state ? 0 : 256) + (ttl & 255);
  return (byTtl[slot] ??= Object.freeze({ state, reason: rule.reason, ttl }) as Verdict);
}

/** Classifies one record; undefined when the technique gives it no meaning (ignored). */
export function classify(record: EngineRecord, technique: Technique = 'syn'): Verdict | undefined {
  const table = TECHNIQUES[technique];
  if (record.kind === RecordKind.Tcp) {
    const rule = table.tcp.find((r) => (record.flags & r.set) === r.set && (record.flags & r.clear) === 0);
    if (!rule) return undefined;
    // Window scan: the same RST means closed when its window is zero
    const state = technique === 'window' && record.window === 0 ? 'closed' : rule.state;
    return sharedVerdict(rule, state, record.ttl);
  }
  if (record.kind === RecordKind.Connect) {
    // connect() shows no reply packet, so no TTL: nmap prints the reason alone
    const entry = table.connect?.[record.window];
    return entry && { state: entry.state, reason: entry.reason, ttl: 0 };
  }
  if (record.kind === RecordKind.Udp) {
    return table.udp && { state: table.udp.state, reason: table.udp.reason, ttl: record.ttl };
  }
  if (record.kind === RecordKind.Icmp) {
    const key = `${record.icmpType}/${record.icmpCode}`;
    const v6 = record.family === 6;
    // the connect scan has no ICMP table of either family
    const icmp = v6 ? (Object.keys(table.icmp).length ? ICMP6_FILTERED : {}) : table.icmp;
    const fromTarget = v6 ? table.icmp6FromTarget : table.icmpFromTarget;
    const entry = (record.responder === record.address ? fromTarget?.[key] : undefined) ?? icmp[key];
    if (!entry) return undefined;
    const verdict: Verdict = { state: entry.state, reason: entry.reason, ttl: record.ttl };
    if (record.responder !== record.address) verdict.reasonIp = record.responder;
    return verdict;
  }
  return undefined;
}

/** The verdict for a port that never answered. */
export function noResponse(technique: Technique = 'syn'): Verdict {
  const { state, reason } = TECHNIQUES[technique].noResponse;
  return { state, reason, ttl: 0 };
}

/**
 * Combines an earlier verdict with a later one for the same port. The first final verdict
 * (open/closed for SYN) wins: a late ICMP error, e.g. from a retransmission's path, must
 * not turn a port that answered into a filtered one. Between non-final verdicts the first
 * one stays, so retransmissions do not flip reasons back and forth.
 */
export function mergeVerdict(prev: Verdict | undefined, next: Verdict, technique: Technique = 'syn'): Verdict {
  if (!prev) return next;
  const final = TECHNIQUES[technique].final;
  if (final.has(prev.state)) return prev;
  return final.has(next.state) ? next : prev;
}
