// Target specifications → addresses. Turns "198.18.0.0/24", "198.18.0.1-20", hostnames, ...
// into (a) pieces in command-line order for output, each address once, and (b) merged
// inclusive u32 ranges for the engine. Nothing is expanded per address, so 0.0.0.0/0
// costs the same as one host.
import { lookup } from 'node:dns/promises';
import { TargetError } from './errors.js';

/** An inclusive run of addresses, as unsigned 32-bit integers in host order. */
export interface AddressRange {
  start: number;
  end: number;
}

/** A run of addresses in output order; `hostname` is set when the spec was a name. */
export interface TargetPiece extends AddressRange {
  hostname?: string;
}

/** One address to report, with the name it was given by (if any). */
export interface TargetEntry {
  address: string;
  value: number;
  hostname?: string;
}

export interface TargetSet {
  /** Disjoint pieces in the order the specs named them (first mention wins). */
  pieces: TargetPiece[];
  /** Sorted, merged ranges for the engine. */
  ranges: AddressRange[];
  /** Number of distinct addresses. */
  count: number;
}

export type Resolver = (hostname: string) => Promise<string>;

/** Resolves a name to its first IPv4 address, in the resolver's order, as nmap does. */
export const resolveIPv4: Resolver = async (hostname) => (await lookup(hostname, { family: 4 })).address;

const OCTET = /^(0|[1-9]\d{0,2})$/;
// Letters, digits and hyphens in dot-separated labels (RFC 1123), optional trailing dot.
const HOSTNAME = /^(?=.{1,253}\.?$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Parses a dotted quad strictly; leading zeros are refused because inet_aton reads them as octal. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!OCTET.test(p) || Number(p) > 255) return undefined;
    value = value * 256 + Number(p);
  }
  return value;
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

function invalid(token: string, why?: string): TargetError {
  return new TargetError(`invalid target "${token}"${why ? `: ${why}` : ''}`, token);
}

function cidr(base: number, bitsText: string, token: string): AddressRange {
  if (!/^\d{1,2}$/.test(bitsText) || Number(bitsText) > 32) throw invalid(token, 'prefix length must be 0-32');
  const bits = Number(bitsText);
  // 2 ** n rather than shifts: JS shifts are mod 32, so 1 << 32 would be 1.
  const size = 2 ** (32 - bits);
  const start = base - (base % size);
  return { start, end: start + size - 1 };
}

/** Parses one spec that needs no resolution; returns undefined when it looks like a hostname. */
export function parseNumericTarget(token: string): AddressRange | undefined {
  if (token.includes(':')) throw invalid(token, 'IPv6 is not supported yet');
  const slash = token.indexOf('/');
  const head = slash < 0 ? token : token.slice(0, slash);
  const dash = head.indexOf('-');
  if (!/^[\d.]+(-[\d.]+)?$/.test(head)) {
    if (slash >= 0 && HOSTNAME.test(head)) return undefined; // name/prefix, resolved later
    if (HOSTNAME.test(token) && !/^[\d.-]+$/.test(token)) return undefined;
    throw invalid(token);
  }
  if (dash >= 0) {
    if (slash >= 0) throw invalid(token, 'a range cannot take a prefix length');
    const start = parseIPv4(head.slice(0, dash));
    const tail = head.slice(dash + 1);
    if (start === undefined) throw invalid(token);
    let end: number | undefined;
    if (OCTET.test(tail)) {
      // Short form 198.18.0.1-20: the tail replaces the last octet.
      end = Number(tail) <= 255 ? start - (start % 256) + Number(tail) : undefined;
    } else {
      end = parseIPv4(tail);
    }
    if (end === undefined) throw invalid(token);
    if (end < start) throw invalid(token, 'range ends before it starts');
    return { start, end };
  }
  const base = parseIPv4(head);
  if (base === undefined) throw invalid(token);
  return slash < 0 ? { start: base, end: base } : cidr(base, token.slice(slash + 1), token);
}

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

/** The parts of `r` not covered by `covered` (sorted, merged). */
function subtract(r: AddressRange, covered: readonly AddressRange[]): AddressRange[] {
  const out: AddressRange[] = [];
  let next = r.start;
  for (const c of covered) {
    if (c.end < next) continue;
    if (c.start > r.end) break;
    if (c.start > next) out.push({ start: next, end: c.start - 1 });
    next = c.end + 1;
    if (next > r.end) return out;
  }
  if (next <= r.end) out.push({ start: next, end: r.end });
  return out;
}

/** Parses every spec, resolving names (first IPv4 address) through `resolve`. */
export async function parseTargets(specs: readonly string[], resolve: Resolver = resolveIPv4): Promise<TargetSet> {
  const pieces: TargetPiece[] = [];
  let covered: AddressRange[] = [];
  for (const raw of specs) {
    const token = raw.trim();
    if (token === '') throw invalid(raw);
    let range = parseNumericTarget(token);
    let hostname: string | undefined;
    if (!range) {
      const slash = token.indexOf('/');
      hostname = slash < 0 ? token : token.slice(0, slash);
      let address: string;
      try {
        address = await resolve(hostname);
      } catch {
        throw new TargetError(`failed to resolve "${hostname}"`, token);
      }
      const value = parseIPv4(address);
      if (value === undefined) throw new TargetError(`failed to resolve "${hostname}" to an IPv4 address`, token);
      range = slash < 0 ? { start: value, end: value } : cidr(value, token.slice(slash + 1), token);
      if (slash >= 0) {
        // nmap keeps the name only for the address it resolved to, not for the whole block.
        for (const r of subtract(range, covered)) {
          if (value >= r.start && value <= r.end) {
            if (r.start < value) pieces.push({ start: r.start, end: value - 1 });
            pieces.push({ start: value, end: value, hostname });
            if (value < r.end) pieces.push({ start: value + 1, end: r.end });
          } else pieces.push(r);
        }
        covered = mergeRanges([...covered, range]);
        continue;
      }
    }
    for (const r of subtract(range, covered)) pieces.push(hostname ? { ...r, hostname } : r);
    covered = mergeRanges([...covered, range]);
  }
  const count = covered.reduce((n, r) => n + (r.end - r.start + 1), 0);
  return { pieces, ranges: covered, count };
}

/** Every target address in output order; lazy, so huge sets can be walked without storing them. */
export function* targetEntries(set: TargetSet): Generator<TargetEntry> {
  for (const p of set.pieces) {
    for (let v = p.start; v <= p.end; v++) {
      yield p.hostname ? { address: formatIPv4(v), value: v, hostname: p.hostname } : { address: formatIPv4(v), value: v };
    }
  }
}

/** True when the address (u32) is one of the targets; binary search over merged ranges. */
export function containsAddress(set: TargetSet, value: number): boolean {
  let lo = 0;
  let hi = set.ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = set.ranges[mid];
    if (value < r.start) hi = mid - 1;
    else if (value > r.end) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Flattens ranges as the engine wants them: [start0, end0, start1, end1, ...]. */
export function engineRanges(set: TargetSet): number[] {
  return set.ranges.flatMap((r) => [r.start, r.end]);
}
