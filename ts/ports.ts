// Port specifications (-p) → sorted, unique port numbers. Accepts nmap's forms: lists and
// ranges ("22,80,1000-2000"), open ends ("1024-", "-1024", "-" for 1-65535), service
// names ("http") and a "T:" prefix. Port 0 is scanned only when named explicitly.
import { PortError } from './errors.js';
import { portsByName, topPorts } from './services.js';

export const MAX_PORT = 65535;
/** How many ports are scanned when -p is not given, as nmap. */
export const DEFAULT_TOP_PORTS = 1000;

function bad(token: string, detail?: string): PortError {
  return new PortError(`invalid port specification "${token}"${detail ? ` (${detail})` : ''}`, token);
}

function portNumber(text: string, token: string): number {
  if (!/^\d+$/.test(text)) throw bad(token);
  const n = Number(text);
  if (n > MAX_PORT) throw bad(token, `ports are 0-${MAX_PORT}`);
  return n;
}

/** Adds the ports named by one comma-separated token to `out`. */
function addToken(raw: string, spec: string, out: Set<number>): void {
  let token = raw.trim();
  if (/^[Tt]:/.test(token)) token = token.slice(2);
  else if (/^[A-Za-z]:/.test(token)) throw bad(raw, 'only TCP ports are supported yet');
  // An empty item ("22,,80") is named by the whole spec: an empty token says nothing.
  if (token === '') throw bad(spec);
  if (/^[A-Za-z]/.test(token)) {
    const ports = portsByName(token);
    if (ports.length === 0) throw bad(raw, 'unknown service name');
    for (const p of ports) out.add(p);
    return;
  }
  const dash = token.indexOf('-');
  if (dash < 0) {
    out.add(portNumber(token, raw));
    return;
  }
  const lowText = token.slice(0, dash);
  const highText = token.slice(dash + 1);
  // An open start means 1, not 0: port 0 has to be asked for by number.
  const low = lowText === '' ? 1 : portNumber(lowText, raw);
  const high = highText === '' ? MAX_PORT : portNumber(highText, raw);
  if (high < low) throw bad(raw, 'range ends before it starts');
  for (let p = low; p <= high; p++) out.add(p);
}

/**
 * Parses a -p value (string) or checks a list of numbers; undefined means the default,
 * the DEFAULT_TOP_PORTS most often open TCP ports. Returns ascending unique ports.
 */
export function parsePorts(spec?: string | readonly number[]): number[] {
  const out = new Set<number>();
  if (spec === undefined) {
    for (const p of topPorts(DEFAULT_TOP_PORTS)) out.add(p);
  } else if (typeof spec === 'string') {
    if (spec.trim() === '') throw bad(spec);
    for (const token of spec.split(',')) addToken(token, spec, out);
  } else {
    for (const p of spec) {
      if (!Number.isInteger(p) || p < 0 || p > MAX_PORT) throw bad(String(p), `ports are 0-${MAX_PORT}`);
      out.add(p);
    }
  }
  if (out.size === 0) throw bad(String(spec), 'no ports');
  return [...out].sort((a, b) => a - b);
}

/** The n most often open TCP ports, ascending (for --top-ports). */
export function parseTopPorts(n: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new PortError(`invalid --top-ports "${n}" (needs a positive integer)`, String(n));
  return [...topPorts(n)].sort((a, b) => a - b);
}
