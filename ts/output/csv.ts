// --csv: one row per listed port (the ports nmap's XML lists as <port>; folded states are
// left out as nmap leaves them to <extraports>), under a header row, RFC 4180 quoting.
// Rows are written host by host at the end of the scan.
import type { HostReport } from '../hosts/model.js';
import { serviceName } from '../targets/services.js';
import { serviceKey } from '../service/attach.js';
import { csvField } from './format.js';
import { viewHost } from './host-view.js';
import type { Sink } from './sink.js';
import { hostWritten, type OutputWriter, type RunInfo } from './writer.js';

export const CSV_HEADER = ['address', 'hostname', 'protocol', 'port', 'state', 'reason', 'reason_ttl', 'reason_ip', 'service'] as const;
/** The columns -sV adds after CSV_HEADER's (cpe: space-separated). */
export const CSV_SERVICE_HEADER = ['product', 'version', 'extrainfo', 'svc_hostname', 'ostype', 'devicetype', 'tunnel', 'method', 'conf', 'cpe'] as const;

export class CsvWriter implements OutputWriter {
  private info: RunInfo | undefined;

  constructor(private readonly sink: Sink) {}

  begin(info: RunInfo): void {
    this.info = info;
    const header: readonly string[] = info.versionScan ? [...CSV_HEADER, ...CSV_SERVICE_HEADER] : CSV_HEADER;
    this.sink.write(`${header.join(',')}\r\n`);
  }

  host(host: HostReport): void {
    const info = this.info!;
    if (host.status.state === 'down') return;
    const view = viewHost(host, info.ports, info);
    if (!hostWritten(host, info, () => view.hiddenByOpen)) return;
    let s = '';
    for (const [port, v, protocol] of view.shown()) {
      const name = serviceName(port, protocol);
      const row: (string | number | undefined)[] = [host.address, host.hostname, protocol, port, v.state, v.reason, v.ttl, v.reasonIp, name === 'unknown' ? '' : name];
      if (info.versionScan) {
        const sd = host.services?.get(serviceKey(port, protocol));
        if (sd?.name !== undefined) row[8] = sd.name;
        row.push(sd?.product, sd?.version, sd?.extrainfo, sd?.hostname, sd?.ostype, sd?.devicetype, sd?.tunnel, sd?.method, sd?.conf, sd?.cpe.join(' '));
      }
      s += row.map(csvField).join(',') + '\r\n';
    }
    this.sink.write(s);
  }

  end(): void {}
}
