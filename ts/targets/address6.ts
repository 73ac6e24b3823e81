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

/** One group of 1-4 hex digits. */
function group(text: string): number | undefined {
  if (!/^[0-9A-Fa-f]{1,4}$/.test(text)) return undefined;
  return Number.parseInt(text, 16);
}

/** The strict dotted quad of an embedded IPv4 tail ("::ffff:198.18.0.1"): no leading zeros. */
function quadTail(text: string): [number, number] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const o: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0') || Number(p) > 255) return undefined;
    o.push(Number(p));
  }
  return [o[0] * 256 + o[1], o[2] * 256 + o[3]];
}

/** The groups of one side of "::" (empty text is no groups); the last may be a dotted quad. */
function groups(text: string, allowQuad: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (allowQuad && i === parts.length - 1 && parts[i].includes('.')) {
      const q = quadTail(parts[i]);
      if (!q) return undefined;
      out.push(...q);
      continue;
    }
    const g = group(parts[i]);
    if (g === undefined) return undefined;
    out.push(g);
  }
  return out;
}

/** Parses an IPv6 address (RFC 4291 text forms, no zone); undefined when it is not one. */
export function parseIPv6(text: string): bigint | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const dbl = text.indexOf('::');
  let words: number[];
  if (dbl < 0) {
    const g = groups(text, true);
    if (!g || g.length !== 8) return undefined;
    words = g;
  } else {
    if (text.indexOf('::', dbl + 1) >= 0) return undefined;
    const head = groups(text.slice(0, dbl), false);
    const tail = groups(text.slice(dbl + 2), true);
    // "::" stands for at least one zero group
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  return v;
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
