// The port table at run time: service names and the "most often open" ranking.
// nmap's own nmap-services is preferred when installed, so names and --top-ports match
// nmap exactly; otherwise the table shipped in data/ports-tcp.tsv (TCP only) is used.
import { readFileSync } from 'node:fs';

export type Protocol = 'tcp' | 'udp';

/** Where nmap keeps its table on Debian and most Linux distributions. */
export const NMAP_SERVICES = '/usr/share/nmap/nmap-services';
const SHIPPED = new URL('../../data/ports-tcp.tsv', import.meta.url);

export interface ServiceTable {
  /** File the table was read from (for -v's "Read data files from"). */
  readonly source: string;
  names: Record<Protocol, Map<number, string>>;
  /** Ports by descending frequency, ties by port number (nmap's order). */
  ranked: Record<Protocol, number[]>;
}

function emptyTable(source: string): ServiceTable {
  return { source, names: { tcp: new Map(), udp: new Map() }, ranked: { tcp: [], udp: [] } };
}

/** Parses nmap-services text: "name<TAB>port/proto<TAB>frequency ...". */
export function parseNmapServices(text: string, source = NMAP_SERVICES): ServiceTable {
  const table = emptyTable(source);
  const freq: Record<Protocol, { port: number; f: number }[]> = { tcp: [], udp: [] };
  // By index rather than split + regex per line: the file has ~27,000 lines and is read by every CLI run.
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const lineStart = at;
    at = end + 1;
    if (end === lineStart || text.charCodeAt(lineStart) === 35 /* # */) continue;
    const tab1 = text.indexOf('\t', lineStart);
    if (tab1 < 0 || tab1 >= end) continue;
    let tab2 = text.indexOf('\t', tab1 + 1);
    if (tab2 < 0 || tab2 > end) tab2 = end;
    const slash = text.indexOf('/', tab1 + 1);
    if (slash < 0 || slash >= tab2 || slash === tab1 + 1 || slash - tab1 - 1 > 5) continue;
    let port = 0;
    let digits = true;
    for (let i = tab1 + 1; i < slash; i++) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) digits = false;
      port = port * 10 + c;
    }
    const protoText = text.slice(slash + 1, tab2);
    // five digits can spell more than the largest port: such a line is malformed
    if (!digits || port > 65535 || (protoText !== 'tcp' && protoText !== 'udp')) continue;
    const proto = protoText as Protocol;
    // a port listed again (a damaged or hand-edited file) keeps its first line, name and rank
    if (table.names[proto].has(port)) continue;
    table.names[proto].set(port, text.slice(lineStart, tab1));
    let fEnd = text.indexOf('\t', tab2 + 1);
    if (fEnd < 0 || fEnd > end) fEnd = end;
    const f = tab2 < end ? Number(text.slice(tab2 + 1, fEnd)) : 0;
    freq[proto].push({ port, f: f || 0 });
  }
  for (const proto of ['tcp', 'udp'] as const) {
    // nmap breaks frequency ties by port number; checked against nmap's --top-ports list.
    freq[proto].sort((a, b) => b.f - a.f || a.port - b.port);
    table.ranked[proto] = freq[proto].map((e) => e.port);
  }
  return table;
}

/** Parses the shipped table: "rank<TAB>port<TAB>service" lines, TCP only. */
export function parsePortTable(text: string, source: string): ServiceTable {
  const table = emptyTable(source);
  const byRank: [number, number][] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [rank, portText, name] = line.split('\t');
    const port = Number(portText);
    // a line that names no port (a damaged file) is skipped, not ranked as NaN
    if (!/^\d{1,5}$/.test(portText ?? '') || port > 65535 || !Number.isFinite(Number(rank))) continue;
    byRank.push([Number(rank), port]);
    if (name && name !== 'unknown') table.names.tcp.set(port, name);
  }
  byRank.sort((a, b) => a[0] - b[0]);
  table.ranked.tcp = byRank.map((r) => r[1]);
  return table;
}

let current: ServiceTable | undefined;

/** The table in use, loaded on first call. */
export function serviceTable(): ServiceTable {
  if (current) return current;
  let text: string | undefined;
  try {
    text = readFileSync(NMAP_SERVICES, 'utf8');
  } catch {
    // nmap is not installed: fall back to the shipped ranking.
  }
  current = text !== undefined ? parseNmapServices(text) : parsePortTable(readFileSync(SHIPPED, 'utf8'), SHIPPED.pathname);
  return current;
}

/** Replaces the table in use (tests, or embedders with their own data); undefined reloads. */
export function setServiceTable(table: ServiceTable | undefined): void {
  current = table;
}

/** The service name nmap would print for a port; 'unknown' when the table has none. */
export function serviceName(port: number, proto: Protocol = 'tcp'): string {
  return serviceTable().names[proto].get(port) ?? 'unknown';
}

/** The n most often open ports, most frequent first. */
export function topPorts(n: number, proto: Protocol = 'tcp'): number[] {
  const ranked = serviceTable().ranked[proto];
  if (ranked.length === 0) throw new Error(`no ${proto} port ranking available (nmap-services not found)`);
  return ranked.slice(0, Math.max(0, n));
}

/** Every port whose service name is `name`, ascending (for -p http,ssh). */
export function portsByName(name: string, proto: Protocol = 'tcp'): number[] {
  const out: number[] = [];
  for (const [port, n] of serviceTable().names[proto]) if (n === name) out.push(port);
  return out.sort((a, b) => a - b);
}
