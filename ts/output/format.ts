// Formatting shared by the writers: nmap's timestamps, port range lists, the command line,
// and escaping for XML, JSON and CSV.
import type { Technique } from '../verdicts/classify.js';
import { protectXml } from './escape.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** ctime(3) in local time, as nmap's "scan initiated" and "done at": "Thu Nov  6 01:51:15 2026". */
export function ctime(date: Date): string {
  const time = `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2, ' ')} ${time} ${date.getFullYear()}`;
}

/** Whole seconds since the epoch. */
export function unixTime(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** Ascending ports as nmap lists them: "1-20,24,26-79". */
export function portRanges(ports: Iterable<number>): string {
  const parts: string[] = [];
  let start = -1;
  let prev = -1;
  for (const p of ports) {
    if (start >= 0 && p === prev + 1) {
      prev = p;
      continue;
    }
    if (start >= 0) parts.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = prev = p;
  }
  if (start >= 0) parts.push(start === prev ? `${start}` : `${start}-${prev}`);
  return parts.join(',');
}

/** The command line as nmap records it: words joined by spaces, unquoted. */
export function commandLine(args: readonly string[]): string {
  return args.join(' ');
}

/** nmap's scaninfo type and protocol for each technique (nmap.dtd's scan_types). */
export function scanInfoType(technique: Technique | string): { type: string; protocol: 'tcp' | 'udp' } {
  // --scanflags scans are reported by nmap as the SYN scan they are based on.
  const types: Record<string, string> = { syn: 'syn', flags: 'syn', connect: 'connect', ack: 'ack', window: 'window', null: 'null', fin: 'fin', xmas: 'xmas', maimon: 'maimon', udp: 'udp' };
  return { type: types[technique] ?? technique, protocol: technique === 'udp' ? 'udp' : 'tcp' };
}

/**
 * Text safe inside a double-quoted XML attribute (tabs and newlines kept as references);
 * characters XML 1.0 cannot carry, and terminal controls, become \xHH (escape.ts).
 */
export function xmlAttr(value: string | number): string {
  return protectXml(String(value))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/**
 * The command line for nmaprun's args attribute and the opening comment: "--" may not appear
 * inside an XML comment, so nmap writes "-&#45;" in both places, and so do we.
 */
export function xmlArgs(value: string): string {
  return xmlAttr(value).replace(/--/g, '-&#45;');
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF. */
export function csvField(value: string | number | undefined): string {
  const s = value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
