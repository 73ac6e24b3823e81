// nmap's text forms of a service answer (-sV): the SERVICE and VERSION columns of normal
// output, the "Service Info:" line, the "unrecognized despite returning data" block, the
// XML <service> attributes and the grepable fields, as nmap 7.93's output.cc and
// portlist.cc write them. Pure functions over ServiceInfo; the writers call them.

import type { HostReport } from '../hosts/model.js';

/** One port's service answer, as nmap stores it for output. */
export interface ServiceInfo {
  /** The service name: probed, or the port table's when method is "table"; absent when neither has one. */
  name?: string;
  product?: string;
  version?: string;
  extrainfo?: string;
  hostname?: string;
  ostype?: string;
  devicetype?: string;
  /** "ssl" when the service was found inside TLS. */
  tunnel?: 'ssl';
  method: 'probed' | 'table';
  /** nmap's name confidence: 10 matched, 8 tcpwrapped, 3 from the table. */
  conf: number;
  cpe: string[];
  /** The SF-Port… fingerprint, with nmap's "\nSF:" line breaks, when nmap would print one. */
  servicefp?: string;
  /** How the probing ended. */
  state: 'hardmatched' | 'softmatched' | 'nomatch' | 'tcpwrapped' | 'incomplete' | 'excluded';
}

/** nmap's VERSION column (populateFullVersionString, 160-byte buffer): product, version,
 *  (extrainfo), truncated with "..." where they do not fit. */
export function fullVersion(sd: Pick<ServiceInfo, 'product' | 'version' | 'extrainfo'>, n = 160): string {
  let dst = '';
  let left = n - 1;
  let pad = false;
  const { product, version, extrainfo } = sd;
  if (product && left >= 8) {
    if (left < product.length) {
      dst += product.slice(0, left - 3) + '...';
      left = 0;
    } else {
      dst += product;
      left -= product.length;
    }
    pad = true;
  }
  if (version && left >= 8) {
    if (pad) {
      dst += ' ';
      left--;
    }
    if (left < version.length) {
      dst += version.slice(0, left - 3) + '...';
      left = 0;
    } else {
      dst += version;
      left -= version.length;
    }
    pad = true;
  }
  if (extrainfo && left >= 8) {
    if (pad) {
      dst += ' ';
      left--;
    }
    dst += '(';
    if (left - 2 < extrainfo.length) {
      dst += extrainfo.slice(0, left - 5) + '...';
      left = 1;
    } else {
      dst += extrainfo;
      left -= extrainfo.length + 2;
    }
    dst += ')';
    left--;
  }
  return dst;
}

/** nmap's SERVICE column (Port::getNmapServiceName): "ssl/" inside TLS, a '?' after a name
 *  taken from the port table (confidence 5 or less) on an open port. */
export function serviceColumn(sd: ServiceInfo | undefined, tableName: string | undefined, portState: string, versionScan: boolean): string {
  const prefix = sd?.tunnel === 'ssl' ? 'ssl/' : '';
  const name = sd?.name ?? tableName;
  if (name !== undefined && name !== 'unknown') {
    const unsure = versionScan && portState === 'open' && (sd === undefined || sd.conf <= 5);
    return `${prefix}${name}${unsure ? '?' : ''}`;
  }
  return `${prefix}unknown`;
}

/** The grepable version field: the VERSION column with '/' written as '|'. */
export function grepableVersion(sd: ServiceInfo | undefined): string {
  return sd ? fullVersion(sd).replace(/\//g, '|') : '';
}

/** nmap's "Service Info:" line for one host, from its open ports' answers, or undefined.
 *  Hostnames equal (case-insensitively) to the host's own name are left out, as are CPEs
 *  of part "a"; at most 5 of each kind. */
export function serviceInfoLine(services: readonly (ServiceInfo | undefined)[], hostName?: string): string | undefined {
  const max = 5;
  const hosts: string[] = [];
  const oses: string[] = [];
  const devices: string[] = [];
  const cpes: string[] = [];
  const add = (list: string[], v: string, same: (a: string, b: string) => boolean) => {
    if (list.length < max && !list.some((x) => same(x, v))) list.push(v);
  };
  const ci = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const cs = (a: string, b: string) => a === b;
  for (const sd of services) {
    if (!sd) continue;
    if (sd.hostname && !(hostName !== undefined && ci(hostName, sd.hostname))) add(hosts, sd.hostname, ci);
    if (sd.ostype) add(oses, sd.ostype, cs);
    if (sd.devicetype) add(devices, sd.devicetype, cs);
    for (const c of sd.cpe) if (!c.startsWith('cpe:/a')) add(cpes, c, cs);
  }
  const parts: string[] = [];
  if (hosts.length) parts.push(`Host${hosts.length === 1 ? '' : 's'}: ${hosts.join(', ')}`);
  if (oses.length) parts.push(`OS${oses.length === 1 ? '' : 's'}: ${oses.join(', ')}`);
  if (devices.length) parts.push(`Device${devices.length === 1 ? '' : 's'}: ${devices.join(', ')}`);
  if (cpes.length) parts.push(`CPE: ${cpes.join(', ')}`);
  return parts.length ? `Service Info: ${parts.join('; ')}` : undefined;
}

/** nmap's block after a host's port table: the fingerprints of services it could not name
 *  (at most 9 are kept, as nmap keeps them), or undefined when there are none. */
export function unrecognizedBlock(fingerprints: readonly string[]): string | undefined {
  const fps = fingerprints.slice(0, 9);
  if (fps.length === 0) return undefined;
  const n = fps.length;
  let out =
    `${n} service${n > 1 ? 's' : ''} unrecognized despite returning data.` +
    ` If you know the service/version, please submit the following fingerprint${n > 1 ? 's' : ''} at` +
    ' https://nmap.org/cgi-bin/submit.cgi?new-service :\n';
  for (const fp of fps) {
    if (n > 1) out += '==============NEXT SERVICE FINGERPRINT (SUBMIT INDIVIDUALLY)==============\n';
    out += `${fp}\n`;
  }
  return out;
}

/** The XML <service> element's attributes in nmap's order (print_xml_service), or
 *  undefined when nmap writes no element (no name, no fingerprint, no tunnel). */
export function xmlServiceAttributes(sd: ServiceInfo): [string, string][] | undefined {
  if (sd.name === undefined && sd.servicefp === undefined && sd.tunnel === undefined) return undefined;
  const a: [string, string][] = [['name', sd.name ?? 'unknown']];
  for (const k of ['product', 'version', 'extrainfo', 'hostname', 'ostype', 'devicetype'] as const) {
    const v = sd[k];
    if (v) a.push([k, v]);
  }
  if (sd.servicefp) a.push(['servicefp', sd.servicefp.replace(/\nSF:/g, '')]);
  if (sd.tunnel === 'ssl') a.push(['tunnel', 'ssl']);
  a.push(['method', sd.method]);
  a.push(['conf', String(sd.conf)]);
  return a;
}

/** The line nmap prints before its closing line after a -sV run. */
export const SERVICE_DETECTION_NOTE = 'Service detection performed. Please report any incorrect results at https://nmap.org/submit/ .';

/** A host's ports with services, TCP then UDP, ascending: nmap's walk for both blocks. */
function servicePorts(host: HostReport): { state: string; sd: ServiceInfo }[] {
  const out: { protocol: string; port: number; state: string; sd: ServiceInfo }[] = [];
  if (!host.services) return [];
  const sections = host.sections ?? [{ protocol: host.protocol, ports: host.ports }];
  for (const s of sections) {
    for (const [port, v] of s.ports) {
      const sd = host.services.get(`${port}/${s.protocol}`);
      if (sd) out.push({ protocol: s.protocol, port, state: v.state, sd });
    }
  }
  out.sort((a, b) => (a.protocol === b.protocol ? a.port - b.port : a.protocol === 'tcp' ? -1 : 1));
  return out;
}

/** A host's -sV lines in normal output: the fingerprint block and the Service Info line. */
export function hostServiceLines(host: HostReport, _ports?: readonly number[]): { block?: string; info?: string } {
  const ports = servicePorts(host);
  const block = unrecognizedBlock(ports.filter((p) => p.state !== 'closed' && p.sd.servicefp).map((p) => p.sd.servicefp as string));
  const info = serviceInfoLine(
    ports.filter((p) => p.state === 'open').map((p) => p.sd),
    host.ptr,
  );
  return { ...(block && { block }), ...(info && { info }) };
}
