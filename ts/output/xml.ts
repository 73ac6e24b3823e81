// nmap's XML output (-oX), element for element as nmap 7.93 writes it and valid against
// nmap.dtd, so ndiff, nmap.xsl, Metasploit's db_import and other nmap XML readers take it.
// The prologue is written when the scan starts and each host block as soon as the host is
// complete (every port settled, ts/output/stream.ts), as nmap writes a host group's hosts
// when the group is done; so the file holds a valid document up to its last </host> at every
// moment, and an interrupted scan gets runstats (exit="error", errormsg) and closing tags,
// which nmap's own fatal() path writes the same way. Host blocks of a sweep's one-port hosts
// are made from a memo (host-memo.ts): 500,000 and more per second (benches/writers.mjs).
import { existsSync } from 'node:fs';
import { TECHNIQUES } from '../verdicts/classify.js';
import type { HostReport } from '../hosts/model.js';
import { serviceName } from '../targets/services.js';
import { serviceKey } from '../service/attach.js';
import { xmlServiceAttributes } from '../service/format.js';
import { PRODUCT, VERSION } from '../version.js';
import { commandLine, ctime, portRanges, scanInfoType, unixTime, xmlArgs, xmlAttr } from './format.js';
import { PortsMemo, UnixClock } from './host-memo.js';
import { viewHost } from './host-view.js';
import { osXml } from '../os/report.js';
import { hintXml } from '../os/hints.js';
import type { Sink } from './sink.js';
import { doneSentence, downCount, hostWritten, scanPhases, type ListedTarget, type OutputWriter, type PhaseEvent, type RunEnd, type RunInfo, type WriterState } from './writer.js';

export { doneSentence } from './writer.js';

/** nmap's addrtype of an address in text form. */
const addrType = (address: string): 'ipv4' | 'ipv6' => (address.includes(':') ? 'ipv6' : 'ipv4');

/** nmap's XML format version that this writer follows. */
export const XML_OUTPUT_VERSION = '1.05';
const LOCAL_XSL = '/usr/share/nmap/nmap.xsl';
const REMOTE_XSL = 'https://svn.nmap.org/nmap/docs/nmap.xsl';

/** The stylesheet nmap would reference: the installed nmap.xsl, else nmap's published one. */
export function defaultStylesheet(): string {
  return existsSync(LOCAL_XSL) ? `file://${LOCAL_XSL}` : REMOTE_XSL;
}

const attrs = (pairs: [string, string | number | undefined][]): string =>
  pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(v as string | number)}"`)
    .join('');

/** A dotted quad needs no escaping; anything else goes through xmlAttr. */
const DOTTED = /^[0-9.]+$/;

export class XmlWriter implements OutputWriter {
  private info: RunInfo | undefined;
  private endedAt: Date | undefined;
  /** <ports>...</ports> of one-port hosts, or null when --open hides them. */
  private readonly portsMemo = new PortsMemo<string | null>();
  /** <status .../> by state and reason, then TTL. */
  private readonly statusMemo = new Map<string, Map<string, string[]>>();
  private readonly clock = new UnixClock();
  private startText = '';

  constructor(
    private readonly sink: Sink,
    private readonly stylesheet: string | null = defaultStylesheet(),
  ) {}

  begin(info: RunInfo, continued?: WriterState): void {
    this.info = info;
    this.startText = String(unixTime(info.startedAt));
    // A resumed run goes on in the interrupted run's document, after its last host.
    if (continued) return;
    const args = xmlArgs(commandLine(info.args));
    const started = ctime(info.startedAt);
    let s = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n';
    if (this.stylesheet) s += `<?xml-stylesheet href="${xmlAttr(this.stylesheet)}" type="text/xsl"?>\n`;
    s += `<!-- ${PRODUCT} ${VERSION} scan initiated ${started} as: ${args} -->\n`;
    // nmap.dtd fixes scanner to "nmap"; the comment above and version say who wrote it.
    s += `<nmaprun scanner="nmap" args="${args}"${attrs([['start', unixTime(info.startedAt)], ['startstr', started], ['version', VERSION], ['xmloutputversion', XML_OUTPUT_VERSION]])}>\n`;
    // A ping scan (-sn) and a list scan (-sL) scan no ports: nmap writes no scaninfo then.
    // One scaninfo per technique (-sS -sU: syn/tcp, then udp/udp).
    if (!info.pingScan && !info.listScan) {
      for (const phase of scanPhases(info)) {
        const { type, protocol } = scanInfoType(phase.technique);
        s += `<scaninfo${attrs([['type', type], ['protocol', protocol], ['numservices', phase.ports.length], ['services', portRanges(phase.ports)]])}/>\n`;
      }
    }
    s += `<verbose level="${info.verbose}"/>\n<debugging level="0"/>\n`;
    for (const t of info.skipped ?? []) s += `<target${attrs([['specification', t.specification], ['status', 'skipped'], ['reason', t.reason]])}/>\n`;
    // Several techniques mark their own tasks (phase()).
    if (info.verbose && !info.pingScan && !info.listScan && !info.scans) s += `<taskbegin${attrs([['task', this.title], ['time', unixTime(info.startedAt)]])}/>\n`;
    this.sink.write(s);
  }

  private get title(): string {
    return TECHNIQUES[this.info!.technique]?.title ?? this.info!.technique;
  }

  /** -v: the scan phase is over (written before the hosts, as nmap does). */
  scanEnded(at: Date): void {
    this.endedAt = at;
    const info = this.info!;
    if (info.verbose && !info.pingScan && !info.scans) this.sink.write(`<taskend${attrs([['task', this.title], ['time', unixTime(at)], ['extrainfo', `${info.addresses * info.ports.length} total ports`]])}/>\n`);
  }

  /** -v with several techniques: each one's taskbegin and taskend, as nmap writes them. */
  phase(event: PhaseEvent): void {
    const info = this.info!;
    if (!info.verbose || info.pingScan) return;
    const task = TECHNIQUES[event.technique]?.title ?? event.technique;
    if (event.kind === 'begin') this.sink.write(`<taskbegin${attrs([['task', task], ['time', unixTime(event.at)]])}/>\n`);
    else this.sink.write(`<taskend${attrs([['task', task], ['time', unixTime(event.at)], ['extrainfo', `${event.totalPorts ?? 0} total ports`]])}/>\n`);
  }

  host(host: HostReport): void {
    const info = this.info!;
    if (host.status.state === 'down') {
      if (!hostWritten(host, info, () => false)) return;
      this.sink.write(`<host>${this.status(host)}\n${this.addresses(host)}</host>\n`);
      return;
    }
    if (info.pingScan) {
      this.sink.write(`<host>${this.status(host)}\n${this.addresses(host)}${this.hostnames(host)}<times${attrs(timesOf(host))}/>\n</host>\n`);
      return;
    }
    const ports = this.portsMemo.get(host, (h) => this.ports(h));
    if (ports === null) return;
    // Hosts are scanned together: each one starts with the scan and ends when it is complete.
    const end = this.clock.seconds(this.endedAt ?? Date.now());
    this.sink.write(`<host starttime="${this.startText}" endtime="${end}">${this.status(host)}\n${this.addresses(host)}${this.hostnames(host)}${ports}\n${this.osText(host)}${times(host)}\n</host>\n`);
  }

  /** -O's <os> and the rest of its report, and --os-hints' passive <os>: after <ports>, each line ending with a newline. */
  private osText(host: HostReport): string {
    const info = this.info!;
    let s = '';
    if (host.os) s += `${osXml(host.os, { verbose: info.verbose, guess: info.osGuess ?? false }).replace(/\n$/, '')}\n`;
    const hint = host.osHint && hintXml(host.osHint);
    if (hint) s += `${hint.replace(/\n$/, '')}\n`;
    return s;
  }

  /** -sL: a target as nmap's list scan writes it, status "unknown". */
  listed(target: ListedTarget): void {
    const names = target.hostname === undefined ? '' : `<hostnames>\n<hostname name="${xmlAttr(target.hostname)}" type="user"/>\n</hostnames>\n`;
    this.sink.write(`<host><status state="unknown" reason="user-set" reason_ttl="0"/>\n<address addr="${xmlAttr(target.address)}" addrtype="${addrType(target.address)}"/>\n${names}</host>\n`);
  }

  /** The <ports> element of an up host, or null when --open hides the host. */
  private ports(host: HostReport): string | null {
    const info = this.info!;
    const view = viewHost(host, info.ports, info);
    if (!hostWritten(host, info, () => view.hiddenByOpen)) return null;
    // nmap opens <ports> and writes its first child on the same line.
    let ports = '<ports>';
    for (const x of view.extraports) {
      ports += `<extraports state="${xmlAttr(x.state)}" count="${x.count}">\n`;
      for (const r of x.reasons) ports += `<extrareasons${attrs([['reason', r.reason], ['count', r.count], ['proto', r.protocol], ['ports', r.ports]])}/>\n`;
      ports += '</extraports>\n';
    }
    for (const [port, v, protocol] of view.shown()) {
      const name = serviceName(port, protocol);
      ports += `<port protocol="${protocol}" portid="${port}"><state${attrs([['state', v.state], ['reason', v.reason], ['reason_ttl', v.ttl], ['reason_ip', v.reasonIp]])}/>`;
      const sd = host.services?.get(serviceKey(port, protocol));
      const svc = sd && xmlServiceAttributes(sd);
      if (svc) {
        // -sV: nmap's print_xml_service, its CPEs as children
        ports += `<service${attrs(svc)}`;
        ports += sd.cpe.length ? `>${sd.cpe.map((c) => `<cpe>${xmlAttr(c)}</cpe>`).join('')}</service>` : '/>';
      } else if (name !== 'unknown') ports += `<service name="${xmlAttr(name)}" method="table" conf="3"/>`;
      ports += '</port>\n';
    }
    return `${ports}</ports>`;
  }

  /** The IP address (addrtype ipv4 or ipv6) and, for an on-link host, its MAC address (vendor when known), as nmap writes them; each line ends with a newline. */
  private addresses(host: HostReport): string {
    const addr = DOTTED.test(host.address) ? host.address : xmlAttr(host.address);
    let s = `<address addr="${addr}" addrtype="${addrType(host.address)}"/>\n`;
    if (host.mac) s += `<address${attrs([['addr', host.mac], ['addrtype', 'mac'], ['vendor', host.vendor]])}/>\n`;
    return s;
  }

  /** The name typed as target (type "user") and the reverse DNS name (type "PTR"). */
  private hostnames(host: HostReport): string {
    if (host.hostname === undefined && host.ptr === undefined) return '<hostnames>\n</hostnames>\n';
    let s = '<hostnames>\n';
    if (host.hostname) s += `<hostname name="${xmlAttr(host.hostname)}" type="user"/>\n`;
    if (host.ptr) s += `<hostname name="${xmlAttr(host.ptr)}" type="PTR"/>\n`;
    return `${s}</hostnames>\n`;
  }

  private status(host: HostReport): string {
    const { state, reason, ttl } = host.status;
    let byReason = this.statusMemo.get(state);
    if (!byReason) this.statusMemo.set(state, (byReason = new Map()));
    let byTtl = byReason.get(reason);
    if (!byTtl) {
      byTtl = [];
      if (byReason.size < 256) byReason.set(reason, byTtl);
    }
    let s = byTtl[ttl];
    if (s === undefined) {
      s = `<status${attrs([['state', state], ['reason', reason], ['reason_ttl', ttl]])}/>`;
      if (Number.isInteger(ttl) && ttl >= 0 && ttl < 256) byTtl[ttl] = s;
    }
    return s;
  }

  end(end: RunEnd): void {
    const done = ctime(end.finishedAt);
    const finished: [string, string | number | undefined][] = [
      ['time', unixTime(end.finishedAt)],
      ['timestr', done],
      ['summary', `${PRODUCT} done at ${done}; ${doneSentence(end)}`],
      ['elapsed', end.elapsedSeconds.toFixed(2)],
      ['exit', end.error === undefined ? 'success' : 'error'],
      ['errormsg', end.error],
    ];
    const hosts = attrs([['up', end.up], ['down', downCount(end)], ['total', end.addresses]]);
    this.sink.write(`<runstats><finished${attrs(finished)}/><hosts${hosts}/>\n</runstats>\n</nmaprun>\n`);
  }
}

/**
 * nmap's <times>: smoothed RTT, its variation and the probe timeout, in microseconds. The
 * engine reports the smallest RTT per host; RFC 6298's first estimate (rttvar = rtt/2,
 * timeout = rtt + 4·rttvar, at least nmap's 100 ms floor) stands in for the rest. Hosts
 * without a measured RTT get nmap's "unknown" values.
 */
function timesOf(host: HostReport): [string, number][] {
  if (host.latency === undefined) return [['srtt', -1], ['rttvar', -1], ['to', 1000000]];
  const srtt = Math.max(1, Math.round(host.latency * 1e6));
  const rttvar = Math.max(1, Math.round(srtt / 2));
  return [['srtt', srtt], ['rttvar', rttvar], ['to', Math.max(100000, srtt + 4 * rttvar)]];
}

/** The <times/> element (timesOf), written without the generic attribute path. */
function times(host: HostReport): string {
  if (host.latency === undefined) return '<times srtt="-1" rttvar="-1" to="1000000"/>';
  const srtt = Math.max(1, Math.round(host.latency * 1e6));
  const rttvar = Math.max(1, Math.round(srtt / 2));
  return `<times srtt="${srtt}" rttvar="${rttvar}" to="${Math.max(100000, srtt + 4 * rttvar)}"/>`;
}
