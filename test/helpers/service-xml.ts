// Reads what service detection (-sV) wrote into an nmap-format XML file (nmap's own or
// ferroscan's -oX): for every host and port, the port's state and its <service> element with
// every attribute nmap's DTD gives it and its <cpe> children, in order. Only as much XML as nmap
// writes is understood (no CDATA, no DOCTYPE internals): enough for the golden tests, which
// compare the two scanners' files with test/helpers/service-compare.ts.

/** One <service> element. Attributes nmap did not write are absent, never empty strings. */
export interface ServiceRecord {
  name?: string;
  product?: string;
  version?: string;
  extrainfo?: string;
  hostname?: string;
  ostype?: string;
  devicetype?: string;
  tunnel?: string;
  proto?: string;
  rpcnum?: string;
  lowver?: string;
  highver?: string;
  method?: string;
  conf?: string;
  servicefp?: string;
  /** The <cpe> children, in the order written. */
  cpe: string[];
}

/** The attributes of <service> that hold a value of the detected service (all but cpe). */
export const SERVICE_FIELDS = [
  'name',
  'product',
  'version',
  'extrainfo',
  'hostname',
  'ostype',
  'devicetype',
  'tunnel',
  'proto',
  'rpcnum',
  'lowver',
  'highver',
  'method',
  'conf',
  'servicefp',
] as const satisfies readonly (keyof ServiceRecord)[];

export type ServiceField = (typeof SERVICE_FIELDS)[number];

export interface PortService {
  address: string;
  protocol: string;
  port: number;
  state: string;
  reason?: string;
  /** Absent when the port has no <service> element. */
  service?: ServiceRecord;
}

/** "198.18.16.2 22/tcp": how ports are named in maps and in difference messages. */
export const portKey = (p: Pick<PortService, 'address' | 'port' | 'protocol'>): string => `${p.address} ${p.port}/${p.protocol}`;

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };

/** Undoes XML escaping: the five named entities and numeric character references. */
export function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, ent: string) => {
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    return ENTITIES[ent] ?? whole;
  });
}

/** The attributes of one start tag's inside (`name="ssh" conf="10"`), unescaped. */
export function parseAttributes(inside: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of inside.matchAll(/([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attrs[m[1]] = unescapeXml(m[2] ?? m[3] ?? '');
  }
  return attrs;
}

/** The <service> element inside one <port> element's body, if any. */
export function parseService(portBody: string): ServiceRecord | undefined {
  const m = /<service\b([^>]*?)(\/>|>([\s\S]*?)<\/service>)/.exec(portBody);
  if (!m) return undefined;
  const attrs = parseAttributes(m[1]);
  const rec: ServiceRecord = { cpe: [] };
  for (const f of SERVICE_FIELDS) if (attrs[f] !== undefined) rec[f] = attrs[f];
  for (const c of (m[3] ?? '').matchAll(/<cpe>([^<]*)<\/cpe>/g)) rec.cpe.push(unescapeXml(c[1]));
  return rec;
}

/**
 * Every port of every host in an nmap-format XML document, keyed by portKey. A host's address
 * is its first IPv4 or IPv6 <address> (never the MAC). Throws when the text has no <nmaprun>,
 * so that an empty or truncated file is never read as "no ports".
 */
export function parseServiceXml(xml: string): Map<string, PortService> {
  if (!/<nmaprun\b/.test(xml)) throw new Error('not an nmap XML document (no <nmaprun>)');
  const out = new Map<string, PortService>();
  for (const h of xml.matchAll(/<host\b[^>]*>([\s\S]*?)<\/host>/g)) {
    const body = h[1];
    const addr = /<address\b([^>]*?)\/?>/g;
    let address: string | undefined;
    for (const a of body.matchAll(addr)) {
      const attrs = parseAttributes(a[1]);
      if (attrs.addrtype === 'ipv4' || attrs.addrtype === 'ipv6') {
        address = attrs.addr;
        break;
      }
    }
    if (address === undefined) throw new Error('a <host> without an IP <address>');
    for (const p of body.matchAll(/<port\b([^>]*)>([\s\S]*?)<\/port>/g)) {
      const attrs = parseAttributes(p[1]);
      const port = Number(attrs.portid);
      if (!attrs.protocol || !Number.isInteger(port)) throw new Error(`a <port> without protocol/portid: <port${p[1]}>`);
      const st = /<state\b([^>]*?)\/?>/.exec(p[2]);
      const state = st ? parseAttributes(st[1]) : {};
      const rec: PortService = { address, protocol: attrs.protocol, port, state: state.state ?? '' };
      if (state.reason !== undefined) rec.reason = state.reason;
      const service = parseService(p[2]);
      if (service) rec.service = service;
      out.set(portKey(rec), rec);
    }
  }
  return out;
}

/**
 * The "Service Info:" lines of normal output (one per host that has one), as printed: what nmap
 * gathers from the ports' hostname, ostype, devicetype and OS CPEs.
 */
export function serviceInfoLines(normal: string): string[] {
  return normal.split('\n').filter((l) => l.startsWith('Service Info: '));
}
