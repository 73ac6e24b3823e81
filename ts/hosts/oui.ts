// MAC address vendors (IEEE OUI → organisation), read at run time from what the system
// has: nmap's own table when nmap is installed, else the IEEE registry as Debian's
// ieee-data package ships it. The project copies neither (their licences and freshness are
// theirs); without both, MAC addresses are shown with nmap's "(Unknown)".
import { readFileSync } from 'node:fs';

export const NMAP_MAC_PREFIXES = '/usr/share/nmap/nmap-mac-prefixes';
/** IEEE's MA-L (24-bit), MA-M (28-bit) and MA-S (36-bit) registries, as ieee-data installs them. */
export const IEEE_DATA_FILES = ['/usr/share/ieee-data/oui.txt', '/usr/share/ieee-data/mam.txt', '/usr/share/ieee-data/oui36.txt'];

export interface VendorTable {
  /** Where the table came from (a file path), or undefined when there is none. */
  source?: string;
  /** Uppercase hex prefixes (6, 7 or 9 digits) → organisation. */
  prefixes: Map<string, string>;
}

/** nmap-mac-prefixes: "HEXPREFIX Organisation" lines, "#" comments. */
export function parseNmapMacPrefixes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9A-Fa-f]{6,12})\s+(.+?)\s*$/.exec(line);
    if (m) out.set(m[1].toUpperCase(), m[2]);
  }
  return out;
}

/**
 * IEEE's registry text (oui.txt, mam.txt, oui36.txt): "002272     (base 16)\t\tOrg" lines.
 * MA-M and MA-S entries give the 24-bit block on that line and the range below it as
 * "A00000-AFFFFF     (base 16)"; they become 7- and 9-digit prefixes.
 */
export function parseIeeeRegistry(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let block: string | undefined;
  for (const line of text.split('\n')) {
    const hex = /^\s*([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})\s+\(hex\)\s+(.*?)\s*$/.exec(line);
    if (hex) {
      block = `${hex[1]}${hex[2]}${hex[3]}`.toUpperCase();
      continue;
    }
    const base = /^\s*([0-9A-Fa-f]{6}|[0-9A-Fa-f]{6}-[0-9A-Fa-f]{6})\s+\(base 16\)\s*(.*?)\s*$/.exec(line);
    if (!base || !base[2]) continue;
    const org = base[2];
    if (!base[1].includes('-')) {
      out.set(base[1].toUpperCase(), org);
      continue;
    }
    // "A00000-AFFFFF" under block B: the range's fixed leading digits extend the block.
    if (!block) continue;
    const [lo, hi] = base[1].toUpperCase().split('-');
    let fixed = 0;
    while (fixed < 6 && lo[fixed] === hi[fixed]) fixed++;
    if (/^0*$/.test(lo.slice(fixed)) && /^F*$/.test(hi.slice(fixed))) out.set(block + lo.slice(0, fixed), org);
  }
  return out;
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** The table found on this system: nmap's, else ieee-data's, else an empty one. */
export function loadVendorTable(read: (path: string) => string | undefined = readOr): VendorTable {
  const nmap = read(NMAP_MAC_PREFIXES);
  if (nmap !== undefined) return { source: NMAP_MAC_PREFIXES, prefixes: parseNmapMacPrefixes(nmap) };
  const prefixes = new Map<string, string>();
  let source: string | undefined;
  for (const path of IEEE_DATA_FILES) {
    const text = read(path);
    if (text === undefined) continue;
    source ??= path;
    for (const [k, v] of parseIeeeRegistry(text)) prefixes.set(k, v);
  }
  return { source, prefixes };
}

let cached: VendorTable | undefined;

/** The vendor of a MAC address ("52:54:00:12:08:02"), longest registered prefix first. */
export function macVendor(mac: string, table?: VendorTable): string | undefined {
  const t = table ?? (cached ??= loadVendorTable());
  const hex = mac.replace(/[^0-9A-Fa-f]/g, '').toUpperCase();
  for (const len of [9, 7, 6]) {
    const v = t.prefixes.get(hex.slice(0, len));
    if (v !== undefined) return v;
  }
  return undefined;
}

/** nmap's spelling of a MAC address: uppercase, colon-separated. */
export function formatMac(mac: string): string {
  return mac.toUpperCase();
}
