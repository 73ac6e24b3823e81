// IPv6 addresses as the pipeline holds them beside IPv4's numbers (address.ts): BigInt values
// (exact over all 128 bits, ordered, usable as Map keys) and their canonical text (RFC 5952:
// lower case, leading zeros dropped, the longest run of two or more zero groups as "::", the
// first such run on a tie), which every output writes. A leaf, as address.ts.

/** An inclusive run of IPv6 addresses. */
export interface AddressRange6 {
  start: bigint;
  end: bigint;
}

/** An IPv4 or IPv6 address's value: a number (IPv4, host order) or a bigint (IPv6). */
export type AddressValue = number | bigint;

export const MAX_IPV6 = (1n << 128n) - 1n;

/** The value of a hex digit's char code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20; // lower case
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** The two 16-bit groups of a strict dotted quad at text[at..] (no leading zeros), or undefined. */
function quadTail(text: string, at: number): [number, number] | undefined {
  const o: number[] = [];
  let i = at;
  for (let part = 0; part < 4; part++) {
    const start = i;
    let v = 0;
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) v = v * 10 + (text.charCodeAt(i++) - 48);
    const digits = i - start;
    if (digits === 0 || digits > 3 || (digits > 1 && text.charCodeAt(start) === 48) || v > 255) return undefined;
    o.push(v);
    if (part < 3) {
      if (text.charCodeAt(i) !== 46) return undefined;
      i++;
    }
  }
  return i === text.length ? [o[0] * 256 + o[1], o[2] * 256 + o[3]] : undefined;
}

const words = new Array<number>(8);

/**
 * Parses an IPv6 address (RFC 4291 text forms, no zone); undefined when it is not one. By
 * hand, one pass, no regular expression or split: reports and decoders call it per host.
 */
export function parseIPv6(text: string): bigint | undefined {
  const n = text.length;
  if (n < 2 || n > 45) return undefined;
  let count = 0; // groups written
  let gap = -1; // where "::" stands, as a group index
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
    if (i === n) return 0n;
  }
  while (i < n) {
    if (count === 8) return undefined;
    // a dotted quad may end the address, where two groups are left
    let j = i;
    let v = 0;
    let d;
    while (j < n && j - i < 5 && (d = hexDigit(text.charCodeAt(j))) >= 0) {
      v = v * 16 + d;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 46) {
      if (count > 6) return undefined;
      const q = quadTail(text, i);
      if (!q) return undefined;
      words[count++] = q[0];
      words[count++] = q[1];
      i = n;
      break;
    }
    if (j === i || j - i > 4) return undefined;
    words[count++] = v;
    i = j;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return undefined;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined;
      gap = count;
      i++;
      if (i === n) break;
    } else if (i === n) return undefined; // a trailing single colon
  }
  if (gap < 0 ? count !== 8 : count > 7) return undefined;
  // words in place: the gap's zeros between its two sides
  const at = (k: number): number => (gap < 0 || k < gap ? words[k] : k < gap + 8 - count ? 0 : words[k - (8 - count)]);
  // four exact 32-bit pieces (a double holds 53 bits), then one bigint
  const p = (k: number): bigint => BigInt(at(k) * 65536 + at(k + 1));
  return (p(0) << 96n) | (p(2) << 64n) | (p(4) << 32n) | p(6);
}

/** Splits "fe80::1%eth0" into the address text and its zone (undefined when none). */
export function splitZone(text: string): { address: string; zone?: string } {
  const pct = text.indexOf('%');
  if (pct < 0) return { address: text };
  return { address: text.slice(0, pct), zone: text.slice(pct + 1) };
}

/** The canonical text (RFC 5952) of eight 16-bit groups. */
function formatWords(w: ArrayLike<number>): string {
  // the longest run of two or more zero groups; the first one on a tie
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += w[i].toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

export function formatIPv6(value: bigint): string {
  const w = new Array<number>(8);
  for (let i = 7; i >= 0; i--) {
    w[i] = Number(value & 0xffffn);
    value >>= 16n;
  }
  return formatWords(w);
}

const scratch = new Uint16Array(8);

/** The canonical text of the 16 bytes at `buf[off..]`: the record decoder's hot path. */
export function formatIPv6Bytes(buf: Uint8Array, off: number): string {
  for (let i = 0; i < 8; i++) scratch[i] = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
  return formatWords(scratch);
}

/** The value of the 16 bytes at `buf[off..]` (network order). */
export function readIPv6(buf: Buffer, off: number): bigint {
  return (buf.readBigUInt64BE(off) << 64n) | buf.readBigUInt64BE(off + 8);
}

/** Orders two values of one family (numbers or bigints). */
export function compareValues(a: AddressValue, b: AddressValue): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** fe80::/10. */
export function isLinkLocal6(value: bigint): boolean {
  return value >> 118n === 0x3fan;
}

/** ::1 */
export const LOOPBACK6 = 1n;
