// ava helpers for the host-discovery lab (scripts/lab-discovery.sh): one Ethernet segment
// with several target namespaces, a DNS server and two routed ranges. Brings it up under a
// unique ID, runs commands inside its scanner namespace only, and always tears it down.
import type { TestFn } from 'ava';
import { bringUpLab, parseKeyValues, repoRoot, useLabOf, type LabHandle } from './lab.js';

export const discoveryLabScript = `${repoRoot}scripts/lab-discovery.sh`;

export interface DiscoveryLabFacts {
  id: string;
  scanNs: string;
  cidr: string;
  scanAddr: string;
  upAddr: string;
  noicmpAddr: string;
  arponlyAddr: string;
  absentAddr: string;
  upMac: string;
  noicmpMac: string;
  arponlyMac: string;
  synRange: string;
  echoRange: string;
  dnsServer: string;
  /** address → the name the lab's DNS serves for it. */
  names: Map<string, string>;
  raw: Record<string, string>;
}

export type DiscoveryLab = LabHandle<DiscoveryLabFacts>;

export function parseDiscoveryFacts(text: string): DiscoveryLabFacts {
  const { raw, get } = parseKeyValues(text, 'lab-discovery.sh');
  const names = new Map(get('LAB_DNS_NAMES').split(',').map((pair) => pair.split('=') as [string, string]));
  return {
    id: get('LAB_ID'),
    scanNs: get('LAB_SCAN_NS'),
    cidr: get('LAB_CIDR'),
    scanAddr: get('LAB_SCAN_ADDR'),
    upAddr: get('LAB_UP_ADDR'),
    noicmpAddr: get('LAB_NOICMP_ADDR'),
    arponlyAddr: get('LAB_ARPONLY_ADDR'),
    absentAddr: get('LAB_ABSENT_ADDR'),
    upMac: get('LAB_UP_MAC'),
    noicmpMac: get('LAB_NOICMP_MAC'),
    arponlyMac: get('LAB_ARPONLY_MAC'),
    synRange: get('LAB_SYN_RANGE'),
    echoRange: get('LAB_ECHO_RANGE'),
    dnsServer: get('LAB_DNS_SERVER'),
    names,
    raw,
  };
}

/** Brings up a fresh discovery lab (stale ones of dead owners are removed first). */
export function discoveryLabUp(): DiscoveryLab {
  return bringUpLab(discoveryLabScript, 'd', {}, parseDiscoveryFacts);
}

/** One discovery lab for every test of a file. */
export function useDiscoveryLab(test: TestFn): () => DiscoveryLab {
  return useLabOf(test, discoveryLabUp, 'the discovery lab');
}

/** One host of a normal-output report (nmap's or ferroscan's). */
export interface ReportedHost {
  address: string;
  name?: string;
  up: boolean;
  reason?: string;
  mac?: string;
  vendor?: string;
  /** "80/tcp open syn-ack" lines of the port table, when there is one. */
  ports: string[];
}

/** Reads hosts out of nmap-style normal output ("Nmap scan report for ..." or "ferroscan scan report for ..."). */
export function parseReport(text: string): Map<string, ReportedHost> {
  const hosts = new Map<string, ReportedHost>();
  let cur: ReportedHost | undefined;
  for (const line of text.split('\n')) {
    const head = /^(?:Nmap|ferroscan) scan report for (?:(\S+) \((\d+\.\d+\.\d+\.\d+)\)|(\d+\.\d+\.\d+\.\d+))( \[host down(?:, received (\S+))?\])?$/.exec(line);
    if (head) {
      const address = head[2] ?? head[3];
      cur = { address, up: head[4] === undefined, ports: [] };
      if (head[1]) cur.name = head[1];
      if (head[5]) cur.reason = head[5];
      hosts.set(address, cur);
      continue;
    }
    if (!cur) continue;
    const status = /^Host is up(?:, received ([a-z-]+))?/.exec(line);
    if (status) {
      if (status[1]) cur.reason = status[1];
      continue;
    }
    const mac = /^MAC Address: ([0-9A-F:]{17}) \((.*)\)$/.exec(line);
    if (mac) {
      cur.mac = mac[1];
      cur.vendor = mac[2];
      continue;
    }
    const port = /^(\d+\/\w+)\s+(\S+)\s+\S+\s+(\S+)/.exec(line);
    if (port) cur.ports.push(`${port[1]} ${port[2]} ${port[3]}`);
  }
  return hosts;
}
