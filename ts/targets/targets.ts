// ts/targets/ — what to scan. Takes target and port specifications as typed (command line,
// -iL files, library options); gives a TargetSet (merged u32 ranges for the engine, pieces in
// order for output) and sorted port lists (ports.ts), with the service table (services.ts),
// UDP payloads (udp-payloads.ts), the default blocklist and the list scan (list-scan.ts).
// This file is the target grammar.
//
// Target specifications → addresses, with nmap's grammar: addresses, CIDR blocks, octet
// ranges and lists ("198.18.0-255.1-254", "198.18.0,2.1-3", "198.18.*.1", open ends
// "1-" and "-9"), masscan's full ranges ("198.18.0.1-198.18.1.9"), host names, -iL lists,
// --exclude/--excludefile, and the default blocklist for sets larger than a /8.
//
// The result is (a) pieces in command-line order for output, each address once (the first
// spec that names an address wins), and (b) merged inclusive u32 ranges for the engine.
// Nothing is expanded per address: 0.0.0.0/0 costs the same as one host.
//
// The bound: nmap's octet grammar can name up to 2^32 addresses that are not contiguous
// ("0-255.0-255.0-255.1" is 2^24 single addresses). Such a spec becomes one range per
// contiguous run, computed from the octet sets without listing addresses; a target set that
// needs more than MAX_RANGES runs (after exclusions) is refused with a one-line error rather
// than held in memory. At 2^18 runs the parser's peak is about 100 MB of JS heap and the
// engine's range list 2 MiB; "10.0-255.0-255.1" (65,536 runs) is well inside.
//
// Where nmap differs, on purpose: a prefix longer than /32 is an error (nmap assumes /32);
// two- and three-part numbers ("198.18") are errors (nmap hands them to inet_aton);
// repeated addresses are listed once (nmap lists them again); --exclude and --excludefile
// add up (nmap takes one of them). Octets with leading zeros are decimal, as nmap reads them.
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { TargetError } from '../errors.js';
import { formatIPv4, parseIPv4, type AddressRange } from './address.js';
import { formatIPv6, type AddressValue } from './address6.js';
import { DEFAULT_BLOCKLIST, DEFAULT_BLOCKLIST_THRESHOLD, type BlocklistEntry } from './blocklist.js';
import { containsAddress6, looksIPv6, needsIPv6Flag, type TargetSet6 } from './targets6.js';

/** A run of addresses in output order; `hostname` is set when the spec was a name. */
export interface TargetPiece extends AddressRange {
  hostname?: string;
  /** A name's other addresses, not scanned (nmap's "Other addresses for NAME (not scanned)"). */
  otherAddresses?: readonly string[];
}

/** One address to report, with the name it was given by (if any). */
export interface TargetEntry {
  address: string;
  /** A number for IPv4, a bigint for IPv6 (address6.ts). */
  value: AddressValue;
  hostname?: string;
  otherAddresses?: readonly string[];
}

export interface TargetSet {
  /** IPv4 (absent or 4); IPv6 sets are TargetSet6 (targets6.ts). */
  family?: 4;
  /** Disjoint pieces in the order the specs named them (first mention wins). */
  pieces: TargetPiece[];
  /** Sorted, merged ranges for the engine. */
  ranges: AddressRange[];
  /** Number of distinct addresses. */
  count: number;
  /** The default blocklist entries taken out of this set (empty when it was not applied). */
  blocklist?: readonly BlocklistEntry[];
  /** Addresses named more than once (by overlapping or repeated specs), each kept once. */
  repeated?: number;
}

export interface TargetOptions {
  /** --resolve-all: scan every IPv4 address of a name, not only the first. */
  resolveAll?: boolean;
  /** --exclude / --excludefile specs: never listed, never probed. */
  exclude?: readonly string[];
  /** Apply the default blocklist to sets larger than a /8 (default true). */
  defaultBlocklist?: boolean;
  /**
   * Called for a host name that does not resolve; the name is then left out and the rest
   * parsed, as nmap goes on past "Failed to resolve". Without it, such a name throws.
   */
  onUnresolved?: (error: TargetError) => void;
}

/** Resolves a name to its IPv4 addresses in the resolver's order (a single string is one address). */
export type Resolver = (hostname: string) => Promise<string | readonly string[]>;

/** The most contiguous runs a target set may need (see the header). */
export const MAX_RANGES = 2 ** 18;
const ALL = 0xffffffff;

/** Resolves a name to its first IPv4 address, in the resolver's order. */
export const resolveIPv4 = async (hostname: string): Promise<string> => (await lookup(hostname, { family: 4 })).address;

/** Resolves a name to all its IPv4 addresses in the system resolver's order, as nmap does. */
export const resolveAllIPv4: Resolver = async (hostname) => (await lookup(hostname, { family: 4, all: true })).map((a) => a.address);

// Letters, digits and hyphens in dot-separated labels (RFC 1123), optional trailing dot.
const HOSTNAME = /^(?=.{1,253}\.?$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function invalid(token: string, why?: string): TargetError {
  return new TargetError(`invalid target "${token}"${why ? `: ${why}` : ''}`, token);
}

function tooMany(token: string): TargetError {
  return new TargetError(`target "${token}" splits into more than ${MAX_RANGES} separate ranges, the most ferroscan holds; narrow it or split the scan`, token);
}

// ---------------------------------------------------------------------------------------
// One spec

/** An octet number as nmap reads it: decimal digits, leading zeros allowed, 0-255. */
function octetNumber(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 255 ? n : undefined;
}

/**
 * nmap's octet grammar: four dot-separated octets, each "*" or a comma list of "N", "N-M",
 * "N-", "-M", "-". Returns one 256-entry membership table per octet.
 */
function parseOctets(text: string): Uint8Array[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: Uint8Array[] = [];
  for (const part of parts) {
    const set = new Uint8Array(256);
    if (part === '*') set.fill(1);
    else {
      for (const item of part.split(',')) {
        const dash = item.indexOf('-');
        const loText = dash < 0 ? item : item.slice(0, dash);
        const hiText = dash < 0 ? item : item.slice(dash + 1);
        const lo = loText === '' && dash >= 0 ? 0 : octetNumber(loText);
        const hi = hiText === '' && dash >= 0 ? 255 : octetNumber(hiText);
        if (lo === undefined || hi === undefined || hi < lo) return undefined;
        set.fill(1, lo, hi + 1);
      }
    }
    octets.push(set);
  }
  return octets;
}

/** Widens each octet set by a CIDR prefix, as nmap applies a netmask to octet ranges. */
function applyPrefix(octets: Uint8Array[], bits: number): void {
  for (let i = 0; i < 4; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i)); // high bits of this octet under the mask
    if (keep === 8) continue;
    const mask = (0xff << (8 - keep)) & 0xff;
    const heads = new Uint8Array(256);
    for (let v = 0; v < 256; v++) if (octets[i][v]) heads[v & mask] = 1;
    for (let v = 0; v < 256; v++) octets[i][v] = heads[v & mask];
  }
}

function runsOf(set: Uint8Array): [number, number][] {
  const runs: [number, number][] = [];
  for (let v = 0; v < 256; v++) {
    if (!set[v]) continue;
    const start = v;
    while (v < 255 && set[v + 1]) v++;
    runs.push([start, v]);
  }
  return runs;
}

/**
 * The contiguous runs of an octet product, ascending and merged, without visiting single
 * addresses: octets after the last partial one are whole, so each run of that octet is one
 * block per combination of the octets before it. Throws beyond MAX_RANGES runs.
 */
function octetRanges(octets: Uint8Array[], token: string): AddressRange[] {
  let j = 3;
  while (j >= 0 && octets[j].every((b) => b === 1)) j--;
  if (j < 0) return [{ start: 0, end: ALL }];
  const values = octets.slice(0, j).map((set) => runsOf(set).flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, k) => a + k)));
  const runs = runsOf(octets[j]);
  if (runs.length === 0 || values.some((v) => v.length === 0)) return [];
  const unit = 2 ** (8 * (3 - j));
  const out: AddressRange[] = [];
  const index = new Array<number>(j).fill(0);
  for (;;) {
    let prefix = 0;
    for (let i = 0; i < j; i++) prefix = prefix * 256 + values[i][index[i]];
    for (const [a, b] of runs) {
      const start = (prefix * 256 + a) * unit;
      const end = (prefix * 256 + b + 1) * unit - 1;
      const last = out[out.length - 1];
      if (last && last.end + 1 === start) last.end = end;
      else {
        if (out.length === MAX_RANGES) throw tooMany(token);
        out.push({ start, end });
      }
    }
    let i = j - 1;
    while (i >= 0 && ++index[i] === values[i].length) index[i--] = 0;
    if (i < 0) return out;
  }
}

/** What one spec names before resolution. */
export type ParsedSpec =
  | { kind: 'ranges'; ranges: AddressRange[] }
  | { kind: 'name'; hostname: string; bits?: number };

/** Splits "expr/bits" at the last slash, as nmap; bits must be decimal digits. */
function splitPrefix(token: string, max: number): { head: string; bits?: number } {
  const slash = token.lastIndexOf('/');
  if (slash < 0) return { head: token };
  const text = token.slice(slash + 1);
  if (!/^\d{1,3}$/.test(text) || Number(text) > max) throw invalid(token, `prefix length must be 0-${max}`);
  return { head: token.slice(0, slash), bits: Number(text) };
}

/** Parses one spec that needs no resolution, or says it is a name; throws naming a bad one. */
export function parseTargetSpec(token: string): ParsedSpec {
  if (token === '') throw invalid(token);
  if (token.includes(':')) {
    // Parsed so that a typo is told apart from a valid IPv6 target given without -6.
    const { head } = splitPrefix(token, 128);
    if (isIPv6(head) || looksIPv6(token)) throw needsIPv6Flag(token);
    throw invalid(token);
  }
  const { head, bits } = splitPrefix(token, 32);
  // masscan's full range: 198.18.0.1-198.18.1.9.
  const full = /^([\d.]+)-(\d+\.\d+\.\d+\.\d+)$/.exec(head);
  if (full && full[1].split('.').length === 4) {
    if (bits !== undefined) throw invalid(token, 'a range cannot take a prefix length');
    const start = quad(full[1]);
    const end = quad(full[2]);
    if (start === undefined || end === undefined) throw invalid(token);
    if (end < start) throw invalid(token, 'range ends before it starts');
    return { kind: 'ranges', ranges: [{ start, end }] };
  }
  if (/^[\d.,*-]+$/.test(head)) {
    const octets = parseOctets(head);
    if (!octets) throw invalid(token, rangeProblem(head));
    if (bits !== undefined) applyPrefix(octets, bits);
    return { kind: 'ranges', ranges: octetRanges(octets, token) };
  }
  if (HOSTNAME.test(head)) return bits === undefined ? { kind: 'name', hostname: head } : { kind: 'name', hostname: head, bits };
  throw invalid(token);
}

/** A dotted quad with nmap's reading of octets (decimal, leading zeros allowed). */
function quad(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    const n = octetNumber(p);
    if (n === undefined) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/** A hint for the common mistakes in octet specs. */
function rangeProblem(head: string): string | undefined {
  const parts = head.split('.');
  if (parts.length !== 4) return 'an IPv4 address has four octets';
  for (const part of parts) {
    for (const item of part.split(',')) {
      const m = /^(\d*)-(\d*)$/.exec(item);
      if (m && m[1] !== '' && m[2] !== '' && Number(m[2]) < Number(m[1]) && Number(m[1]) <= 255) return 'range ends before it starts';
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Sets

/** Sorts and merges ranges that overlap or touch. */
export function mergeRanges(input: readonly AddressRange[]): AddressRange[] {
  const sorted = [...input].sort((a, b) => a.start - b.start);
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** Index of the first range in `sorted` (merged) whose end is at or after `value`. */
function firstEndingFrom(sorted: readonly AddressRange[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid].end < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Removes `covered` (sorted, merged) from every piece, keeping order; bounded by MAX_RANGES. */
function subtractAll(pieces: readonly TargetPiece[], covered: readonly AddressRange[], what: string): TargetPiece[] {
  if (covered.length === 0) return [...pieces];
  const out: TargetPiece[] = [];
  const push = (p: TargetPiece): void => {
    if (out.length === MAX_RANGES) throw tooMany(what);
    out.push(p);
  };
  for (const piece of pieces) {
    let next = piece.start;
    for (let k = firstEndingFrom(covered, piece.start); k < covered.length && next <= piece.end; k++) {
      const c = covered[k];
      if (c.start > piece.end) break;
      if (c.start > next) push({ ...piece, start: next, end: c.start - 1 });
      next = c.end + 1;
    }
    if (next <= piece.end) push(next === piece.start ? piece : { ...piece, start: next, end: piece.end });
  }
  return out;
}

interface Item extends TargetPiece {
  /** Spec order: lower wins where specs overlap. */
  order: number;
}

/** Min-heap of items by spec order. */
class OrderHeap {
  private readonly a: Item[] = [];
  get size(): number {
    return this.a.length;
  }
  top(): Item {
    return this.a[0];
  }
  push(x: Item): void {
    const a = this.a;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p].order <= a[i].order) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): void {
    const a = this.a;
    const last = a.pop()!;
    if (a.length === 0) return;
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l].order < a[m].order) m = l;
      if (r < a.length && a[r].order < a[m].order) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i], a[m]];
      i = m;
    }
  }
}

const strip = (item: Item, start: number, end: number): TargetPiece => {
  const p: TargetPiece = { start, end };
  if (item.hostname !== undefined) p.hostname = item.hostname;
  if (item.otherAddresses !== undefined) p.otherAddresses = item.otherAddresses;
  return p;
};

/**
 * Turns spec items into disjoint pieces where every address belongs to the first spec
 * naming it, in spec order: a sweep over start points with a heap of the live items.
 */
function firstMentionWins(items: readonly Item[]): TargetPiece[] {
  // Common case: items already disjoint in address order (one CIDR, one octet spec, ...).
  let disjoint = true;
  for (let i = 1; i < items.length && disjoint; i++) disjoint = items[i].start > items[i - 1].end;
  if (disjoint) return items.map((it) => strip(it, it.start, it.end));

  const sorted = [...items].sort((a, b) => a.start - b.start || a.order - b.order);
  const segments: { item: Item; start: number; end: number }[] = [];
  const heap = new OrderHeap();
  let i = 0;
  let pos = 0;
  for (;;) {
    if (heap.size === 0) {
      if (i >= sorted.length) break;
      pos = Math.max(pos, sorted[i].start);
    }
    while (i < sorted.length && sorted[i].start <= pos) {
      if (sorted[i].end >= pos) heap.push(sorted[i]);
      i++;
    }
    while (heap.size > 0 && heap.top().end < pos) heap.pop();
    if (heap.size === 0) continue;
    const top = heap.top();
    const end = i < sorted.length ? Math.min(top.end, sorted[i].start - 1) : top.end;
    const last = segments[segments.length - 1];
    if (last && last.item === top && last.end + 1 === pos) last.end = end;
    else segments.push({ item: top, start: pos, end });
    if (end === ALL) break;
    pos = end + 1;
  }
  segments.sort((a, b) => a.item.order - b.item.order || a.start - b.start);
  const pieces: TargetPiece[] = [];
  let prev: (typeof segments)[number] | undefined;
  for (const s of segments) {
    if (prev && prev.item === s.item && prev.end + 1 === s.start) {
      prev.end = s.end;
      pieces[pieces.length - 1].end = s.end;
      continue;
    }
    pieces.push(strip(s.item, s.start, s.end));
    prev = s;
  }
  return pieces;
}

const toList = (r: string | readonly string[]): readonly string[] => (typeof r === 'string' ? [r] : r);

async function resolveName(hostname: string, token: string, resolve: Resolver): Promise<number[]> {
  let answer: readonly string[];
  try {
    answer = toList(await resolve(hostname));
  } catch {
    throw new TargetError(`failed to resolve "${hostname}"`, token);
  }
  const values = answer.map(parseIPv4).filter((v): v is number => v !== undefined);
  if (values.length === 0) throw new TargetError(`failed to resolve "${hostname}" to an IPv4 address`, token);
  return values;
}

function cidrOf(value: number, bits: number | undefined): AddressRange {
  if (bits === undefined) return { start: value, end: value };
  const size = 2 ** (32 - bits);
  const start = value - (value % size);
  return { start, end: start + size - 1 };
}

/** Ranges named by exclusion specs: names exclude all their addresses, as nmap. */
export async function parseExcludes(specs: readonly string[], resolve: Resolver = resolveAllIPv4): Promise<AddressRange[]> {
  const ranges: AddressRange[] = [];
  for (const raw of specs) {
    const token = raw.trim();
    let spec: ParsedSpec;
    try {
      spec = parseTargetSpec(token);
    } catch (e) {
      // An IPv6 exclusion cannot match an IPv4 target; nmap ignores it too.
      if (e instanceof TargetError && e.message.includes('you have to use the -6 option')) continue;
      if (e instanceof TargetError) throw new TargetError(e.message.replace(/^invalid target/, 'invalid exclusion'), token);
      throw e;
    }
    if (spec.kind === 'ranges') ranges.push(...spec.ranges);
    else for (const v of await resolveName(spec.hostname, token, resolve)) ranges.push(cidrOf(v, spec.bits));
  }
  return mergeRanges(ranges);
}

/** Parses every spec, resolving names through `resolve`, then removes exclusions and, for sets larger than a /8, the default blocklist. */
export async function parseTargets(specs: readonly string[], resolve: Resolver = resolveAllIPv4, options: TargetOptions = {}): Promise<TargetSet> {
  const items: Item[] = [];
  let order = 0;
  let token = '';
  const add = (item: Item): void => {
    if (items.length === MAX_RANGES) throw tooMany(token);
    items.push(item);
  };
  for (const raw of specs) {
    token = raw.trim();
    const spec = parseTargetSpec(token);
    if (spec.kind === 'ranges') {
      const o = order++;
      for (const r of spec.ranges) add({ start: r.start, end: r.end, order: o });
      continue;
    }
    const { hostname } = spec;
    let resolved: number[];
    try {
      resolved = await resolveName(hostname, token, resolve);
    } catch (e) {
      if (!(options.onUnresolved && e instanceof TargetError)) throw e;
      options.onUnresolved(e);
      continue;
    }
    const [first, ...others] = resolved;
    // nmap keeps the name only on the address it resolved to, not on the rest of its block.
    const o = order++;
    const block = cidrOf(first, spec.bits);
    if (block.start < first) add({ start: block.start, end: first - 1, order: o });
    const named: Item = { start: first, end: first, order: o, hostname };
    if (others.length > 0 && !options.resolveAll) named.otherAddresses = others.map(formatIPv4);
    add(named);
    if (first < block.end) add({ start: first + 1, end: block.end, order: o });
    // --resolve-all: the other addresses as hosts of their own, in the resolver's order
    // (nmap applies a prefix to the first address only).
    if (options.resolveAll) for (const v of others) add({ start: v, end: v, order: order++, hostname });
  }

  let pieces = firstMentionWins(items);
  // Each address is probed once however often it is named (nmap would scan it again).
  const repeated = items.reduce((n, r) => n + (r.end - r.start + 1), 0) - countOf(pieces);
  if (options.exclude && options.exclude.length > 0) pieces = subtractAll(pieces, await parseExcludes(options.exclude, resolve), options.exclude.join(','));
  let count = countOf(pieces);
  let blocklist: BlocklistEntry[] = [];
  if (count > DEFAULT_BLOCKLIST_THRESHOLD && options.defaultBlocklist !== false) {
    blocklist = [...DEFAULT_BLOCKLIST];
    pieces = subtractAll(pieces, mergeRanges(DEFAULT_BLOCKLIST), 'the default blocklist');
    count = countOf(pieces);
  }
  return { pieces, ranges: mergeRanges(pieces), count, blocklist, repeated };
}

/** The set without the addresses of `drop` (sorted, merged ranges): e.g. targets that have no route. */
export function withoutRanges(set: TargetSet, drop: readonly AddressRange[]): TargetSet {
  if (drop.length === 0) return set;
  const pieces = subtractAll(set.pieces, mergeRanges(drop), 'the unreachable targets');
  return { ...set, pieces, ranges: mergeRanges(pieces), count: countOf(pieces) };
}

function countOf(pieces: readonly AddressRange[]): number {
  return pieces.reduce((n, r) => n + (r.end - r.start + 1), 0);
}

// ---------------------------------------------------------------------------------------
// Lists of specs (-iL, --excludefile, --exclude)

/** Splits a target list as nmap reads -iL: specs separated by any whitespace; "#" starts a comment to the end of the line. */
export function parseTargetList(text: string): string[] {
  return text.split('\n').flatMap((line) => {
    const hash = line.indexOf('#');
    return (hash < 0 ? line : line.slice(0, hash)).split(/\s+/).filter((s) => s !== '');
  });
}

/** Reads a target list from a file, or from standard input when `path` is "-". */
export async function readTargetList(path: string, option = '-iL'): Promise<string[]> {
  let text: string;
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } else text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TargetError(`cannot read ${option} file "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path);
  }
  return parseTargetList(text);
}

/** Splits an --exclude value on commas, as nmap does; an empty entry is an error. */
export function splitExcludeList(value: string): string[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((s) => s === '')) throw new TargetError(`invalid --exclude "${value}": empty entry`, value);
  return parts;
}

// ---------------------------------------------------------------------------------------
// Walking a set

/** A target set of either family. */
export type AnyTargetSet = TargetSet | TargetSet6;

export function isIPv6Set(set: AnyTargetSet): set is TargetSet6 {
  return set.family === 6;
}

/** Every target address in output order; lazy, so huge sets can be walked without storing them. */
export function* targetEntries(set: AnyTargetSet): Generator<TargetEntry> {
  if (isIPv6Set(set)) {
    for (const p of set.pieces) {
      for (let v = p.start; v <= p.end; v++) {
        const entry: TargetEntry = { address: formatIPv6(v), value: v };
        if (p.hostname !== undefined) entry.hostname = p.hostname;
        if (p.otherAddresses !== undefined) entry.otherAddresses = p.otherAddresses;
        yield entry;
      }
    }
    return;
  }
  for (const p of set.pieces) {
    for (let v = p.start; v <= p.end; v++) {
      const entry: TargetEntry = { address: formatIPv4(v), value: v };
      if (p.hostname !== undefined) entry.hostname = p.hostname;
      if (p.otherAddresses !== undefined) entry.otherAddresses = p.otherAddresses;
      yield entry;
    }
  }
}

/** True when the address (a number for IPv4, a bigint for IPv6) is one of the targets; binary search over merged ranges. */
export function containsAddress(set: AnyTargetSet, value: AddressValue): boolean {
  if (isIPv6Set(set)) return typeof value === 'bigint' && containsAddress6(set, value);
  if (typeof value !== 'number') return false;
  const k = firstEndingFrom(set.ranges, value);
  return k < set.ranges.length && set.ranges[k].start <= value;
}

/** Flattens ranges as the engine wants them: [start0, end0, start1, end1, ...]. */
export function engineRanges(set: TargetSet): number[] {
  const out = new Array<number>(set.ranges.length * 2);
  set.ranges.forEach((r, i) => {
    out[2 * i] = r.start;
    out[2 * i + 1] = r.end;
  });
  return out;
}

export interface TargetInputs {
  /** Specs from the command line. */
  specs: readonly string[];
  /** -iL FILE ("-" for standard input). */
  inputList?: string;
  /** --exclude value (comma-separated). */
  exclude?: string;
  /** --excludefile FILE. */
  excludeFile?: string;
}

/** Gathers target and exclusion specs from the command line's options, reading any files. */
export async function gatherTargetSpecs(inputs: TargetInputs): Promise<{ specs: string[]; exclude: string[] }> {
  const specs = [...inputs.specs];
  // nmap takes command-line specs first, then the -iL list.
  if (inputs.inputList !== undefined) specs.push(...(await readTargetList(inputs.inputList, '-iL')));
  const exclude: string[] = [];
  if (inputs.exclude !== undefined) exclude.push(...splitExcludeList(inputs.exclude));
  if (inputs.excludeFile !== undefined) exclude.push(...(await readTargetList(inputs.excludeFile, '--excludefile')));
  return { specs, exclude };
}
