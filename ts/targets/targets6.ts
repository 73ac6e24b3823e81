// IPv6 targets (nmap's -6), beside the IPv4 grammar of targets.ts: what nmap 7.93 takes for
// IPv6 — literals, with a "%zone" for link-local ones ("fe80::1%eth0"), CIDR blocks
// ("2001:2:0:1::/112"), host names resolved to their AAAA records, -iL lists and exclusions —
// gives a TargetSet6: pieces in command-line order (each address once, the first spec that
// names it wins), merged bigint ranges for the engine, and the zone when one was given.
//
// As in nmap: an IPv4 target with -6 is refused with nmap's words; octet ranges and
// "a-b" ranges do not exist for IPv6. Where ferroscan differs, on purpose: a prefix longer
// than /128 is an error (nmap takes the address alone), and so is a bad target in a list
// (nmap warns and goes on); all zones of a set must name one interface, since one engine scan
// leaves by one interface. No default blocklist applies: an IPv6 set is bounded by the
// engine's 2^64 probes instead.
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { TargetError } from '../errors.js';
import { formatIPv6, MAX_IPV6, parseIPv6, splitZone, type AddressRange6 } from './address6.js';

/** A run of IPv6 addresses in output order; `hostname` is set when the spec was a name. */
export interface TargetPiece6 extends AddressRange6 {
  hostname?: string;
  otherAddresses?: readonly string[];
}

export interface TargetSet6 {
  family: 6;
  /** Disjoint pieces in the order the specs named them (first mention wins). */
  pieces: TargetPiece6[];
  /** Sorted, merged ranges for the engine. */
  ranges: AddressRange6[];
  /** Number of distinct addresses (a double: exact up to 2^53). */
  count: number;
  /** The interface of link-local targets ("%eth0"), when given. */
  zone?: string;
  blocklist?: undefined;
  /** Addresses named more than once (not counted for IPv6 sets). */
  repeated?: undefined;
}

/** Resolves a name to its IPv6 addresses in the resolver's order. */
export type Resolver6 = (hostname: string) => Promise<string | readonly string[]>;

export const resolveAllIPv6: Resolver6 = async (hostname) => (await lookup(hostname, { family: 6, all: true })).map((a) => a.address);

export interface TargetOptions6 {
  resolveAll?: boolean;
  exclude?: readonly string[];
}

/** The most separate runs a set may hold, as for IPv4 (targets.ts). */
const MAX_RANGES = 2 ** 18;

const HOSTNAME = /^(?=.{1,253}\.?$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const ZONE = /^[A-Za-z0-9_.-]{1,15}$/;

function invalid(token: string, why?: string): TargetError {
  return new TargetError(`invalid target "${token}"${why ? `: ${why}` : ''}`, token);
}

/** nmap's words for an IPv4 target given with -6. */
function notIPv6(token: string, name = token): TargetError {
  return new TargetError(`Hostname ${name} resolves, but not to any IPv6 address. Try scanning without -6`, token);
}

/** What one spec names before resolution. */
export type ParsedSpec6 =
  | { kind: 'range'; range: AddressRange6; zone?: string }
  | { kind: 'name'; hostname: string; bits?: number };

function block(value: bigint, bits: number | undefined): AddressRange6 {
  if (bits === undefined) return { start: value, end: value };
  const size = 1n << BigInt(128 - bits);
  const start = value - (value % size);
  return { start, end: start + size - 1n };
}

/** Parses one IPv6 spec that needs no resolution, or says it is a name; throws naming a bad one. */
export function parseTargetSpec6(token: string): ParsedSpec6 {
  if (token === '') throw invalid(token);
  const slash = token.lastIndexOf('/');
  const head = slash < 0 ? token : token.slice(0, slash);
  let bits: number | undefined;
  if (slash >= 0) {
    const text = token.slice(slash + 1);
    if (!/^\d{1,3}$/.test(text) || Number(text) > 128) throw invalid(token, 'prefix length must be 0-128');
    bits = Number(text);
  }
  if (head.includes(':')) {
    const { address, zone } = splitZone(head);
    const value = parseIPv6(address);
    if (value === undefined) throw invalid(token, /[0-9a-f]-/i.test(address) ? 'IPv6 targets are addresses and CIDR blocks, not ranges' : undefined);
    if (zone !== undefined && !ZONE.test(zone)) throw invalid(token, `bad interface name "${zone}"`);
    return zone === undefined ? { kind: 'range', range: block(value, bits) } : { kind: 'range', range: block(value, bits), zone };
  }
  if (isIPv4(head) || /^[\d.,*-]+$/.test(head)) throw notIPv6(token, head);
  if (HOSTNAME.test(head)) return bits === undefined ? { kind: 'name', hostname: head } : { kind: 'name', hostname: head, bits };
  throw invalid(token);
}

const toList = (r: string | readonly string[]): readonly string[] => (typeof r === 'string' ? [r] : r);

async function resolveName6(hostname: string, token: string, resolve: Resolver6): Promise<bigint[]> {
  let answer: readonly string[];
  try {
    answer = toList(await resolve(hostname));
  } catch {
    throw new TargetError(`failed to resolve "${hostname}"`, token);
  }
  const values = answer.map((a) => parseIPv6(splitZone(a).address)).filter((v): v is bigint => v !== undefined);
  if (values.length === 0) throw notIPv6(token, hostname);
  return values;
}

/** Sorts and merges ranges that overlap or touch. */
export function mergeRanges6(input: readonly AddressRange6[]): AddressRange6[] {
  const sorted = [...input].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: AddressRange6[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1n) {
      if (r.end > last.end) last.end = r.end;
    } else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** Index of the first range in `sorted` (merged) whose end is at or after `value`. */
function firstEndingFrom(sorted: readonly AddressRange6[], value: bigint): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid].end < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `piece` less `covered` (sorted, merged), as pieces that keep its name. */
function subtract(piece: TargetPiece6, covered: readonly AddressRange6[], out: TargetPiece6[], what: string): void {
  let next = piece.start;
  const push = (p: TargetPiece6): void => {
    if (out.length === MAX_RANGES) throw new TargetError(`target "${what}" splits into more than ${MAX_RANGES} separate ranges, the most ferroscan holds; narrow it or split the scan`, what);
    out.push(p);
  };
  for (let k = firstEndingFrom(covered, piece.start); k < covered.length && next <= piece.end; k++) {
    const c = covered[k];
    if (c.start > piece.end) break;
    if (c.start > next) push({ ...piece, start: next, end: c.start - 1n });
    next = c.end + 1n;
  }
  if (next <= piece.end) push(next === piece.start ? piece : { ...piece, start: next, end: piece.end });
}

interface Item extends TargetPiece6 {
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

const strip = (item: Item, start: bigint, end: bigint): TargetPiece6 => {
  const p: TargetPiece6 = { start, end };
  if (item.hostname !== undefined) p.hostname = item.hostname;
  if (item.otherAddresses !== undefined) p.otherAddresses = item.otherAddresses;
  return p;
};

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Pieces in spec order where every address belongs to the first spec naming it: a sweep
 * over start points with a heap of the live items, as targets.ts does for IPv4. Items
 * already disjoint in address order (one block, distinct addresses) pass as they are.
 */
function firstMentionWins(items: readonly Item[]): TargetPiece6[] {
  let disjoint = true;
  for (let i = 1; i < items.length && disjoint; i++) disjoint = items[i].start > items[i - 1].end;
  if (disjoint) return items.map((it) => strip(it, it.start, it.end));
  const sorted = [...items].sort((a, b) => cmp(a.start, b.start) || a.order - b.order);
  const segments: { item: Item; start: bigint; end: bigint }[] = [];
  const heap = new OrderHeap();
  let i = 0;
  let pos = 0n;
  for (;;) {
    if (heap.size === 0) {
      if (i >= sorted.length) break;
      if (sorted[i].start > pos) pos = sorted[i].start;
    }
    while (i < sorted.length && sorted[i].start <= pos) {
      if (sorted[i].end >= pos) heap.push(sorted[i]);
      i++;
    }
    while (heap.size > 0 && heap.top().end < pos) heap.pop();
    if (heap.size === 0) continue;
    const top = heap.top();
    const end = i < sorted.length && sorted[i].start - 1n < top.end ? sorted[i].start - 1n : top.end;
    const last = segments[segments.length - 1];
    if (last && last.item === top && last.end + 1n === pos) last.end = end;
    else segments.push({ item: top, start: pos, end });
    if (end === MAX_IPV6) break;
    pos = end + 1n;
  }
  segments.sort((a, b) => a.item.order - b.item.order || cmp(a.start, b.start));
  const pieces: TargetPiece6[] = [];
  let prev: (typeof segments)[number] | undefined;
  for (const s of segments) {
    if (prev && prev.item === s.item && prev.end + 1n === s.start) {
      prev.end = s.end;
      pieces[pieces.length - 1].end = s.end;
      continue;
    }
    pieces.push(strip(s.item, s.start, s.end));
    prev = s;
  }
  return pieces;
}

function countOf(pieces: readonly AddressRange6[]): number {
  return pieces.reduce((n, r) => n + Number(r.end - r.start + 1n), 0);
}

/** Ranges named by exclusion specs (IPv4 ones cannot match an IPv6 target and are skipped, as nmap does). */
export async function parseExcludes6(specs: readonly string[], resolve: Resolver6 = resolveAllIPv6): Promise<AddressRange6[]> {
  const ranges: AddressRange6[] = [];
  for (const raw of specs) {
    const token = raw.trim();
    let spec: ParsedSpec6;
    try {
      spec = parseTargetSpec6(token);
    } catch (e) {
      if (e instanceof TargetError && e.message.startsWith('Hostname')) continue;
      if (e instanceof TargetError) throw new TargetError(e.message.replace(/^invalid target/, 'invalid exclusion'), token);
      throw e;
    }
    if (spec.kind === 'range') ranges.push(spec.range);
    else for (const v of await resolveName6(spec.hostname, token, resolve)) ranges.push(block(v, spec.bits));
  }
  return mergeRanges6(ranges);
}

/** Parses every IPv6 spec, resolving names to AAAA records through `resolve`, then removes exclusions. */
export async function parseTargets6(specs: readonly string[], resolve: Resolver6 = resolveAllIPv6, options: TargetOptions6 = {}): Promise<TargetSet6> {
  const items: Item[] = [];
  let order = 0;
  let zone: string | undefined;
  let token = '';
  const add = (item: Item): void => {
    if (items.length === MAX_RANGES) throw new TargetError(`target "${token}" splits into more than ${MAX_RANGES} separate ranges, the most ferroscan holds; narrow it or split the scan`, token);
    items.push(item);
  };
  for (const raw of specs) {
    token = raw.trim();
    const spec = parseTargetSpec6(token);
    if (spec.kind === 'range') {
      if (spec.zone !== undefined) {
        if (zone !== undefined && zone !== spec.zone) throw new TargetError(`targets name two interfaces (%${zone}, %${spec.zone}); scan each link separately`, token);
        zone = spec.zone;
      }
      add({ ...spec.range, order: order++ });
      continue;
    }
    const { hostname } = spec;
    const [first, ...others] = await resolveName6(hostname, token, resolve);
    // nmap keeps the name only on the address it resolved to, not on the rest of its block
    const o = order++;
    const b = block(first, spec.bits);
    if (b.start < first) add({ start: b.start, end: first - 1n, order: o });
    const named: Item = { start: first, end: first, hostname, order: o };
    if (others.length > 0 && !options.resolveAll) named.otherAddresses = others.map(formatIPv6);
    add(named);
    if (first < b.end) add({ start: first + 1n, end: b.end, order: o });
    if (options.resolveAll) for (const v of others) add({ start: v, end: v, hostname, order: order++ });
  }
  let pieces = firstMentionWins(items);
  if (options.exclude && options.exclude.length > 0) {
    const covered = await parseExcludes6(options.exclude, resolve);
    const out: TargetPiece6[] = [];
    for (const p of pieces) subtract(p, covered, out, options.exclude.join(','));
    pieces = out;
  }
  const set: TargetSet6 = { family: 6, pieces, ranges: mergeRanges6(pieces), count: countOf(pieces) };
  if (zone !== undefined) set.zone = zone;
  return set;
}

/** True when the address is one of the targets; binary search over merged ranges. */
export function containsAddress6(set: TargetSet6, value: bigint): boolean {
  const k = firstEndingFrom(set.ranges, value);
  return k < set.ranges.length && set.ranges[k].start <= value;
}

/** The ranges as the engine takes them: ["start0", "end0", ...], as text. */
export function engineRanges6(ranges: readonly AddressRange6[]): string[] {
  return ranges.flatMap((r) => [formatIPv6(r.start), formatIPv6(r.end)]);
}

/** True when `text` looks like an IPv6 target spec (an address or block, with or without a zone). */
export function looksIPv6(text: string): boolean {
  const head = text.trim().replace(/\/\d+$/, '');
  return head.includes(':') && parseIPv6(splitZone(head).address) !== undefined;
}

/** nmap's words for an IPv6 target given without -6. */
export function needsIPv6Flag(token: string): TargetError {
  return new TargetError(`${token} looks like an IPv6 target specification -- you have to use the -6 option.`, token);
}

export { MAX_IPV6 };
