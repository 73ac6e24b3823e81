// --csv: one row per listed port (the ports nmap's XML lists as <port>; folded states are
// left out as nmap leaves them to <extraports>), under a header row, RFC 4180 quoting.
// Rows are written host by host as each host is complete; the part of a row after the
// host's own fields is shared by a sweep's one-port hosts (host-memo.ts).
import type { HostReport } from '../hosts/model.js';
import { serviceName } from '../targets/services.js';
import { serviceKey } from '../service/attach.js';
import { csvField } from './format.js';
import { PortsMemo } from './host-memo.js';
import { viewHost } from './host-view.js';
import type { Sink } from './sink.js';
import { hostWritten, type OutputWriter, type RunInfo, type WriterState } from './writer.js';

export const CSV_HEADER = ['address', 'hostname', 'protocol', 'port', 'state', 'reason', 'reason_ttl', 'reason_ip', 'service'] as const;
/** The columns -sV adds after CSV_HEADER's (cpe: space-separated). */
export const CSV_SERVICE_HEADER = ['product', 'version', 'extrainfo', 'svc_hostname', 'ostype', 'devicetype', 'tunnel', 'method', 'conf', 'cpe'] as const;

export class CsvWriter implements OutputWriter {
  private info: RunInfo | undefined;
  /** Each listed port's fields after address and hostname ("tcp,80,open,...\r\n"), or null when --open hides the host. */
  private readonly memo = new PortsMemo<string[] | null>();

  constructor(private readonly sink: Sink) {}

  begin(info: RunInfo, continued?: WriterState): void {
    this.info = info;
    const header: readonly string[] = info.versionScan ? [...CSV_HEADER, ...CSV_SERVICE_HEADER] : CSV_HEADER;
    if (!continued) this.sink.write(`${header.join(',')}\r\n`);
  }

  host(host: HostReport): void {
    if (host.status.state === 'down' || this.info!.pingScan) return;
    const tails = this.memo.get(host, (h) => this.tails(h));
    if (tails === null || tails.length === 0) return;
    const head = `${csvField(host.address)},${csvField(host.hostname)},`;
    this.sink.write(tails.length === 1 ? head + tails[0] : tails.map((t) => head + t).join(''));
  }

  private tails(host: HostReport): string[] | null {
    const info = this.info!;
    const view = viewHost(host, info.ports, info);
    if (!hostWritten(host, info, () => view.hiddenByOpen)) return null;
    const out: string[] = [];
    for (const [port, v, protocol] of view.shown()) {
      const name = serviceName(port, protocol);
      const row: (string | number | undefined)[] = [protocol, port, v.state, v.reason, v.ttl, v.reasonIp, name === 'unknown' ? '' : name];
      if (info.versionScan) {
        // -sV: per host, so such hosts are never memoised (host-memo.ts)
        const sd = host.services?.get(serviceKey(port, protocol));
        if (sd?.name !== undefined) row[6] = sd.name;
        row.push(sd?.product, sd?.version, sd?.extrainfo, sd?.hostname, sd?.ostype, sd?.devicetype, sd?.tunnel, sd?.method, sd?.conf, sd?.cpe.join(' '));
      }
      out.push(row.map(csvField).join(',') + '\r\n');
    }
    return out;
  }

  end(): void {}
}
