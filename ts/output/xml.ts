// nmap's XML output (-oX), element for element as nmap 7.93 writes it and valid against
// nmap.dtd, so ndiff, nmap.xsl, Metasploit's db_import and other nmap XML readers take it.
// The prologue is written when the scan starts and hosts when it ends (an XML host element
// needs every port of the host); an interrupted scan still gets runstats (exit="error",
// errormsg) and closing tags, which nmap's own fatal() path writes the same way.
import { existsSync } from 'node:fs';
import { TECHNIQUES } from '../verdicts/classify.js';
import type { HostReport } from '../hosts/model.js';
import { serviceName } from '../targets/services.js';
import { serviceKey } from '../service/attach.js';
import { xmlServiceAttributes } from '../service/format.js';
import { PRODUCT, VERSION } from '../version.js';
import { commandLine, ctime, portRanges, scanInfoType, unixTime, xmlArgs, xmlAttr } from './format.js';
import { viewHost } from './host-view.js';
import type { Sink } from './sink.js';
import { hostWritten, scanPhases, type OutputWriter, type PhaseEvent, type RunEnd, type RunInfo } from './writer.js';

/** nmap's XML format version that this writer follows. */
export const XML_OUTPUT_VERSION = '1.05';
const LOCAL_XSL = '/usr/share/nmap/nmap.xsl';
const REMOTE_XSL = 'https://svn.nmap.org/nmap/docs/nmap.xsl';

/** The stylesheet nmap would reference: the installed nmap.xsl, else nmap's published one. */
export function defaultStylesheet(): string {
  return existsSync(LOCAL_XSL) ? `file://${LOCAL_XSL}` : REMOTE_XSL;
}

/** nmap's summary sentence: "... done at DATE; 1 IP address (1 host up) scanned in 1.34 seconds". */
export function doneSentence(end: RunEnd): string {
  const addrs = `${end.addresses} IP ${end.addresses === 1 ? 'address' : 'addresses'}`;
  const up = `${end.up} ${end.up === 1 ? 'host' : 'hosts'} up`;
  return `${addrs} (${up}) scanned in ${end.elapsedSeconds.toFixed(2)} seconds`;
}

const attrs = (pairs: [string, string | number | undefined][]): string =>
  pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(v as string | number)}"`)
    .join('');

export class XmlWriter implements OutputWriter {
  private info: RunInfo | undefined;
  private endedAt: Date | undefined;

  constructor(
    private readonly sink: Sink,
    private readonly stylesheet: string | null = defaultStylesheet(),
  ) {}

  begin(info: RunInfo): void {
    this.info = info;
    const args = xmlArgs(commandLine(info.args));
    const started = ctime(info.startedAt);
    let s = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n';
    if (this.stylesheet) s += `<?xml-stylesheet href="${xmlAttr(this.stylesheet)}" type="text/xsl"?>\n`;
    s += `<!-- ${PRODUCT} ${VERSION} scan initiated ${started} as: ${args} -->\n`;
    // nmap.dtd fixes scanner to "nmap"; the comment above and version say who wrote it.
    s += `<nmaprun scanner="nmap" args="${args}"${attrs([['start', unixTime(info.startedAt)], ['startstr', started], ['version', VERSION], ['xmloutputversion', XML_OUTPUT_VERSION]])}>\n`;
    // A ping scan (-sn) scans no ports: nmap writes no scaninfo then.
    // One scaninfo per technique (-sS -sU: syn/tcp, then udp/udp).
    if (!info.pingScan) {
      for (const phase of scanPhases(info)) {
        const { type, protocol } = scanInfoType(phase.technique);
        s += `<scaninfo${attrs([['type', type], ['protocol', protocol], ['numservices', phase.ports.length], ['services', portRanges(phase.ports)]])}/>\n`;
      }
    }
    s += `<verbose level="${info.verbose}"/>\n<debugging level="0"/>\n`;
    // Several techniques mark their own tasks (phase()).
    if (info.verbose && !info.pingScan && !info.scans) s += `<taskbegin${attrs([['task', this.title], ['time', unixTime(info.startedAt)]])}/>\n`;
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
      this.sink.write(`<host>${this.status(host)}\n${this.addresses(host).join('\n')}\n</host>\n`);
      return;
    }
    if (info.pingScan) {
      this.sink.write([`<host>${this.status(host)}`, ...this.addresses(host), ...this.hostnames(host), `<times${attrs(timesOf(host))}/>`, '</host>'].join('\n') + '\n');
      return;
    }
    const view = viewHost(host, info.ports, info);
    if (!hostWritten(host, info, () => view.hiddenByOpen)) return;
    // Hosts are scanned together: each one's times are the scan's.
    const t = { start: info.startedAt, end: this.endedAt ?? new Date() };
    const lines: string[] = [];
    lines.push(`<host${attrs([['starttime', unixTime(t.start)], ['endtime', unixTime(t.end)]])}>${this.status(host)}`);
    lines.push(...this.addresses(host), ...this.hostnames(host));
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
    lines.push(`${ports}</ports>`);
    lines.push(`<times${attrs(timesOf(host))}/>`);
    lines.push('</host>');
    this.sink.write(lines.join('\n') + '\n');
  }

  /** The IP address (addrtype ipv4 or ipv6) and, for an on-link host, its MAC address (vendor when known), as nmap writes them. */
  private addresses(host: HostReport): string[] {
    const lines = [`<address addr="${xmlAttr(host.address)}" addrtype="${host.address.includes(':') ? 'ipv6' : 'ipv4'}"/>`];
    if (host.mac) lines.push(`<address${attrs([['addr', host.mac], ['addrtype', 'mac'], ['vendor', host.vendor]])}/>`);
    return lines;
  }

  /** The name typed as target (type "user") and the reverse DNS name (type "PTR"). */
  private hostnames(host: HostReport): string[] {
    const lines = ['<hostnames>'];
    if (host.hostname) lines.push(`<hostname name="${xmlAttr(host.hostname)}" type="user"/>`);
    if (host.ptr) lines.push(`<hostname name="${xmlAttr(host.ptr)}" type="PTR"/>`);
    lines.push('</hostnames>');
    return lines;
  }

  private status(host: HostReport): string {
    return `<status${attrs([['state', host.status.state], ['reason', host.status.reason], ['reason_ttl', host.status.ttl]])}/>`;
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
    const hosts = attrs([['up', end.up], ['down', end.addresses - end.up], ['total', end.addresses]]);
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
