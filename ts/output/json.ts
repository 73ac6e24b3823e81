// ferroscan's JSON formats (schema: docs/json-output.md). -oJ writes one document whose
// "hosts" array is streamed host by host and closed at the end, also when the scan is
// interrupted; --ndjson writes one object per line: "begin", a "port" line for every
// verdict as it arrives, a "host" line per host at the end, and "end". Field names follow
// nmap's XML (reason_ttl, extraports) so that the two read alike.
import type { Verdict } from '../verdicts/classify.js';
import type { HostReport, PortResult } from '../hosts/model.js';
import { serviceName } from '../targets/services.js';
import type { ServiceInfo } from '../service/format.js';
import { VERSION } from '../version.js';
import { commandLine, portRanges, scanInfoType } from './format.js';
import { viewHost } from './host-view.js';
import type { Sink } from './sink.js';
import { hostWritten, scanPhases, type OutputWriter, type RunEnd, type RunInfo } from './writer.js';

/** Version of the JSON schema in docs/json-output.md; bumped on incompatible changes. */
export const JSON_SCHEMA_VERSION = 1;

export interface JsonPort {
  protocol: string;
  port: number;
  state: string;
  reason: string;
  reason_ttl: number;
  reason_ip?: string;
  service?: string;
  /** -sV: nmap's <service> fields (name as probed or from the table). */
  product?: string;
  version?: string;
  extrainfo?: string;
  hostname?: string;
  ostype?: string;
  devicetype?: string;
  tunnel?: 'ssl';
  method?: 'probed' | 'table';
  conf?: number;
  cpe?: string[];
  servicefp?: string;
}

export interface JsonHost {
  address: string;
  addrtype: 'ipv4' | 'ipv6';
  hostname?: string;
  /** Reverse DNS name. */
  ptr?: string;
  /** Hardware address of an on-link host (uppercase) and its vendor, when known. */
  mac?: string;
  vendor?: string;
  status: { state: string; reason: string; reason_ttl: number };
  latency?: number;
  ports: JsonPort[];
  extraports: { state: string; count: number; reasons: { reason: string; count: number; protocol: string; ports: string }[] }[];
}

function header(info: RunInfo): Record<string, unknown> {
  return {
    scanner: 'ferroscan',
    version: VERSION,
    schema: JSON_SCHEMA_VERSION,
    args: commandLine(info.args),
    start: info.startedAt.toISOString(),
    scaninfo: scanPhases(info).map((phase) => {
      const { type, protocol } = scanInfoType(phase.technique);
      return { type, protocol, numservices: phase.ports.length, services: portRanges(phase.ports) };
    }),
  };
}

function runstats(end: RunEnd): Record<string, unknown> {
  const stats: Record<string, unknown> = {
    finished: end.finishedAt.toISOString(),
    elapsed: Number(end.elapsedSeconds.toFixed(3)),
    exit: end.error === undefined ? 'success' : 'error',
  };
  if (end.error !== undefined) stats.errormsg = end.error;
  stats.hosts = { up: end.up, down: end.addresses - end.up, total: end.addresses };
  return stats;
}

function jsonPort(port: number, protocol: 'tcp' | 'udp', v: Pick<Verdict, 'state' | 'reason' | 'ttl' | 'reasonIp'>, sd?: ServiceInfo): JsonPort {
  const p: JsonPort = { protocol, port, state: v.state, reason: v.reason, reason_ttl: v.ttl };
  if (v.reasonIp !== undefined) p.reason_ip = v.reasonIp;
  const name = serviceName(port, protocol);
  if (name !== 'unknown') p.service = name;
  if (sd) {
    // -sV: the XML <service> element's fields, the fingerprint without nmap's line breaks
    if (sd.name !== undefined) p.service = sd.name;
    for (const k of ['product', 'version', 'extrainfo', 'hostname', 'ostype', 'devicetype'] as const) if (sd[k]) p[k] = sd[k];
    if (sd.tunnel) p.tunnel = sd.tunnel;
    p.method = sd.method;
    p.conf = sd.conf;
    if (sd.cpe.length) p.cpe = [...sd.cpe];
    if (sd.servicefp) p.servicefp = sd.servicefp.replace(/\nSF:/g, '');
  }
  return p;
}

/** A host as JSON, or undefined when nmap's formats would not write it (down, or --open). */
export function jsonHost(host: HostReport, info: RunInfo): JsonHost | undefined {
  const base = (): JsonHost => {
    // Keys in the documented order; optional ones only when known.
    const h = { address: host.address, addrtype: host.address.includes(':') ? 'ipv6' : 'ipv4' } as JsonHost;
    if (host.hostname !== undefined) h.hostname = host.hostname;
    if (host.ptr !== undefined) h.ptr = host.ptr;
    if (host.mac !== undefined) h.mac = host.mac;
    if (host.vendor !== undefined) h.vendor = host.vendor;
    h.status = { state: host.status.state, reason: host.status.reason, reason_ttl: host.status.ttl };
    if (host.latency !== undefined) h.latency = host.latency;
    h.ports = [];
    h.extraports = [];
    return h;
  };
  if (host.status.state === 'down') return hostWritten(host, info, () => false) ? base() : undefined;
  const view = viewHost(host, info.ports, info);
  if (!hostWritten(host, info, () => view.hiddenByOpen)) return undefined;
  const h = base();
  for (const [port, v, protocol] of view.shown()) h.ports.push(jsonPort(port, protocol, v, host.services?.get(`${port}/${protocol}`)));
  h.extraports = view.extraports.map((x) => ({ state: x.state, count: x.count, reasons: x.reasons.map((r) => ({ reason: r.reason, count: r.count, protocol: r.protocol, ports: r.ports })) }));
  return h;
}

/** -oJ: one JSON document. */
export class JsonWriter implements OutputWriter {
  private info: RunInfo | undefined;
  private hosts = 0;

  constructor(private readonly sink: Sink) {}

  begin(info: RunInfo): void {
    this.info = info;
    const head = JSON.stringify(header(info));
    // The header object, reopened to append the hosts array that is streamed below.
    this.sink.write(`${head.slice(0, -1)},"hosts":[`);
  }

  host(host: HostReport): void {
    const h = jsonHost(host, this.info!);
    if (!h) return;
    this.sink.write(`${this.hosts++ ? ',' : ''}\n${JSON.stringify(h)}`);
  }

  end(end: RunEnd): void {
    this.sink.write(`\n],"runstats":${JSON.stringify(runstats(end))}}\n`);
  }
}

const OPENISH = new Set(['open', 'open|filtered', 'unfiltered']);

/** --ndjson: one JSON object per line, port verdicts as they arrive. */
export class NdjsonWriter implements OutputWriter {
  private info: RunInfo | undefined;

  constructor(private readonly sink: Sink) {}

  private line(obj: Record<string, unknown>): void {
    this.sink.write(`${JSON.stringify(obj)}\n`);
  }

  begin(info: RunInfo): void {
    this.info = info;
    this.line({ type: 'begin', ...header(info) });
  }

  result(r: PortResult, at: Date): void {
    if (this.info!.open && !OPENISH.has(r.state)) return;
    this.line({ type: 'port', time: at.toISOString(), address: r.address, ...jsonPort(r.port, r.protocol, r) });
  }

  host(host: HostReport): void {
    const h = jsonHost(host, this.info!);
    if (h) this.line({ type: 'host', ...h });
  }

  end(end: RunEnd): void {
    this.line({ type: 'end', ...runstats(end) });
  }
}
