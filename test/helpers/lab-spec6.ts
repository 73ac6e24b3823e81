// What the IPv6 lab (scripts/lab6.sh, lab-spec.json's ipv6 section) should answer: the IPv4
// lab's expectations (lab-spec.ts) for every rule that does not depend on the family, and for
// REJECT rules the verdict of the ICMPv6 type lab6.sh rejects with, as nmap names it
// (nmap's IPv6 engine, scan_engine_raw.cc) and as Linux's connect() reports it.
import { expectedTcp, labSpec, LAB_TTL, type Technique, type Verdict } from './lab-spec.js';

export interface LabSpec6 {
  scanner: { addr: string; prefix: number };
  target: { addr: string; prefix: number; alias: string };
  absent: string;
  sweep: { cidr: string; local: string; port: number };
  reject: Record<string, string>;
  loopback: { addr: string; open: number; closed: number };
}

export const labSpec6: LabSpec6 = (labSpec as unknown as { ipv6: LabSpec6 }).ipv6;

/** ip6tables --reject-with type → nmap's reason for a raw TCP probe answered that way. */
const rejectReason6: Record<string, Verdict> = {
  'icmp6-port-unreachable': { state: 'filtered', reason: 'port-unreach', ttl: LAB_TTL },
  'icmp6-addr-unreachable': { state: 'filtered', reason: 'host-unreach', ttl: LAB_TTL },
  'icmp6-no-route': { state: 'filtered', reason: 'no-route', ttl: LAB_TTL },
  'icmp6-adm-prohibited': { state: 'filtered', reason: 'admin-prohibited', ttl: LAB_TTL },
};

/** The same for connect(): Linux's errno for each ICMPv6 error (icmpv6_err_convert), as nmap names it. */
const connectReject6: Record<string, Verdict> = {
  'icmp6-port-unreachable': { state: 'closed', reason: 'conn-refused' }, // ECONNREFUSED
  'icmp6-addr-unreachable': { state: 'filtered', reason: 'host-unreach' }, // EHOSTUNREACH
  'icmp6-no-route': { state: 'filtered', reason: 'net-unreach' }, // ENETUNREACH
  'icmp6-adm-prohibited': { state: 'filtered', reason: 'admin-prohibited' }, // EACCES
};

/** The UDP scan's: port unreachable from the target is closed, every other code filtered. */
const udpReject6: Record<string, Verdict> = {
  'icmp6-port-unreachable': { state: 'closed', reason: 'port-unreach', ttl: LAB_TTL },
  'icmp6-addr-unreachable': { state: 'filtered', reason: 'host-unreach', ttl: LAB_TTL },
  'icmp6-no-route': { state: 'filtered', reason: 'no-route', ttl: LAB_TTL },
  'icmp6-adm-prohibited': { state: 'filtered', reason: 'admin-prohibited', ttl: LAB_TTL },
};

function v6Reject(v4: string): string {
  const t = labSpec6.reject[v4];
  if (!t) throw new Error(`lab-spec.json: no IPv6 reject type for ${v4}`);
  return t;
}

/** What `technique` finds on TCP `port` of the IPv6 lab target. */
export function expectedTcp6(technique: Exclude<Technique, 'udp'>, port: number, tcpFlags?: number): Verdict {
  const rule = labSpec.ports.find((p) => p.port === port);
  if (rule?.rule === 'reject' && rule.with !== 'tcp-reset') {
    const t = v6Reject(rule.with);
    const v = technique === 'connect' ? connectReject6[t] : rejectReason6[t];
    if (!v) throw new Error(`no IPv6 expectation for --reject-with ${t}`);
    return v;
  }
  // everything else answers over IPv6 as over IPv4
  return expectedTcp(technique, port, tcpFlags);
}

/** What a UDP scan finds on `port` of the IPv6 lab target (ICMPv6 rate limit lifted). */
export function expectedUdp6(port: number): Verdict {
  const rule = labSpec.udp.find((p) => p.port === port);
  const closed: Verdict = { state: 'closed', reason: 'port-unreach', ttl: LAB_TTL };
  if (!rule || rule.rule === 'none') return closed;
  if (rule.rule === 'answer') return { state: 'open', reason: 'udp-response', ttl: LAB_TTL };
  if (rule.rule === 'silent' || rule.rule === 'drop') return { state: 'open|filtered', reason: 'no-response' };
  const v = udpReject6[v6Reject(rule.with)];
  if (!v) throw new Error(`no IPv6 UDP expectation for ${rule.with}`);
  return v;
}
