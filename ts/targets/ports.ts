// Port specifications → sorted, unique port numbers per protocol, with nmap's grammar:
// lists and ranges ("22,80,1000-2000"), open ends ("1024-", "-1024", "-" for 1-65535),
// exact service names ("http,ssh"), and protocol prefixes "T:" and "U:" that hold until
// the next prefix ("U:53,111,T:21-25,80"). Items before any prefix go to every protocol
// being scanned (the technique's protocol). Port 0 is scanned only when named explicitly.
// Also --top-ports/-F (ranked by ts/targets/services.ts, restricted to -p's ports when both are
// given, as nmap), and --exclude-ports.
import { PortError } from '../errors.js';
import { portsByName, topPorts, type Protocol } from './services.js';

export type { Protocol };
export const MAX_PORT = 65535;
/** How many ports are scanned when -p is not given, as nmap. */
export const DEFAULT_TOP_PORTS = 1000;
/** How many ports -F scans, as nmap. */
export const FAST_TOP_PORTS = 100;

/** Ports by protocol, each list ascending and unique. */
export interface PortLists {
  tcp: number[];
  udp: number[];
}

function bad(token: string, detail?: string): PortError {
  return new PortError(`invalid port specification "${token}"${detail ? ` (${detail})` : ''}`, token);
}

function portNumber(text: string, token: string): number {
  if (!/^\d+$/.test(text)) throw bad(token);
  const n = Number(text);
  if (n > MAX_PORT) throw bad(token, `ports are 0-${MAX_PORT}`);
  return n;
}

const PREFIX: Record<string, Protocol | undefined> = { T: 'tcp', U: 'udp' };

/** Adds the ports one item names to every protocol in `into`. */
function addItem(raw: string, token: string, spec: string, into: readonly Protocol[], out: Record<Protocol, Set<number>>): void {
  // An empty item ("22,,80") is named by the whole spec: an empty token says nothing.
  if (token === '') throw bad(raw === '' ? spec : raw);
  if (/^[A-Za-z]/.test(token)) {
    let found = false;
    for (const proto of into) {
      for (const p of portsByName(token, proto)) {
        out[proto].add(p);
        found = true;
      }
    }
    if (!found) throw bad(raw, 'unknown service name');
    return;
  }
  const dash = token.indexOf('-');
  let low: number;
  let high: number;
  if (dash < 0) low = high = portNumber(token, raw);
  else {
    const lowText = token.slice(0, dash);
    const highText = token.slice(dash + 1);
    // An open start means 1, not 0: port 0 has to be asked for by number.
    low = lowText === '' ? 1 : portNumber(lowText, raw);
    high = highText === '' ? MAX_PORT : portNumber(highText, raw);
    if (high < low) throw bad(raw, 'range ends before it starts');
  }
  for (const proto of into) for (let p = low; p <= high; p++) out[proto].add(p);
}

/**
 * Parses a -p string into per-protocol lists. Items without a prefix go to `protocols`
 * (the scan's protocols); prefixed items go to their protocol even when it is not scanned,
 * so the caller can tell the user. Throws PortError naming the bad item.
 */
export function parsePortSpec(spec: string, protocols: readonly Protocol[] = ['tcp']): PortLists {
  if (spec.trim() === '') throw bad(spec);
  const out: Record<Protocol, Set<number>> = { tcp: new Set(), udp: new Set() };
  let into: readonly Protocol[] = protocols;
  for (const raw of spec.split(',')) {
    let token = raw.trim();
    const prefix = /^([A-Za-z]):/.exec(token);
    if (prefix) {
      const letter = prefix[1].toUpperCase();
      const proto = PREFIX[letter];
      if (!proto) {
        const what = letter === 'S' ? 'SCTP ports (S:) are not supported' : letter === 'P' ? 'IP protocol scans (P:) are not supported' : 'prefixes are T: and U:';
        throw bad(raw.trim(), what);
      }
      into = [proto];
      token = token.slice(2);
    }
    addItem(raw.trim(), token, spec, into, out);
  }
  return { tcp: sorted(out.tcp), udp: sorted(out.udp) };
}

const sorted = (s: ReadonlySet<number>): number[] => [...s].sort((a, b) => a - b);

/**
 * Parses a -p value (string) or checks a list of numbers, for one protocol; undefined
 * means the default, the DEFAULT_TOP_PORTS most often open ports. Returns ascending
 * unique ports. A string naming only another protocol's ports ("U:53" for TCP) is an error.
 */
export function parsePorts(spec?: string | readonly number[], protocol: Protocol = 'tcp'): number[] {
  let ports: number[];
  if (spec === undefined) ports = parseTopPorts(DEFAULT_TOP_PORTS, protocol);
  else if (typeof spec === 'string') {
    ports = parsePortSpec(spec, [protocol])[protocol];
    if (ports.length === 0) throw bad(spec, `no ${protocol.toUpperCase()} ports; ${protocol === 'tcp' ? 'U: ports need a UDP scan (-sU)' : 'T: ports need a TCP scan'}`);
  } else {
    for (const p of spec) {
      if (!Number.isInteger(p) || p < 0 || p > MAX_PORT) throw bad(String(p), `ports are 0-${MAX_PORT}`);
    }
    ports = sorted(new Set(spec));
    if (ports.length === 0) throw bad('', 'no ports');
  }
  return ports;
}

/** The n most often open ports of a protocol, ascending (for --top-ports). */
export function parseTopPorts(n: number, protocol: Protocol = 'tcp'): number[] {
  if (!Number.isInteger(n) || n < 1) throw new PortError(`invalid --top-ports "${n}" (needs a positive integer)`, String(n));
  return [...topPorts(n, protocol)].sort((a, b) => a - b);
}

export interface PortSelection {
  /** -p string. */
  ports?: string;
  /** --top-ports N. */
  topPorts?: number;
  /** -F: the top FAST_TOP_PORTS. */
  fast?: boolean;
  /** --exclude-ports string, same grammar as -p. */
  excludePorts?: string;
  /** Protocols the scan technique probes; unprefixed items go to these. */
  protocols: readonly Protocol[];
}

/**
 * The ports a scan probes, per protocol, as nmap chooses them: -p's list; or the top N
 * (--top-ports N, -F, or 1000 by default) by frequency, among -p's ports when -p is also
 * given; then --exclude-ports removed. Lists of protocols not scanned keep -p's prefixed
 * ports (used once that protocol's scan exists) and are otherwise empty.
 */
export function selectPorts(sel: PortSelection): PortLists {
  if (sel.topPorts !== undefined && (!Number.isInteger(sel.topPorts) || sel.topPorts < 1)) {
    throw new PortError(`invalid --top-ports "${sel.topPorts}" (needs a positive integer)`, String(sel.topPorts));
  }
  const explicit = sel.ports === undefined ? undefined : parsePortSpec(sel.ports, sel.protocols);
  const excluded = sel.excludePorts === undefined ? undefined : parsePortSpec(sel.excludePorts, ['tcp', 'udp']);
  const top = sel.topPorts ?? (sel.fast ? FAST_TOP_PORTS : undefined);
  const out: PortLists = { tcp: [], udp: [] };
  for (const proto of ['tcp', 'udp'] as const) {
    const drop = new Set(excluded?.[proto] ?? []);
    let list: number[];
    if (top === undefined && explicit) list = explicit[proto];
    else if (!sel.protocols.includes(proto)) list = explicit?.[proto] ?? [];
    else {
      // nmap ranks after removing excluded ports, and among -p's ports when both are given.
      const allowed = explicit ? new Set(explicit[proto]) : undefined;
      const ranked = topPorts(65536, proto).filter((p) => !drop.has(p) && (!allowed || allowed.has(p)));
      list = ranked.slice(0, top ?? DEFAULT_TOP_PORTS).sort((a, b) => a - b);
    }
    out[proto] = list.filter((p) => !drop.has(p));
  }
  const scanned = sel.protocols.reduce((n, p) => n + out[p].length, 0);
  if (scanned === 0) {
    const names = sel.protocols.map((p) => p.toUpperCase()).join('/');
    throw new PortError(`no ${names} ports left to scan${sel.ports !== undefined ? ` in "${sel.ports}"` : ''}${sel.excludePorts !== undefined ? ` after --exclude-ports "${sel.excludePorts}"` : ''}`, sel.ports ?? '');
  }
  return out;
}
