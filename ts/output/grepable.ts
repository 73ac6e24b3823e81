// nmap's grepable output (-oG): one "Host: ADDR (NAME)\tStatus: Up" line and one
// "Host: ADDR (NAME)\tPorts: 22/open/tcp//ssh///, ...\tIgnored State: closed (989)" line per
// host, between "#" comment lines, field for field as nmap 7.93 writes them. Hosts are
// written as they complete; a sweep's one-port hosts share their Ports field (host-memo.ts).
import type { HostReport } from '../hosts/model.js';
import { serviceName } from '../targets/services.js';
import { serviceKey } from '../service/attach.js';
import { grepableVersion, serviceColumn } from '../service/format.js';
import { PRODUCT, VERSION } from '../version.js';
import { escapeText } from './escape.js';
import { commandLine, ctime, portRanges, scanInfoType } from './format.js';
import { PortsMemo } from './host-memo.js';
import { viewHost } from './host-view.js';
import { osGrepable } from '../os/report.js';
import type { Sink } from './sink.js';
import { doneSentence, hostWritten, scanPhases, type ListedTarget, type OutputWriter, type RunEnd, type RunInfo, type WriterState } from './writer.js';

export class GrepableWriter implements OutputWriter {
  private info: RunInfo | undefined;
  /** "\tPorts: ...\tIgnored State: ..." of one-port hosts, or null when --open hides them. */
  private readonly portsMemo = new PortsMemo<string | null>();

  constructor(private readonly sink: Sink) {}

  begin(info: RunInfo, continued?: WriterState): void {
    this.info = info;
    if (continued) return;
    let s = `# ${PRODUCT} ${VERSION} scan initiated ${ctime(info.startedAt)} as: ${escapeText(commandLine(info.args))}\n`;
    if (info.verbose && !info.listScan) {
      const lists = { tcp: '0;', udp: '0;' };
      for (const phase of scanPhases(info)) lists[scanInfoType(phase.technique).protocol] = `${phase.ports.length};${portRanges(phase.ports)}`;
      s += `# Ports scanned: TCP(${lists.tcp}) UDP(${lists.udp}) SCTP(0;) PROTOCOLS(0;)\n`;
    }
    this.sink.write(s);
  }

  host(host: HostReport): void {
    const info = this.info!;
    // nmap's grepable name is the reverse DNS one (its HostName()), else the name typed.
    const who = `Host: ${host.address} (${escapeText(host.ptr ?? host.hostname ?? '')})`;
    if (host.status.state === 'down') {
      if (hostWritten(host, info, () => false)) this.sink.write(`${who}\tStatus: Down\n`);
      return;
    }
    if (info.pingScan) {
      this.sink.write(`${who}\tStatus: Up\n`);
      return;
    }
    const ports = this.portsMemo.get(host, (h) => this.ports(h));
    if (ports === null) return;
    const os = host.os ? osGrepable(host.os) : '';
    this.sink.write(`${who}\tStatus: Up\n${who}${ports}${os}\n`);
  }

  /** -sL: nmap's "Status: Unknown" line. */
  listed(target: ListedTarget): void {
    this.sink.write(`Host: ${target.address} (${target.hostname ?? ''})\tStatus: Unknown\n`);
  }

  /** The Ports field and the ignored state of an up host, or null when --open hides it. */
  private ports(host: HostReport): string | null {
    const info = this.info!;
    const view = viewHost(host, info.ports, info);
    if (!hostWritten(host, info, () => view.hiddenByOpen)) return null;
    const entries: string[] = [];
    for (const [port, v, protocol] of view.shown()) {
      const name = serviceName(port, protocol);
      const sd = host.services?.get(serviceKey(port, protocol));
      if (info.versionScan) {
        // -sV: the SERVICE column as normal output has it (a '?', "ssl/") and the VERSION column, '/' as '|'
        const shown = sd && (sd.name !== undefined || sd.servicefp !== undefined || sd.tunnel !== undefined);
        const svc = shown ? serviceColumn(sd, name, v.state, true).replace(/\//g, '|') : '';
        entries.push(`${port}/${v.state}/${protocol}//${escapeText(svc)}//${escapeText(grepableVersion(sd))}/`);
        continue;
      }
      // port/state/protocol/owner/service/rpc info/version/
      entries.push(`${port}/${v.state}/${protocol}//${name === 'unknown' ? '' : name.replace(/[/,]/g, '|')}///`);
    }
    // nmap names the ignored state only when exactly one state was folded.
    const ignored = view.extraports.length === 1 ? `\tIgnored State: ${view.extraports[0].state} (${view.extraports[0].count})` : '';
    return `\tPorts: ${entries.join(', ')}${ignored}`;
  }

  end(end: RunEnd): void {
    let s = '';
    if (end.error !== undefined) s += `# ${PRODUCT} stopped early: ${end.error}\n`;
    s += `# ${PRODUCT} done at ${ctime(end.finishedAt)} -- ${doneSentence(end)}\n`;
    this.sink.write(s);
  }
}
