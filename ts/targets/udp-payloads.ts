// Payloads for UDP probes: most UDP services ignore an empty datagram, so well-known ports
// get a real protocol request that makes a listening service answer. nmap's own table
// (/usr/share/nmap/nmap-payloads) is read when nmap is installed; otherwise the requests
// built here, from the protocols' specifications, are used.
import { readFileSync } from 'node:fs';

export const NMAP_PAYLOADS = '/usr/share/nmap/nmap-payloads';

/** A DNS query (RFC 1035): id 0x1234, recursion desired, one question: ". NS IN". */
const DNS_QUERY = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x00, 0, 2, 0, 1]);

/** An NTP v4 client request (RFC 5905): LI 3, version 4, mode 3, the rest zero. */
const NTP_REQUEST = Buffer.concat([Buffer.from([0xe3]), Buffer.alloc(47)]);

/** An SNMPv1 GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0) with community "public", BER-encoded. */
const SNMP_GET = Buffer.from([
  0x30, 0x29, 0x02, 0x01, 0x00, 0x04, 0x06, 0x70, 0x75, 0x62, 0x6c, 0x69, 0x63,
  0xa0, 0x1c, 0x02, 0x04, 0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
  0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00,
]);

/** A NetBIOS node status request for "*" (RFC 1002 4.2.17): NBSTAT, class IN. */
const NETBIOS_NBSTAT = Buffer.concat([
  Buffer.from([0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x20]),
  Buffer.from('CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'ascii'),
  Buffer.from([0x00, 0x00, 0x21, 0x00, 0x01]),
]);

/** An SSDP discovery (UPnP Device Architecture 1.1, 1.3.2). */
const SSDP_SEARCH = Buffer.from('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n', 'ascii');

/** A TFTP read request (RFC 1350) for a file named "a", octet mode. */
const TFTP_RRQ = Buffer.from([0x00, 0x01, 0x61, 0x00, ...Buffer.from('octet', 'ascii'), 0x00]);

/** An MS-SQL Server Resolution Protocol broadcast request (CLNT_UCAST_EX). */
const MSSQL_PING = Buffer.from([0x03]);

/** The payloads this project ships, by port. */
export function shippedPayloads(): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (const p of [53, 5353]) m.set(p, DNS_QUERY);
  m.set(69, TFTP_RRQ);
  m.set(123, NTP_REQUEST);
  m.set(137, NETBIOS_NBSTAT);
  m.set(161, SNMP_GET);
  m.set(1434, MSSQL_PING);
  m.set(1900, SSDP_SEARCH);
  return m;
}

/** Decodes one C-style quoted string of nmap-payloads ("\x0D\x0A", "\r\n", "\\", "\""). */
function unquote(body: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out.push(c.charCodeAt(0) & 0xff);
      continue;
    }
    const n = body[++i];
    if (n === undefined) out.push(0x5c);
    else if (n === 'x') {
      // one or two hex digits; "\x1\\" is 0x01 then a backslash, not 0x01 eating it
      const hex = /^[0-9A-Fa-f]{1,2}/.exec(body.slice(i + 1, i + 3))?.[0] ?? '';
      out.push(hex === '' ? 0x78 : parseInt(hex, 16));
      i += hex.length;
    } else if (n === '0') out.push(0);
    else if (n === 'n') out.push(10);
    else if (n === 'r') out.push(13);
    else if (n === 't') out.push(9);
    else if (n === 'a') out.push(7);
    else out.push(n.charCodeAt(0) & 0xff);
  }
  return Buffer.from(out);
}

/**
 * Parses nmap-payloads: `udp PORTS "string" "string" ... [source N]`, strings continuing on
 * following lines. The first payload listed for a port is kept, as nmap's -sU sends it.
 */
export function parseNmapPayloads(text: string): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  // tokens: words and quoted strings, comments dropped
  const tokens: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^\s"]+)/g;
  for (const line of text.split('\n')) {
    for (const t of line.matchAll(re)) {
      if (t[2]?.startsWith('#')) break; // a comment runs to the end of the line
      tokens.push(t[1] !== undefined ? `"${t[1]}` : t[2]);
    }
  }
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] !== 'udp') continue;
    // "N" or "N-M" items of ports 0-65535; a malformed item is skipped, never expanded
    // (an unchecked "1-65535113" meant a 65-million-entry array)
    const ports: number[] = [];
    for (const item of (tokens[++i] ?? '').split(',')) {
      const r = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item);
      const a = r ? Number(r[1]) : NaN;
      const b = r?.[2] !== undefined ? Number(r[2]) : a;
      if (!(a <= b && b <= 65535)) continue;
      for (let p = a; p <= b; p++) ports.push(p);
    }
    const parts: Buffer[] = [];
    while (tokens[i + 1]?.startsWith('"')) parts.push(unquote(tokens[++i].slice(1)));
    if (tokens[i + 1] === 'source') i += 2;
    const payload = Buffer.concat(parts);
    for (const p of ports) if (!m.has(p)) m.set(p, payload);
  }
  return m;
}

let cached: Map<number, Buffer> | undefined;

/** The payload table in use: nmap's when installed and readable, else the shipped one. */
export function udpPayloads(): Map<number, Buffer> {
  if (cached) return cached;
  try {
    cached = parseNmapPayloads(readFileSync(NMAP_PAYLOADS, 'latin1'));
  } catch {
    cached = shippedPayloads();
  }
  return cached;
}
