// IPv4 addresses as the whole pipeline holds them: unsigned 32-bit integers in host order,
// single or in inclusive runs, with the strict dotted-quad parser and its formatter. A leaf:
// the target grammar (targets.ts), the blocklist and every later stage build on it.

/** An inclusive run of addresses, as unsigned 32-bit integers in host order. */
export interface AddressRange {
  start: number;
  end: number;
}

/** Parses a dotted quad strictly; leading zeros are refused (inet_aton would read them as octal). */
export function parseIPv4(text: string): number | undefined {
  // By hand rather than split + regex: decoding a sweep's records and reports calls this per host.
  // Four octets of 1-3 digits, no leading zeros, each at most 255.
  let value = 0;
  let octets = 0;
  let i = 0;
  const n = text.length;
  while (i <= n) {
    const start = i;
    let octet = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      octet = octet * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || (digits > 1 && text.charCodeAt(start) === 48) || octet > 255) return undefined;
    value = value * 256 + octet;
    octets++;
    if (i === n) break;
    if (text.charCodeAt(i) !== 46 || octets === 4) return undefined;
    i++;
  }
  return octets === 4 ? value : undefined;
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}
