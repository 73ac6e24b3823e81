// ava helpers for the OS-detection lab (scripts/lab-os.sh): targets whose namespaces' sysctls
// make their kernels answer OS probes differently, one behind a router, one with no closed
// port. Brings it up under a unique ID, runs commands in its scanner namespace only, and always
// tears it down; and reads the OS part of nmap's (or ferroscan's) normal output.
import type { TestFn } from 'ava';
import { bringUpLab, parseKeyValues, repoRoot, useLabOf, type LabHandle } from './lab.js';

export const osLabScript = `${repoRoot}scripts/lab-os.sh`;

export interface OsLabFacts {
  id: string;
  scanNs: string;
  /** name → address, in the lab's order (linux, bare, ecn, ttl255, noclosed, far, x0...). */
  targets: Map<string, string>;
  openPorts: number[];
  noclosed: string;
  raw: Record<string, string>;
}

export type OsLab = LabHandle<OsLabFacts>;

export function parseOsFacts(text: string): OsLabFacts {
  const { raw, get } = parseKeyValues(text, 'lab-os.sh');
  return {
    id: get('LAB_ID'),
    scanNs: get('LAB_SCAN_NS'),
    targets: new Map(get('LAB_TARGETS').split(',').map((p) => p.split('=') as [string, string])),
    openPorts: get('LAB_OPEN_PORTS').split(',').map(Number),
    noclosed: get('LAB_NOCLOSED'),
    raw,
  };
}

export function osLabUp(extra = 0): OsLab {
  return bringUpLab(osLabScript, 'os', { LAB_EXTRA: String(extra) }, parseOsFacts);
}

export function useOsLab(test: TestFn): () => OsLab {
  return useLabOf(test, () => osLabUp(), 'the OS lab');
}

/** One host's OS report as the normal output prints it. */
export interface OsBlock {
  address: string;
  /** Every line after the port table and MAC line, the fingerprint's OS: lines excepted. */
  lines: string[];
}

/** Splits normal output ("Nmap scan report for" or "ferroscan scan report for") into OS blocks. */
export function osBlocks(text: string): Map<string, OsBlock> {
  const out = new Map<string, OsBlock>();
  for (const part of text.split(/^(?:Nmap|ferroscan) scan report for /m).slice(1)) {
    const all = part.split('\n');
    const address = all[0].trim().replace(/^.*\((.*)\)$/, '$1');
    // the OS part follows the MAC line, or the port table when the host is not on the link
    const mac = all.findIndex((l) => l.startsWith('MAC Address:'));
    const table = all.findIndex((l) => l.startsWith('PORT '));
    let start = mac >= 0 ? mac + 1 : table + 1;
    while (start < all.length && /^\d+\/(tcp|udp) /.test(all[start])) start++;
    const lines: string[] = [];
    for (const l of all.slice(start)) {
      if (/^(Read data files|OS detection performed|Nmap done|ferroscan done)/.test(l)) break;
      if (l !== '' && !l.startsWith('OS:')) lines.push(l);
    }
    out.set(address, { address, lines });
  }
  return out;
}

/** One host's OS elements in nmap's XML. */
export interface OsXml {
  /** The listed matches; each class as "type|vendor|family|gen|cpe cpe" (accuracy left out). */
  matches: { name: string; accuracy: number; line: number; classes: string[] }[];
  portsUsed: string[];
  fingerprint: string | undefined;
  distance: number | undefined;
  ipidClass: string | undefined;
  tsClass: string | undefined;
}

const attr = (el: string, name: string): string | undefined => new RegExp(`\\b${name}="([^"]*)"`).exec(el)?.[1];
const unescape = (s: string): string =>
  s.replace(/&#x?([0-9a-f]+);/gi, (m, n: string) => String.fromCharCode(parseInt(n, m.startsWith('&#x') ? 16 : 10))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** Address → the host's OS elements, from an -oX document of nmap or ferroscan. */
export function osXml(xml: string): Map<string, OsXml> {
  const out = new Map<string, OsXml>();
  for (const host of xml.split(/<host[ >]/).slice(1)) {
    const address = /<address addr="([^"]+)" addrtype="ipv4"/.exec(host)?.[1];
    if (!address) continue;
    const os = /<os>([\s\S]*?)<\/os>/.exec(host)?.[1] ?? '';
    const matches = [...os.matchAll(/<osmatch ([^>]*?)(\/>|>([\s\S]*?)<\/osmatch>)/g)].map((m) => ({
      name: unescape(attr(m[1], 'name') ?? ''),
      accuracy: Number(attr(m[1], 'accuracy')),
      line: Number(attr(m[1], 'line')),
      classes: [...(m[3] ?? '').matchAll(/<osclass ([^>]*?)\/?>((?:<cpe>[^<]*<\/cpe>)*)/g)].map((c) =>
        [attr(c[1], 'type'), attr(c[1], 'vendor'), attr(c[1], 'osfamily'), attr(c[1], 'osgen') ?? '', [...c[2].matchAll(/<cpe>([^<]*)<\/cpe>/g)].map((x) => x[1]).join(' ')].join('|'),
      ),
    }));
    const portsUsed = [...os.matchAll(/<portused ([^>]*)\/>/g)].map((m) => `${attr(m[1], 'state')}/${attr(m[1], 'proto')}`);
    const fp = /<osfingerprint fingerprint="([^"]*)"/.exec(os)?.[1];
    const distance = /<distance value="(\d+)"/.exec(host)?.[1];
    out.set(address, {
      matches,
      portsUsed,
      fingerprint: fp === undefined ? undefined : unescape(fp),
      distance: distance === undefined ? undefined : Number(distance),
      ipidClass: /<ipidsequence class="([^"]*)"/.exec(host)?.[1],
      tsClass: /<tcptssequence class="([^"]*)"/.exec(host)?.[1],
    });
  }
  return out;
}

/** The tests of a fingerprint (OS: lines or one per line): name → attribute → value; of
 *  tests printed more than once (several tries), the first. The SCAN line is left out. */
export function fingerprintTests(fp: string): Map<string, Map<string, string>> {
  const flat = fp
    .split('\n')
    .map((l) => l.replace(/^OS:/, ''))
    .join('');
  const tests = new Map<string, Map<string, string>>();
  for (const m of flat.matchAll(/([A-Z0-9]+)\(([^)]*)\)/g)) {
    if (m[1] === 'SCAN' || tests.has(m[1])) continue;
    tests.set(m[1], new Map(m[2] === '' ? [] : m[2].split('%').map((av) => av.split(/=(.*)/s).slice(0, 2) as [string, string])));
  }
  return tests;
}
