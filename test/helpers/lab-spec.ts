// What the lab (scripts/lab-spec.json, built by scripts/lab.sh) should answer to a TCP SYN
// scan, derived from the lab's description and nmap's rules (nmap-states.md): the tests'
// expectations come from here, never from a captured scan.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type HostReport, portStates } from './normal-output.js';

export type Rule =
  | { port: number; rule: 'listen'; bind: string; extra?: boolean }
  | { port: number; rule: 'drop'; extra?: boolean }
  | { port: number; rule: 'reject'; with: string; extra?: boolean }
  | { port: number; rule: 'none'; extra?: boolean };

export interface LabSpec {
  scanner: { addr: string; prefix: number; if: string };
  target: { addr: string; prefix: number; if: string };
  sweep: { cidr: string; port: number };
  ports: Rule[];
  loopback: { addr: string; open: number; closed: number };
}

export const specPath = fileURLToPath(new URL('../../scripts/lab-spec.json', import.meta.url));
export const labSpec: LabSpec = JSON.parse(readFileSync(specPath, 'utf8'));

/** Every port the lab description names, ascending. */
export const specPorts: number[] = labSpec.ports.map((p) => p.port).sort((a, b) => a - b);

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
  opts: { reasons: boolean },
): string[] {
  const diffs: string[] = [];
  const groups = host.hidden.filter((g) => g.proto === 'tcp');
  const asked = new Set(ports);
  for (const key of host.ports.keys()) {
    const port = Number(key.split('/')[0]);
    if (!asked.has(port)) diffs.push(`${key}: listed but not scanned`);
  }
  const hiddenCounts = new Map<string, number>();
  for (const port of ports) {
    const want = expected(port);
    const row = host.ports.get(`${port}/tcp`);
    if (row) {
      if (row.state !== want.state) diffs.push(`${port}/tcp: state ${row.state}, want ${want.state}`);
      if (opts.reasons) {
        if (row.reason !== want.reason) diffs.push(`${port}/tcp: reason ${row.reason}, want ${want.reason}`);
        if (row.ttl !== want.ttl) diffs.push(`${port}/tcp: ttl ${row.ttl}, want ${want.ttl}`);
      }
      continue;
    }
    if (groups.length !== 1) {
      diffs.push(`${port}/tcp: not listed and ${groups.length} "Not shown" groups, want ${want.state}`);
      continue;
    }
    const g = groups[0];
    if (g.state !== want.state) diffs.push(`${port}/tcp: hidden as ${g.state}, want ${want.state}`);
    else if (g.reason !== undefined && g.reason !== want.reason)
      diffs.push(`${port}/tcp: hidden with reason ${g.reason}, want ${want.reason}`);
    hiddenCounts.set(g.state, (hiddenCounts.get(g.state) ?? 0) + 1);
  }
  for (const g of groups) {
    const n = hiddenCounts.get(g.state) ?? 0;
    if (n !== g.count) diffs.push(`"Not shown: ${g.count} ${g.state}" but ${n} unlisted ports should be ${g.state}`);
  }
  return diffs;
}

/**
 * Port-by-port differences between two tools' reports of the same host and ports: states for
 * every port (hidden ones resolved through their "Not shown" group), reasons where both list
 * the port.
 */
export function diffReports(a: HostReport, b: HostReport, ports: number[], names = ['a', 'b']): string[] {
  const diffs: string[] = [];
  const sa = portStates(a, ports);
  const sb = portStates(b, ports);
  for (const port of ports) {
    const x = sa.get(port);
    const y = sb.get(port);
    if (x !== y) {
      diffs.push(`${port}/tcp: ${names[0]} ${x}, ${names[1]} ${y}`);
      continue;
    }
    const ra = a.ports.get(`${port}/tcp`);
    const rb = b.ports.get(`${port}/tcp`);
    if (ra && rb && (ra.reason !== rb.reason || ra.ttl !== rb.ttl)) {
      diffs.push(`${port}/tcp: ${names[0]} ${ra.reason} ttl ${ra.ttl}, ${names[1]} ${rb.reason} ttl ${rb.ttl}`);
    }
  }
  return diffs;
}
