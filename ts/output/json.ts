// ferroscan's JSON formats (schema: docs/json-output.md). -oJ writes one document whose
// "hosts" array is streamed host by host, as each host is complete, and closed at the end,
// also when the scan is interrupted; --ndjson writes one object per line: "begin", a "port"
// line for every verdict as it arrives, a "host" line per host as it is complete, and "end".
// Field names follow nmap's XML (reason_ttl, extraports) so that the two read alike. Host and
// port lines are built from memoised fragments (host-memo.ts) byte for byte as
// JSON.stringify would write them (the tests compare the two).
import type { Verdict } from '../verdicts/classify.js';
import type { HostReport, PortResult } from '../hosts/model.js';
import { serviceName } from '../targets/services.js';
import type { ServiceInfo } from '../service/format.js';
import { VERSION } from '../version.js';
import { safeJson } from './escape.js';
import { commandLine, portRanges, scanInfoType } from './format.js';
import { PortsMemo } from './host-memo.js';
import { viewHost } from './host-view.js';
import { osJson } from '../os/report.js';
import { hintJson, hintJsonText } from '../os/hints.js';
import type { Sink } from './sink.js';
import { downCount, hostWritten, scanPhases, type ListedTarget, type OutputWriter, type RunEnd, type RunInfo, type WriterState } from './writer.js';

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
  /** "up" or "down"; "unknown" for the list scan's targets (-sL). */
  status: { state: string; reason: string; reason_ttl: number };
  latency?: number;
  ports: JsonPort[];
  extraports: { state: string; count: number; reasons: { reason: string; count: number; protocol: string; ports: string }[] }[];
  /** OS detection's report (-O): docs/json-output.md. */
  os?: Record<string, unknown>;
  /** --os-hints: the passive hint (docs/json-output.md). */
  osHint?: Record<string, unknown>;
}

function header(info: RunInfo): Record<string, unknown> {
  return {
    scanner: 'ferroscan',
    version: VERSION,
    schema: JSON_SCHEMA_VERSION,
    args: commandLine(info.args),
    start: info.startedAt.toISOString(),
    // The list scan (-sL) scans no ports: no scaninfo, as in nmap's XML.
    scaninfo: (info.listScan ? [] : scanPhases(info)).map((phase) => {
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
  if (end.progress) {
    const { phase, probesSent, probes, found } = end.progress;
    stats.progress = phase === 'discovery' ? { phase, hosts_found: found ?? 0 } : { phase, probes_sent: probesSent, probes };
  }
  stats.hosts = { up: end.up, down: downCount(end), total: end.addresses };
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
  if (host.os) h.os = osJson(host.os);
  if (host.osHint) h.osHint = hintJson(host.osHint);
  return h;
}

/** What hostText() remembers between hosts: the ports memo and the last status written. */
class HostTextMemo {
  readonly ports = new PortsMemo<string | null>();
  /** `close`: what follows each host's object (NDJSON's newline). */
  constructor(readonly close = '') {}
  private state = '';
  private reason = '';
  private ttl = -1;
  private text = '';

  /** `,"status":{...}` for this status; a sweep's hosts mostly repeat the previous one. */
  status(st: { state: string; reason: string; ttl: number }): string {
    if (st.state !== this.state || st.reason !== this.reason || st.ttl !== this.ttl) {
      this.state = st.state;
      this.reason = st.reason;
      this.ttl = st.ttl;
      this.text = `,"status":{"state":${JSON.stringify(st.state)},"reason":${JSON.stringify(st.reason)},"reason_ttl":${JSON.stringify(st.ttl)}}`;
    }
    return this.text;
  }
}

/**
 * The JSON text of `jsonHost(host, info)` after `open` (the opening brace and any fields
 * before the host's own) and before `memo.close`, or undefined when the host is not written. The ports part of
 * hosts that share a pattern comes from the memo; the text is exactly JSON.stringify's.
 */
function hostText(open: string, host: HostReport, info: RunInfo, memo: HostTextMemo): string | undefined {
  const { address, hostname, ptr, mac, vendor, latency } = host;
  // A dotted quad needs no JSON escaping; anything else goes through JSON.stringify.
  const addr = DOTTED.test(address) ? `"${address}"` : safeJson(JSON.stringify(address));
  const names = hostname === undefined && ptr === undefined && mac === undefined && vendor === undefined ? '' : extras(host);
  // For a finite number JSON.stringify and String agree.
  const lat = latency === undefined ? '' : `,"latency":${Number.isFinite(latency) ? latency : JSON.stringify(latency)}`;
  const head = `${open}"address":${addr},"addrtype":"${address.includes(':') ? 'ipv6' : 'ipv4'}"${names}${memo.status(host.status)}${lat},`;
  if (host.status.state === 'down') return hostWritten(host, info, () => false) ? `${head}"ports":[],"extraports":[]}${memo.close}` : undefined;
  const ports = memo.ports.get(host, (h) => {
    const full = jsonHost(h, info);
    return full ? `"ports":${safeJson(JSON.stringify(full.ports))},"extraports":${JSON.stringify(full.extraports)}` : null;
  });
  if (ports === null) return undefined;
  // jsonHost's last keys, the host's own: -O's report, and --os-hints' (shared by many hosts, so its text is memoised)
  const os = host.os ? `,"os":${safeJson(JSON.stringify(osJson(host.os)))}` : '';
  const hint = host.osHint ? `,"osHint":${safeJson(hintJsonText(hintJson(host.osHint)))}` : '';
  return `${head}${ports}${os}${hint}}${memo.close}`;
}

/** The optional name and hardware fields, in jsonHost's order. */
function extras(host: HostReport): string {
  let s = '';
  if (host.hostname !== undefined) s += `,"hostname":${JSON.stringify(host.hostname)}`;
  if (host.ptr !== undefined) s += `,"ptr":${JSON.stringify(host.ptr)}`;
  if (host.mac !== undefined) s += `,"mac":${JSON.stringify(host.mac)}`;
  if (host.vendor !== undefined) s += `,"vendor":${JSON.stringify(host.vendor)}`;
  return safeJson(s);
}

const DOTTED = /^[0-9.]+$/;

/** -sL: a listed target, status "unknown" as in nmap's list scan. */
function listedBody(target: ListedTarget): string {
  const name = target.hostname === undefined ? '' : `,"hostname":${JSON.stringify(target.hostname)}`;
  return `"address":${safeJson(JSON.stringify(target.address))},"addrtype":"${target.address.includes(':') ? 'ipv6' : 'ipv4'}"${safeJson(name)},"status":{"state":"unknown","reason":"user-set","reason_ttl":0},"ports":[],"extraports":[]}`;
}

/** -oJ: one JSON document. */
export class JsonWriter implements OutputWriter {
  private info: RunInfo | undefined;
  private hosts = 0;
  private readonly memo = new HostTextMemo();

  constructor(private readonly sink: Sink) {}

  begin(info: RunInfo, continued?: WriterState): void {
    this.info = info;
    if (continued) {
      this.hosts = continued.hosts ?? 0;
      return;
    }
    const head = safeJson(JSON.stringify(header(info)));
    // The header object, reopened to append the hosts array that is streamed below.
    this.sink.write(`${head.slice(0, -1)},"hosts":[`);
  }

  host(host: HostReport): void {
    const text = hostText(this.hosts ? ',\n{' : '\n{', host, this.info!, this.memo);
    if (text === undefined) return;
    this.hosts++;
    this.sink.write(text);
  }

  listed(target: ListedTarget): void {
    this.sink.write(`${this.hosts++ ? ',' : ''}\n{${listedBody(target)}`);
  }

  end(end: RunEnd): void {
    this.sink.write(`\n],"runstats":${safeJson(JSON.stringify(runstats(end)))}}\n`);
  }

  state(): WriterState {
    return { hosts: this.hosts };
  }
}

const OPENISH = new Set(['open', 'open|filtered', 'unfiltered']);

/** --ndjson: one JSON object per line, port verdicts as they arrive, hosts as they complete. */
export class NdjsonWriter implements OutputWriter {
  private info: RunInfo | undefined;
  private readonly memo = new HostTextMemo('\n');
  /** A port line's fields after the address, by protocol, port, state, reason and TTL. */
  private readonly portTails = new Map<string, string>();
  private isoMs = NaN;
  private iso = '';

  constructor(private readonly sink: Sink) {}

  private line(obj: Record<string, unknown>): void {
    this.sink.write(`${safeJson(JSON.stringify(obj))}\n`);
  }

  begin(info: RunInfo, continued?: WriterState): void {
    this.info = info;
    if (!continued) this.line({ type: 'begin', ...header(info) });
  }

  result(r: PortResult, at: Date): void {
    if (this.info!.open && !OPENISH.has(r.state)) return;
    const key = `${r.protocol}\t${r.port}\t${r.state}\t${r.reason}\t${r.ttl}`;
    let tail = this.portTails.get(key);
    if (tail === undefined) {
      tail = JSON.stringify(jsonPort(r.port, r.protocol, r)).slice(1);
      if (this.portTails.size < 65536) this.portTails.set(key, tail);
    }
    const ms = at.getTime();
    if (ms !== this.isoMs) {
      this.isoMs = ms;
      this.iso = at.toISOString();
    }
    this.sink.write(`{"type":"port","time":"${this.iso}","address":${JSON.stringify(r.address)},${tail}\n`);
  }

  host(host: HostReport): void {
    const text = hostText('{"type":"host",', host, this.info!, this.memo);
    if (text !== undefined) this.sink.write(text);
  }

  listed(target: ListedTarget): void {
    this.sink.write(`{"type":"host",${listedBody(target)}\n`);
  }

  end(end: RunEnd): void {
    this.line({ type: 'end', ...runstats(end) });
  }
}
