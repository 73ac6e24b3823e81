// Compares two scanners' service detection results (nmap's and ferroscan's -sV, read from -oX
// by test/helpers/service-xml.ts) port by port: the same ports, states and every <service>
// attribute and CPE alike. Values that change from one run to the next even against the same
// daemon are compared by shape: the few rules in VOLATILE below, each with why it exists; every
// other value must be equal. Also makes copies of XML files with those values reduced to their
// shape, so that Debian's ndiff can be asked for "no differences" too.
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { SERVICE_FIELDS, parseServiceXml, type PortService, type ServiceField, type ServiceRecord } from './service-xml.js';

/** One part of a value that is compared by its shape: every match of `pattern` becomes `shape(match)`. */
export interface VolatileRule {
  field: ServiceField;
  pattern: RegExp;
  shape: (match: string) => string;
  /** Why this part differs between runs: the rule's justification. */
  why: string;
}

/**
 * The only values compared by shape. A match of the pattern is replaced in both values by a
 * token that keeps its form but not its content; a value whose varying part has another form
 * (letters where nmap printed a number, a missing field) still differs.
 */
export const VOLATILE: readonly VolatileRule[] = [
  {
    // nmap-service-probes prints a daemon's uptime into extrainfo for memcached ("uptime 14
    // seconds", from STAT uptime) and a few other services ("uptime: 3 days"): two scans of the
    // same daemon, seconds apart, read different counts.
    field: 'extrainfo',
    pattern: /\buptime:? \d+(?: seconds?)?/g,
    shape: (m) => m.replace(/\d+/, '<n>'),
    why: 'a daemon uptime counts seconds since it started',
  },
  {
    // The fingerprint of an unrecognised service carries the scan's date (D=month/day) and clock
    // (Time=seconds since the epoch, in hex): they name when the scan ran, not what answered.
    field: 'servicefp',
    pattern: /%D=\d{1,2}\/\d{1,2}%Time=[0-9A-F]{1,16}%/g,
    shape: () => '%D=<m/d>%Time=<hex>%',
    why: 'the date and time of the scan',
  },
  {
    // ... and the scanner's own version (V=) and build platform (P=): they describe the program
    // that scanned, not the service. The intensity (I=) and every response record r(...) stay
    // exact: they are what the service sent to which probe.
    field: 'servicefp',
    pattern: /^SF-Port\d+-(?:TCP|UDP):V=[0-9A-Za-z.+-]+%/,
    shape: (m) => m.replace(/V=[^%]+/, 'V=<version>'),
    why: "the scanner's version",
  },
  {
    field: 'servicefp',
    pattern: /%P=[0-9A-Za-z_.+-]+%/,
    shape: () => '%P=<platform>%',
    why: "the scanner's build platform",
  },
];

/** A value with its volatile parts reduced to their shape (the rules of `field` only). */
export function shapeOf(field: ServiceField, value: string | undefined, rules: readonly VolatileRule[] = VOLATILE): string | undefined {
  if (value === undefined) return undefined;
  let v = value;
  for (const r of rules) if (r.field === field) v = v.replace(r.pattern, r.shape);
  return v;
}

export interface CompareOptions {
  /** The <service> attributes compared (default: all of them, and the CPEs). */
  fields?: readonly ServiceField[];
  /** Compare the CPE lists (default true). */
  cpe?: boolean;
  /** Volatile-value rules (default VOLATILE). */
  rules?: readonly VolatileRule[];
  /** Names for the two sides in messages (default "nmap" and "ferroscan"). */
  names?: [string, string];
}

const show = (v: string | undefined): string => (v === undefined ? '(absent)' : JSON.stringify(v));

/** The differences between two services of the same port, one message per differing attribute. */
export function compareService(key: string, a: ServiceRecord, b: ServiceRecord, opts: CompareOptions = {}): string[] {
  const [na, nb] = opts.names ?? ['nmap', 'ferroscan'];
  const rules = opts.rules ?? VOLATILE;
  const diffs: string[] = [];
  for (const f of opts.fields ?? SERVICE_FIELDS) {
    if (shapeOf(f, a[f], rules) !== shapeOf(f, b[f], rules)) diffs.push(`${key} ${f}: ${na} ${show(a[f])}, ${nb} ${show(b[f])}`);
  }
  if ((opts.cpe ?? true) && a.cpe.join('\n') !== b.cpe.join('\n')) {
    diffs.push(`${key} cpe: ${na} [${a.cpe.join(' ')}], ${nb} [${b.cpe.join(' ')}]`);
  }
  return diffs;
}

/**
 * Every difference between two scans' ports: ports only one side has, states, whether a port
 * has a service, and each service attribute (by shape where VOLATILE says so). Empty when they agree.
 */
export function compareServices(a: Map<string, PortService>, b: Map<string, PortService>, opts: CompareOptions = {}): string[] {
  const [na, nb] = opts.names ?? ['nmap', 'ferroscan'];
  const diffs: string[] = [];
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const k of keys) {
    const pa = a.get(k);
    const pb = b.get(k);
    if (!pa || !pb) {
      diffs.push(`${k}: only in ${pa ? na : nb}`);
      continue;
    }
    if (pa.state !== pb.state) diffs.push(`${k} state: ${na} ${pa.state}, ${nb} ${pb.state}`);
    if (!pa.service || !pb.service) {
      if (pa.service || pb.service) diffs.push(`${k}: a <service> only in ${pa.service ? na : nb}`);
      continue;
    }
    diffs.push(...compareService(k, pa.service, pb.service, opts));
  }
  return diffs;
}

/** compareServices on two XML texts. */
export function compareServiceXml(a: string, b: string, opts: CompareOptions = {}): string[] {
  return compareServices(parseServiceXml(a), parseServiceXml(b), opts);
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The XML text with every volatile value of every <service> element reduced to its shape, the
 * rest byte for byte: what ndiff is given, since ndiff compares extrainfo exactly.
 */
export function normalizeServiceXml(xml: string, rules: readonly VolatileRule[] = VOLATILE): string {
  return xml.replace(/<service\b[^>]*>/g, (tag) =>
    tag.replace(/\b([a-z]+)="([^"]*)"/g, (whole, attr: string, raw: string) => {
      if (!rules.some((r) => r.field === attr)) return whole;
      const value = raw.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      return `${attr}="${escapeAttr(shapeOf(attr as ServiceField, value, rules) ?? value)}"`;
    }),
  );
}

export interface NdiffResult {
  /** 0: no differences, 1: differences (ndiff's exit codes). */
  code: number;
  /** ndiff's text output. */
  text: string;
}

/**
 * Runs Debian's ndiff on normalised copies (normalizeServiceXml) of two XML files, written
 * beside `scratchPrefix`. ndiff counts host, port, service (name, product, version, extrainfo)
 * and script differences, never the header (scanner, arguments, times). Throws when ndiff
 * cannot read a file (its exit 2).
 */
export function ndiffServices(a: string, b: string, scratchPrefix: string): NdiffResult {
  const na = `${scratchPrefix}-a.norm.xml`;
  const nb = `${scratchPrefix}-b.norm.xml`;
  writeFileSync(na, normalizeServiceXml(readFileSync(a, 'utf8')));
  writeFileSync(nb, normalizeServiceXml(readFileSync(b, 'utf8')));
  const r = spawnSync('ndiff', [na, nb], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`ndiff failed (${r.status ?? r.signal}): ${r.stderr}${r.error?.message ?? ''}`);
  return { code: r.status, text: r.stdout };
}

