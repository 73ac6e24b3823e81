// nmap's "normal" output (-oN and the terminal), line for line as nmap 7.93 prints it,
// with ferroscan's name. Hosts are written one at a time, so a caller can stream them as
// they complete. Layout rules checked against nmap 7.93 on loopback; see the tests.
import type { PortState, Verdict } from '../verdicts/classify.js';
import type { HostReport, PortResult, PortSection, Protocol } from '../hosts/model.js';
import { serviceName } from '../targets/services.js';
import { serviceKey } from '../service/attach.js';
import { fullVersion, hostServiceLines, serviceColumn, SERVICE_DETECTION_NOTE } from '../service/format.js';
import { PRODUCT, URL, VERSION } from '../version.js';
import { escapeLines, escapeText } from './escape.js';
import { zoneAbbreviation } from './timezone.js';
import { doneSentence, type RunProgress } from './writer.js';
import { osNormalLines } from '../os/report.js';
import { hintLine } from '../os/hints.js';

export interface NormalOptions {
  /** --reason: add the REASON column and the host's reason. */
  reason?: boolean;
  /** --open: show only hosts and ports that may be open. */
  open?: boolean;
  /** -v count: raises the "Not shown" threshold and adds progress lines. */
  verbose?: number;
  /** -sn: hosts only, no port table (nmap's ping scan report). */
  pingScan?: boolean;
  /** -sV: the VERSION column, the fingerprint block and the "Service Info" line. */
  versionScan?: boolean;
  /** -O ran: the closing line says so. */
  osScan?: boolean;
  /** --osscan-guess: OS guesses even when the fingerprint is fit for submission. */
  osGuess?: boolean;
}

// nmap's state numbers; ties in the "Not shown" line go to the lower number.
export const STATE_ORDER: Record<PortState, number> = {
  closed: 1,
  open: 2,
  filtered: 3,
  unfiltered: 6,
  'open|filtered': 7,
  'closed|filtered': 8,
};

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** nmap's timestamp: "2026-11-26 01:40 UTC" in local time. */
export function formatTimestamp(date: Date): string {
  const zone = zoneAbbreviation(date);
  const day = `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
  return `${day} ${pad2(date.getHours())}:${pad2(date.getMinutes())}${zone ? ` ${zone}` : ''}`;
}

/** Seconds with two significant digits, keeping trailing zeros: 5e-6 → "0.0000050". */
export function formatLatency(seconds: number): string {
  if (!(seconds > 0)) return '0.00';
  const decimals = Math.max(0, 1 - Math.floor(Math.log10(seconds)));
  return seconds.toFixed(Math.min(decimals, 20));
}

/** "NAME (ADDR)" or "ADDR", as nmap's NameIP(): the name typed as target, else the PTR name. */
export function nameIp(host: { address: string; hostname?: string; ptr?: string }): string {
  const name = host.hostname || host.ptr;
  return name ? `${escapeText(name)} (${host.address})` : host.address;
}

/** nmap's line for an on-link host's hardware address; undefined when none is known. */
export function macLine(host: Pick<HostReport, 'mac' | 'vendor'>): string | undefined {
  return host.mac ? `MAC Address: ${host.mac} (${escapeText(host.vendor ?? 'Unknown')})` : undefined;
}

/** A port's reason as the REASON column shows it: "syn-ack ttl 64", "no-response". */
export function reasonText(v: Pick<Verdict, 'reason' | 'ttl' | 'reasonIp'>): string {
  return `${v.reason}${v.reasonIp ? ` from ${v.reasonIp}` : ''}${v.ttl > 0 ? ` ttl ${v.ttl}` : ''}`;
}

const OPENISH = new Set<PortState>(['open', 'open|filtered', 'unfiltered']);

/** One reason of a state, per protocol (nmap counts "26 closed tcp ports (reset)" apart from udp's). */
export interface ReasonTally {
  reason: string;
  protocol: Protocol;
  count: number;
  /** Lowest port with this reason, for nmap's order within a state. */
  firstPort: number;
  /** Position in nmap's port walk (protocol order, then port): ties in count go to the later one. */
  order: number;
}

export interface StateTally {
  state: PortState;
  /** Ports in this state, every protocol together (nmap folds a state by its total). */
  count: number;
  /** "protocol\treason" → its tally. */
  reasons: Map<string, ReasonTally>;
}

/**
 * A host's ports by protocol: one section per technique of a -sS -sU run, else the host's
 * own ports, whose scanned list is `ports`.
 */
export function portSections(host: HostReport, ports: readonly number[]): readonly PortSection[] {
  return host.sections ?? [{ protocol: host.protocol, ports: host.ports, totalPorts: host.totalPorts, unanswered: host.unanswered, scanned: ports }];
}

/** Ports scanned in all, every protocol together. */
export function totalPorts(host: HostReport): number {
  return host.sections ? host.sections.reduce((n, s) => n + s.totalPorts, 0) : host.totalPorts;
}

/** Counts ports per state and reason, including the unanswered ones, without listing them. */
export function tally(host: HostReport, ports: readonly number[]): Map<PortState, StateTally> {
  const tallies = new Map<PortState, StateTally>();
  const add = (protocol: Protocol, index: number, state: PortState, reason: string, port: number, count: number): void => {
    let t = tallies.get(state);
    if (!t) tallies.set(state, (t = { state, count: 0, reasons: new Map() }));
    t.count += count;
    const key = `${protocol}\t${reason}`;
    const r = t.reasons.get(key);
    if (r) {
      r.count += count;
      r.firstPort = Math.min(r.firstPort, port);
      r.order = index * 65536 + r.firstPort;
    } else t.reasons.set(key, { reason, protocol, count, firstPort: port, order: index * 65536 + port });
  };
  for (const [index, section] of portSections(host, ports).entries()) {
    for (const [port, v] of section.ports) add(section.protocol, index, v.state, v.reason, port, 1);
    const silent = section.totalPorts - section.ports.size;
    if (silent > 0) {
      let first = 0;
      for (const p of section.scanned) if (!section.ports.has(p)) { first = p; break; }
      add(section.protocol, index, section.unanswered.state, section.unanswered.reason, first, silent);
    }
  }
  return tallies;
}

/**
 * Whether nmap folds `count` ports in `state` into "Not shown" (normal) or <extraports> (XML):
 * more than 25 of them (more with -v), or any not-open state under --open.
 */
export function isIgnoredState(state: PortState, count: number, options: Pick<NormalOptions, 'open' | 'verbose'> = {}): boolean {
  if (state === 'open' || state === 'open|filtered' || state === 'closed|filtered') return false;
  if (options.open && state !== 'unfiltered') return true;
  const verbose = options.verbose ?? 0;
  return count > (verbose ? 25 * (verbose + 1) : 25);
}

/** The folded states of a tally, as nmap orders them: descending count, ties by state number. */
export function foldedTallies(tallies: ReadonlyMap<PortState, StateTally>, options: Pick<NormalOptions, 'open' | 'verbose'> = {}): StateTally[] {
  return [...tallies.values()]
    .filter((t) => isIgnoredState(t.state, t.count, options))
    .sort((a, b) => b.count - a.count || STATE_ORDER[a.state] - STATE_ORDER[b.state]);
}

/**
 * A tally's reasons in nmap's order: descending count, ties to the reason that comes later
 * in nmap's port walk (higher first port; UDP after TCP).
 */
export function orderedReasons(t: StateTally): ReasonTally[] {
  return [...t.reasons.values()].sort((a, b) => b.count - a.count || b.order - a.order);
}

/** Whether --open hides this host: no port in a possibly-open state. */
export function hiddenByOpen(tallies: ReadonlyMap<PortState, StateTally>): boolean {
  return ![...tallies.keys()].some((s) => OPENISH.has(s));
}

/** A one-port host's memo key beside its verdict: the port, and how many ports were scanned in all. */
function memoKey(port: number, host: HostReport): number {
  return port + 65536 * host.totalPorts;
}

/** nmap's closing line after OS detection (its database is nmap's, and so are the submissions). */
export const OS_DONE = 'OS detection performed. Please report any incorrect results at https://nmap.org/submit/ .';

/** nmap's closing line after -O and/or -sV (one line for both), or undefined. */
export function detectionNote(osScan: boolean, versionScan: boolean): string | undefined {
  if (osScan && versionScan) return 'OS and Service detection performed. Please report any incorrect results at https://nmap.org/submit/ .';
  if (osScan) return OS_DONE;
  return versionScan ? SERVICE_DETECTION_NOTE : undefined;
}

/** Writes nmap-style normal output through `write` (e.g. process.stdout.write). */
export class NormalWriter {
  private readonly reason: boolean;
  private readonly open: boolean;
  private readonly verbose: number;
  private readonly pingScan: boolean;
  private readonly versionScan: boolean;
  private readonly osScan: boolean;
  private readonly osGuess: boolean;
  /** portLines() of one-port hosts by verdict, port and port count (memoKey); the rest of a host's report is its own. */
  private readonly memo = new WeakMap<Verdict, Map<number, string[] | null>>();

  constructor(
    private readonly write: (text: string) => void,
    /** Scanned ports, ascending: needed to list unanswered ports when they are shown. */
    private readonly ports: readonly number[],
    options: NormalOptions = {},
  ) {
    this.reason = options.reason ?? false;
    this.versionScan = options.versionScan ?? false;
    this.open = options.open ?? false;
    this.verbose = options.verbose ?? 0;
    this.pingScan = options.pingScan ?? false;
    this.osScan = options.osScan ?? false;
    this.osGuess = options.osGuess ?? false;
  }

  start(date: Date): void {
    this.write(`Starting ${PRODUCT} ${VERSION} ( ${URL} ) at ${formatTimestamp(date)}\n`);
  }

  /** -v: "Initiating SYN Stealth Scan at 01:40" and what is being scanned. */
  scanStarted(title: string, date: Date, hosts: number, firstHost: { address: string; hostname?: string }, portCount = this.ports.length): void {
    if (!this.verbose) return;
    this.write(`Initiating ${title} at ${pad2(date.getHours())}:${pad2(date.getMinutes())}\n`);
    const what = hosts === 1 ? `${nameIp(firstHost)} [${portCount} ${portCount === 1 ? 'port' : 'ports'}]` : `${hosts} hosts [${portCount} ${portCount === 1 ? 'port' : 'ports'}/host]`;
    this.write(`Scanning ${what}\n`);
  }

  /** -v: announces an open port as soon as it is found. */
  discovered(result: PortResult): void {
    if (this.verbose && result.state === 'open') this.write(`Discovered open port ${result.port}/${result.protocol} on ${result.address}\n`);
  }

  scanCompleted(title: string, date: Date, elapsedSeconds: number, totalPorts: number): void {
    if (!this.verbose) return;
    this.write(`Completed ${title} at ${pad2(date.getHours())}:${pad2(date.getMinutes())}, ${elapsedSeconds.toFixed(2)}s elapsed (${totalPorts} total ports)\n`);
  }

  /** Writes one host's block; down hosts appear only with -v, as nmap. */
  host(host: HostReport): void {
    if (host.status.state === 'down') {
      const received = this.reason ? `, received ${host.status.reason}` : '';
      if (this.verbose) this.write(`${PRODUCT} scan report for ${nameIp(host)} [host down${received}]\n`);
      return;
    }
    if (this.pingScan) {
      this.write([`${PRODUCT} scan report for ${nameIp(host)}`, ...this.upLines(host), macLine(host)].filter((l) => l !== undefined).join('\n') + '\n');
      return;
    }
    const body = this.portLines(host);
    if (body === null) return;
    const lines: string[] = [`${PRODUCT} scan report for ${nameIp(host)}`, ...this.upLines(host), ...body];
    // -sV: nmap's fingerprint block follows the table, the Service Info line the MAC line
    const services = this.versionScan ? hostServiceLines(host, this.ports) : undefined;
    // Service answers come from the network: the engine keeps nmap's printable fields, and
    // whatever a caller hands in is escaped all the same.
    if (services?.block) lines.push(escapeLines(services.block.replace(/\n$/, '')));
    const mac = macLine(host);
    if (mac) lines.push(mac);
    if (host.os) lines.push(...osNormalLines(host.os, { verbose: this.verbose, guess: this.osGuess }));
    if (host.osHint) lines.push(hintLine(host.osHint));
    if (services?.info) lines.push(escapeText(services.info));
    this.write(lines.join('\n') + '\n\n');
  }

  /**
   * The lines of a host's ports ("Not shown", the table), or null when --open hides the host.
   * A sweep's hosts mostly share one answered port with one (shared) verdict: their lines are
   * made once per (port, verdict) and reused, unless they name the host.
   */
  private portLines(host: HostReport): string[] | null {
    const memoizable = !host.sections && host.ports.size === 1;
    let port = -1;
    if (memoizable) {
      const [[only, verdict]] = host.ports;
      port = only;
      const hit = this.memo.get(verdict)?.get(memoKey(port, host));
      if (hit !== undefined) return hit;
    }
    const tallies = tally(host, this.ports);
    if (this.open && hiddenByOpen(tallies)) {
      if (memoizable) this.remember(host, port, null);
      return null;
    }
    const lines: string[] = [];
    // States by descending count (ties: nmap's state number); within a state, reasons by
    // descending count, ties to the reason whose first port is higher, as nmap lists them.
    const folded = foldedTallies(tallies, { open: this.open, verbose: this.verbose });
    const notShown = folded
      .flatMap((t) => orderedReasons(t).map((r) => `${r.count} ${t.state} ${r.protocol} ${t.count === 1 ? 'port' : 'ports'} (${r.reason})`))
      .join(', ');
    const foldedCount = folded.reduce((n, t) => n + t.count, 0);
    const total = totalPorts(host);

    if (foldedCount === total) {
      const n = total;
      lines.push(n === 1 ? `The 1 scanned port on ${nameIp(host)} is in ignored states.` : `All ${n} scanned ports on ${nameIp(host)} are in ignored states.`);
      lines.push(`Not shown: ${notShown}`);
      // names the host: not reusable
      return lines;
    }
    // nmap ends the (possibly empty) "Not shown" line unconditionally: an empty line when nothing is folded.
    lines.push(notShown ? `Not shown: ${notShown}` : '');
    if (this.open && tallies.has('filtered')) lines.push('Some closed ports may be reported as filtered due to --defeat-rst-ratelimit');
    lines.push(...this.table(host, new Set(folded.map((t) => t.state))));
    if (memoizable) this.remember(host, port, lines);
    return lines;
  }

  private remember(host: HostReport, port: number, lines: string[] | null): void {
    const verdict = host.ports.get(port) as Verdict;
    let byPort = this.memo.get(verdict);
    if (!byPort) this.memo.set(verdict, (byPort = new Map()));
    byPort.set(memoKey(port, host), lines);
  }

  /** An up host whose scan --host-timeout cut short: nmap prints no ports for it, only this. */
  hostTimedOut(host: HostReport): void {
    this.write([`${PRODUCT} scan report for ${nameIp(host)}`, ...this.upLines(host), `Skipping host ${nameIp(host)} due to host timeout`].join('\n') + '\n');
  }

  /** "Host is up, received REASON (LATENCY)." and, when the typed name is not the PTR name, nmap's rDNS line. */
  private upLines(host: HostReport): string[] {
    const received = this.reason ? `, received ${host.status.reason}${host.status.ttl > 0 ? ` ttl ${host.status.ttl}` : ''}` : '';
    const latency = host.latency !== undefined ? ` (${formatLatency(host.latency)}s latency)` : '';
    const lines = [`Host is up${received}${latency}.`];
    if (host.hostname && host.ptr && host.ptr !== host.hostname) lines.push(`rDNS record for ${host.address}: ${escapeText(host.ptr)}`);
    return lines;
  }

  private table(host: HostReport, folded: ReadonlySet<PortState>): string[] {
    const rows: string[][] = [this.reason ? ['PORT', 'STATE', 'SERVICE', 'REASON'] : ['PORT', 'STATE', 'SERVICE']];
    if (this.versionScan) rows[0].push('VERSION');
    // TCP rows, then UDP rows, as nmap walks them.
    for (const section of portSections(host, this.ports)) {
      // A host may carry no silent ports at all (an interrupted scan reports only what answered).
      const silentShown = section.totalPorts > section.ports.size && !folded.has(section.unanswered.state);
      // Walking the port list costs O(ports) only when silent ports are shown, i.e. few of them.
      const shown = silentShown ? section.scanned : [...section.ports.keys()].sort((a, b) => a - b);
      for (const port of shown) {
        const v = section.ports.get(port) ?? section.unanswered;
        if (folded.has(v.state)) continue;
        const sd = host.services?.get(serviceKey(port, section.protocol));
        const name = this.versionScan ? escapeText(serviceColumn(sd, serviceName(port, section.protocol), v.state, true)) : serviceName(port, section.protocol);
        const row = [`${port}/${section.protocol}`, v.state, name];
        if (this.reason) row.push(reasonText(v));
        if (this.versionScan) row.push(sd ? escapeText(fullVersion(sd)) : '');
        rows.push(row);
      }
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    // Columns are one space apart; the last one is not padded (no trailing blanks).
    const lines = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join(' '));
    // an empty VERSION cell leaves no blanks behind the SERVICE column either
    return this.versionScan ? lines.map((l) => l.trimEnd()) : lines;
  }

  /** The closing lines: the single-host hint when nothing answered, and the summary. */
  end(stats: { addresses: number; up: number; elapsedSeconds: number; dataSource?: string; progress?: RunProgress }): void {
    if (this.verbose && stats.dataSource) this.write(`Read data files from: ${stats.dataSource}\n`);
    if (stats.addresses === 1 && stats.up === 0 && !stats.progress) this.write('Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn\n');
    else if (stats.up > 0 && !stats.progress) {
      const note = detectionNote(this.osScan, this.versionScan);
      if (note) this.write(`${note}\n`);
    }
    this.write(`${PRODUCT} done: ${doneSentence({ ...stats, finishedAt: new Date() })}\n`);
  }
}
