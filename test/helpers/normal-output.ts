// Parses the "normal" (-oN / stdout) report that nmap and ferroscan both print, so that lab
// tests can compare the two tools port by port. Only what a port scan report holds is read:
// report headers, "Host is up", "Not shown" summaries, the PORT table and the done line.
// Everything else (Starting..., MAC Address:, warnings) is ignored.

export interface PortRow {
  port: number;
  proto: string;
  state: string;
  service: string;
  /** Present when the table had a REASON column. */
  reason?: string;
  ttl?: number;
}

/** One "Not shown" group: `993 closed tcp ports (reset)`. */
export interface HiddenGroup {
  count: number;
  state: string;
  proto: string;
  reason?: string;
}

export interface HostReport {
  address: string;
  up: boolean;
  /** Listed ports, keyed by "port/proto". */
  ports: Map<string, PortRow>;
  hidden: HiddenGroup[];
  /** True when the tool said "All N scanned ports on X are in ignored states." */
  allIgnored: boolean;
}

export interface ScanReport {
  /** "Nmap" or "ferroscan": the word before "scan report for". */
  tool?: string;
  hosts: Map<string, HostReport>;
  done?: { addresses: number; hostsUp: number; seconds: number };
}

const reportRe = /^(\S+) scan report for (\S+)(?: \(([^)]*)\))?(?: \[host down\])?\s*$/;
const hiddenGroupRe = /^(\d+) ([\w|]+) (\w+) ports?(?: \(([^)]*)\))?$/;
const rowRe = /^(\d+)\/(\w+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/;
const doneRe = /^(\S+) done: (\d+) IP address(?:es)? \((\d+) hosts? up\) scanned in ([\d.]+) seconds/;

export function parseNormalOutput(text: string): ScanReport {
  const report: ScanReport = { hosts: new Map() };
  let host: HostReport | undefined;
  let hasReason = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    let m = reportRe.exec(line);
    if (m) {
      report.tool ??= m[1];
      // "scan report for NAME (ADDR)" when a name was resolved; -n never resolves.
      const address = m[3] ?? m[2];
      host = {
        address,
        up: !line.endsWith('[host down]'),
        ports: new Map(),
        hidden: [],
        allIgnored: false,
      };
      report.hosts.set(address, host);
      hasReason = false;
      continue;
    }
    if ((m = doneRe.exec(line))) {
      report.done = { addresses: Number(m[2]), hostsUp: Number(m[3]), seconds: Number(m[4]) };
      host = undefined;
      continue;
    }
    if (!host) continue;
    if (line.startsWith('Host is up')) {
      host.up = true;
    } else if (line.startsWith('Not shown: ')) {
      host.hidden.push(...parseHidden(line.slice('Not shown: '.length)));
    } else if (/^All \d+ scanned ports on .* are in ignored states\.$/.test(line)) {
      host.allIgnored = true;
    } else if (line.startsWith('PORT ')) {
      hasReason = /\bREASON\b/.test(line);
    } else if ((m = rowRe.exec(line))) {
      const row: PortRow = {
        port: Number(m[1]),
        proto: m[2],
        state: m[3],
        service: m[4],
      };
      if (hasReason && m[5]) {
        // "syn-ack ttl 64", "no-response", "host-unreach ttl 64 from 198.18.0.9"
        const r = /^(\S+)(?: ttl (\d+))?/.exec(m[5]);
        if (r) {
          row.reason = r[1];
          if (r[2] !== undefined) row.ttl = Number(r[2]);
        }
      }
      host.ports.set(`${row.port}/${row.proto}`, row);
    }
  }
  return report;
}

/** "1013 closed tcp ports (reset), 2 filtered tcp ports (no-response)" */
export function parseHidden(text: string): HiddenGroup[] {
  return text.split(/,\s+(?=\d)/).map((part) => {
    const m = hiddenGroupRe.exec(part.trim());
    if (!m) throw new Error(`unparsed "Not shown" group: ${part}`);
    const g: HiddenGroup = { count: Number(m[1]), state: m[2], proto: m[3] };
    if (m[4] !== undefined) g.reason = m[4];
    return g;
  });
}

/**
 * The state of every scanned port of one host, listed or hidden. A hidden port gets the
 * state of its "Not shown" group when the host has exactly one such group; with several
 * groups the hidden ports are indistinguishable and get "hidden:<states joined by |>".
 */
export function portStates(host: HostReport, ports: Iterable<number>, proto = 'tcp'): Map<number, string> {
  const groups = host.hidden.filter((g) => g.proto === proto);
  const hiddenState =
    groups.length === 1 ? groups[0].state : `hidden:${groups.map((g) => g.state).sort().join('|')}`;
  const out = new Map<number, string>();
  for (const port of ports) {
    out.set(port, host.ports.get(`${port}/${proto}`)?.state ?? hiddenState);
  }
  return out;
}

/** Ports a spec like "1-1024,3306,8080" names (no "-", no service names). */
export function expandPorts(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`bad port spec part: ${part}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}
