// What the lab (scripts/lab-spec.json, built by scripts/lab.sh) should answer to every scan
// technique, derived from the lab's description, nmap's rules (nmap-states.md) and how the
// target's Linux stack answers each probe: the tests' expectations come from here, never from
// a captured scan.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type HostReport, portStates } from './normal-output.js';

export type Rule =
  | { port: number; rule: 'listen'; bind: string; extra?: boolean }
  | { port: number; rule: 'drop'; extra?: boolean }
  | { port: number; rule: 'reject'; with: string; extra?: boolean }
  | { port: number; rule: 'none'; extra?: boolean }
  /** A closed port whose bare ACKs (SYN,ACK,FIN,RST = ACK) are dropped. */
  | { port: number; rule: 'ackdrop'; extra?: boolean };

export type UdpRule =
  | { port: number; rule: 'answer' | 'silent' | 'drop' | 'none'; extra?: boolean }
  | { port: number; rule: 'reject'; with: string; extra?: boolean };

export interface LabSpec {
  scanner: { addr: string; prefix: number; if: string };
  target: { addr: string; prefix: number; if: string };
  sweep: { cidr: string; port: number };
  ports: Rule[];
  udp: UdpRule[];
  /** Closed UDP ports scanned on a lab built with LAB_ICMP=default (kernel ICMP rate limit). */
  ratelimit: { udpClosed: string };
  loopback: { addr: string; open: number; closed: number };
}

export const specPath = fileURLToPath(new URL('../../scripts/lab-spec.json', import.meta.url));
export const labSpec: LabSpec = JSON.parse(readFileSync(specPath, 'utf8'));

/** Every TCP port the lab description names, ascending. */
export const specPorts: number[] = labSpec.ports.map((p) => p.port).sort((a, b) => a - b);
/** Every UDP port the lab description names, ascending. */
export const specUdpPorts: number[] = labSpec.udp.map((p) => p.port).sort((a, b) => a - b);

export interface Verdict {
  state: string;
  reason: string;
  /** TTL of the deciding packet; undefined when nothing answered. */
  ttl?: number;
}

/** The target's kernel answers with Linux's default TTL, and no router lies between. */
export const LAB_TTL = 64;

/** iptables --reject-with type → nmap's reason for a SYN probe answered that way. */
const rejectReason: Record<string, Verdict> = {
  'icmp-port-unreachable': { state: 'filtered', reason: 'port-unreach', ttl: LAB_TTL },
  'icmp-host-unreachable': { state: 'filtered', reason: 'host-unreach', ttl: LAB_TTL },
  'icmp-net-unreachable': { state: 'filtered', reason: 'net-unreach', ttl: LAB_TTL },
  'icmp-host-prohibited': { state: 'filtered', reason: 'host-prohibited', ttl: LAB_TTL },
  'icmp-net-prohibited': { state: 'filtered', reason: 'net-prohibited', ttl: LAB_TTL },
  'icmp-admin-prohibited': { state: 'filtered', reason: 'admin-prohibited', ttl: LAB_TTL },
  'tcp-reset': { state: 'closed', reason: 'reset', ttl: LAB_TTL },
};

/** The techniques of issue 3, by the engine's name ('flags' is --scanflags). */
export type Technique = 'syn' | 'ack' | 'window' | 'fin' | 'null' | 'xmas' | 'maimon' | 'flags' | 'udp' | 'connect';

const OPEN: Verdict = { state: 'open', reason: 'syn-ack', ttl: LAB_TTL };
const CLOSED: Verdict = { state: 'closed', reason: 'reset', ttl: LAB_TTL };
const DROPPED: Verdict = { state: 'filtered', reason: 'no-response' };

/** The SYN-scan verdict for `port` on `addr` (the lab target, or any address of the sweep range). */
export function expectedSyn(addr: string, port: number): Verdict {
  const isTarget = addr === labSpec.target.addr;
  const rule = labSpec.ports.find((p) => p.port === port);
  if (!rule) return CLOSED;
  switch (rule.rule) {
    case 'listen':
      return rule.bind === '0.0.0.0' || rule.bind === addr ? OPEN : CLOSED;
    case 'drop':
      // The iptables rules match the target address only; the sweep range is untouched.
      return isTarget ? DROPPED : CLOSED;
    case 'reject': {
      const v = rejectReason[rule.with];
      if (!v) throw new Error(`lab-spec.json: no expectation for --reject-with ${rule.with}`);
      return isTarget ? v : CLOSED;
    }
    case 'none':
    case 'ackdrop':
      return CLOSED;
  }
}

/**
 * Differences between a parsed host report and the expected verdicts for `ports`; empty when
 * they agree. A port hidden in a "Not shown" group is judged by its group's state and reason
 * (which must be unambiguous: one group for the protocol). Extra listed ports are differences.
 */
export function diffAgainstExpected(
  host: HostReport,
  ports: number[],
  expected: (port: number) => Verdict,
  opts: { reasons: boolean; proto?: string },
): string[] {
  const diffs: string[] = [];
  const proto = opts.proto ?? 'tcp';
  const groups = host.hidden.filter((g) => g.proto === proto);
  const asked = new Set(ports);
  for (const key of host.ports.keys()) {
    const [portText, keyProto] = key.split('/');
    // A -sS -sU report lists both protocols: each is judged on its own.
    if (keyProto !== proto) continue;
    if (!asked.has(Number(portText))) diffs.push(`${key}: listed but not scanned`);
  }
  const hiddenCounts = new Map<string, number>();
  for (const port of ports) {
    const want = expected(port);
    const row = host.ports.get(`${port}/${proto}`);
    if (row) {
      if (row.state !== want.state) diffs.push(`${port}/${proto}: state ${row.state}, want ${want.state}`);
      if (opts.reasons) {
        if (row.reason !== want.reason) diffs.push(`${port}/${proto}: reason ${row.reason}, want ${want.reason}`);
        if (row.ttl !== want.ttl) diffs.push(`${port}/${proto}: ttl ${row.ttl}, want ${want.ttl}`);
      }
      continue;
    }
    if (groups.length !== 1) {
      diffs.push(`${port}/${proto}: not listed and ${groups.length} "Not shown" groups, want ${want.state}`);
      continue;
    }
    const g = groups[0];
    if (g.state !== want.state) diffs.push(`${port}/${proto}: hidden as ${g.state}, want ${want.state}`);
    else if (g.reason !== undefined && g.reason !== want.reason)
      diffs.push(`${port}/${proto}: hidden with reason ${g.reason}, want ${want.reason}`);
    hiddenCounts.set(g.state, (hiddenCounts.get(g.state) ?? 0) + 1);
  }
  for (const g of groups) {
    const n = hiddenCounts.get(g.state) ?? 0;
    if (n !== g.count) diffs.push(`"Not shown: ${g.count} ${g.state}" but ${n} unlisted ports should be ${g.state}`);
  }
  return diffs;
}

/**
 * Port-by-port differences between two tools' reports of the same host and ports: state and
 * reason for every port (hidden ones resolved through their "Not shown" group), reason TTL
 * where both list the port.
 */
export function diffReports(a: HostReport, b: HostReport, ports: number[], names = ['a', 'b'], proto = 'tcp'): string[] {
  return compareReports(a, b, ports, names, proto).diffs;
}

/** A port-by-port comparison of two reports: how many ports were compared, how many agree. */
export interface Comparison {
  compared: number;
  agree: number;
  diffs: string[];
}

/**
 * diffReports with counts: a port agrees when its state and reason are equal (a hidden port's
 * reason is its group's), and its reason TTL too where both list it.
 */
export function compareReports(a: HostReport, b: HostReport, ports: number[], names = ['a', 'b'], proto = 'tcp'): Comparison {
  const diffs: string[] = [];
  const sa = portStates(a, ports, proto);
  const sb = portStates(b, ports, proto);
  let agree = 0;
  for (const port of ports) {
    const x = sa.get(port);
    const y = sb.get(port);
    if (x !== y) {
      diffs.push(`${port}/${proto}: ${names[0]} ${x}, ${names[1]} ${y}`);
      continue;
    }
    const ra = a.ports.get(`${port}/${proto}`);
    const rb = b.ports.get(`${port}/${proto}`);
    // A hidden port's reason is its "Not shown" group's (one group per protocol, as above).
    const reasonA = ra ? ra.reason : hiddenReason(a, proto);
    const reasonB = rb ? rb.reason : hiddenReason(b, proto);
    if (reasonA !== reasonB || (ra && rb && ra.ttl !== rb.ttl)) {
      diffs.push(`${port}/${proto}: ${names[0]} ${reasonA} ttl ${ra?.ttl}, ${names[1]} ${reasonB} ttl ${rb?.ttl}`);
      continue;
    }
    agree++;
  }
  return { compared: ports.length, agree, diffs };
}

function hiddenReason(host: HostReport, proto: string): string | undefined {
  const groups = host.hidden.filter((g) => g.proto === proto);
  return groups.length === 1 ? groups[0].reason : undefined;
}

/** iptables --reject-with type → what connect() returns on Linux, as nmap names it (no TTL: the kernel keeps the packet). */
const connectReject: Record<string, Verdict> = {
  // ICMP port-unreachable is a hard error for a connecting socket: ECONNREFUSED.
  'icmp-port-unreachable': { state: 'closed', reason: 'conn-refused' },
  'icmp-host-unreachable': { state: 'filtered', reason: 'host-unreach' },
  'icmp-net-unreachable': { state: 'filtered', reason: 'net-unreach' },
  // Linux turns codes 9, 10 and 13 into ENETUNREACH, EHOSTUNREACH and EHOSTUNREACH.
  'icmp-host-prohibited': { state: 'filtered', reason: 'host-unreach' },
  'icmp-net-prohibited': { state: 'filtered', reason: 'net-unreach' },
  'icmp-admin-prohibited': { state: 'filtered', reason: 'host-unreach' },
  'tcp-reset': { state: 'closed', reason: 'conn-refused' },
};

/** iptables --reject-with type → nmap's UDP-scan verdict (port-unreach from the target means closed). */
const udpReject: Record<string, Verdict> = {
  'icmp-port-unreachable': { state: 'closed', reason: 'port-unreach', ttl: LAB_TTL },
  'icmp-host-unreachable': { state: 'filtered', reason: 'host-unreach', ttl: LAB_TTL },
  'icmp-net-unreachable': { state: 'filtered', reason: 'net-unreach', ttl: LAB_TTL },
  'icmp-host-prohibited': { state: 'filtered', reason: 'host-prohibited', ttl: LAB_TTL },
  'icmp-net-prohibited': { state: 'filtered', reason: 'net-prohibited', ttl: LAB_TTL },
  'icmp-admin-prohibited': { state: 'filtered', reason: 'admin-prohibited', ttl: LAB_TTL },
};

/**
 * What `technique` finds on TCP `port` of the lab target. How the target's Linux stack answers
 * each probe: a listener answers SYN with SYN/ACK and stays silent to FIN, NULL and Xmas, but
 * resets anything carrying ACK (so Maimon's FIN/ACK, as ACK and Window probes, get a RST
 * everywhere); a closed port resets everything; every RST has window 0 (Window scan: closed).
 * REJECT rules answer any probe; DROP and the ACK-drop rule are silent.
 */
export function expectedTcp(technique: Exclude<Technique, 'udp'>, port: number, tcpFlags = 0x03): Verdict {
  const addr = labSpec.target.addr;
  const rule = labSpec.ports.find((p) => p.port === port);
  const listening = rule?.rule === 'listen' && (rule.bind === '0.0.0.0' || rule.bind === addr);
  const silent: Verdict = { state: 'filtered', reason: 'no-response' };
  const reset = (state: string): Verdict => ({ state, reason: 'reset', ttl: LAB_TTL });
  if (rule?.rule === 'drop') {
    return ['fin', 'null', 'xmas', 'maimon'].includes(technique) ? { state: 'open|filtered', reason: 'no-response' } : silent;
  }
  if (rule?.rule === 'reject') {
    if (technique === 'connect') return connectReject[rule.with];
    if (rule.with === 'tcp-reset') {
      return technique === 'ack' ? reset('unfiltered') : technique === 'syn' || technique === 'flags' ? CLOSED : reset('closed');
    }
    const v = rejectReason[rule.with];
    if (!v) throw new Error(`lab-spec.json: no expectation for --reject-with ${rule.with}`);
    return v;
  }
  const ackDropped = rule?.rule === 'ackdrop';
  switch (technique) {
    case 'syn':
      return expectedSyn(addr, port);
    case 'flags': {
      // nmap reads --scanflags replies as a SYN scan does. Linux never answers a RST; a closed
      // port resets everything else; a listener resets anything with ACK, answers SYN without
      // FIN with SYN/ACK, and silently drops the rest (SYN+FIN included).
      const [FIN, SYN, RST, ACK] = [0x01, 0x02, 0x04, 0x10];
      if (tcpFlags & RST) return silent;
      if (!listening || tcpFlags & ACK) return ackDropped && (tcpFlags & (SYN | FIN | RST | ACK)) === ACK ? silent : CLOSED;
      return tcpFlags & SYN && !(tcpFlags & FIN) ? OPEN : silent;
    }
    case 'connect':
      return listening ? { state: 'open', reason: 'syn-ack' } : { state: 'closed', reason: 'conn-refused' };
    case 'ack':
      return ackDropped ? silent : reset('unfiltered');
    case 'window':
      return ackDropped ? silent : reset('closed');
    case 'maimon':
      return reset('closed');
    case 'fin':
    case 'null':
    case 'xmas':
      return listening ? { state: 'open|filtered', reason: 'no-response' } : reset('closed');
  }
}

/** What a UDP scan finds on `port` of the lab target (kernel ICMP rate limit lifted). */
export function expectedUdp(port: number): Verdict {
  const rule = labSpec.udp.find((p) => p.port === port);
  const closed: Verdict = { state: 'closed', reason: 'port-unreach', ttl: LAB_TTL };
  if (!rule) return closed;
  switch (rule.rule) {
    case 'answer':
      return { state: 'open', reason: 'udp-response', ttl: LAB_TTL };
    case 'silent':
    case 'drop':
      return { state: 'open|filtered', reason: 'no-response' };
    case 'reject': {
      const v = udpReject[rule.with];
      if (!v) throw new Error(`lab-spec.json: no UDP expectation for --reject-with ${rule.with}`);
      return v;
    }
    case 'none':
      return closed;
  }
}
