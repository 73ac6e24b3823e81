// Fuzz target: the target grammar (ts/targets/targets.ts): -iL lists, specs, --exclude values,
// names through a deterministic fake resolver, the default blocklist. The input's first
// byte holds option bits; the rest is a target list, then after the first "!" an
// --exclude value. Documented error: TargetError. Invariants: the engine's ranges are
// sorted, disjoint and not touching; counts agree; no excluded address and, when the
// blocklist applied, no blocklisted address is left.
import { DEFAULT_BLOCKLIST } from '../../ts/targets/blocklist.js';
import { TargetError } from '../../ts/errors.js';
import type { AddressRange } from '../../ts/targets/address.js';
import { containsAddress, mergeRanges, parseExcludes, parseTargetList, parseTargets, splitExcludeList } from '../../ts/targets/targets.js';
import { allow, check, type FuzzTarget } from './index.js';

/** Names resolve to 0-3 lab addresses from a hash of the name; "fail…" names reject. */
async function resolve(name: string): Promise<string[]> {
  if (name.startsWith('fail')) throw new Error('NXDOMAIN');
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  const n = h % 4;
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`198.${18 + ((h >>> 8) & 1)}.${(h >>> (i + 9)) & 255}.${(h >>> (i * 5)) & 255}`);
  if (h % 7 === 0) out.push('2001:2::1');
  return out;
}

const sum = (rs: readonly AddressRange[]): number => rs.reduce((n, r) => n + (r.end - r.start + 1), 0);

function disjointFrom(a: readonly AddressRange[], b: readonly AddressRange[]): boolean {
  // both sorted and merged
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i].end < b[j].start) i++;
    else if (b[j].end < a[i].start) j++;
    else return false;
  }
  return true;
}

export const target: FuzzTarget = {
  maxLen: 512,
  // a spec may name up to MAX_RANGES (2^18) separate runs, the parser's documented bound:
  // about a second to build natively, several with coverage counters on a loaded machine
  timeoutMs: 15_000,
  dictionary: ['.', '-', ',', '/', '*', '#', '\n', ' ', '!', '198.18.0.1', '0.0.0.0/0', '255.255.255.255', '10.0.0.0/8', '0-255', '/32', '/24', '/0', '/8', '/33', 'host.example', 'fail.example', '::1', '2001:2::/48', '198.18.0.1-198.18.1.9', '1-', '-9', '*.*.*.*'],
  async run(input) {
    const flags = input.length > 0 ? input[0] : 0;
    const text = input.subarray(1).toString('utf8');
    const bang = text.indexOf('!');
    const specs = parseTargetList(bang < 0 ? text : text.slice(0, bang));
    let set;
    let exclude: string[] = [];
    try {
      if (bang >= 0) exclude = splitExcludeList(text.slice(bang + 1));
      set = await parseTargets(specs, resolve, { resolveAll: (flags & 1) !== 0, exclude, defaultBlocklist: (flags & 2) === 0 });
    } catch (e) {
      allow(e, TargetError);
      return;
    }
    const { ranges, pieces, count } = set;
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i];
      check(Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.start <= r.end && r.end <= 0xffffffff, 'range within the address space');
      check(i === 0 || ranges[i - 1].end + 1 < r.start, 'ranges sorted, disjoint, not touching');
    }
    check(sum(ranges) === count && sum(pieces) === count, 'count = addresses of ranges = addresses of pieces');
    check(sum(mergeRanges(pieces)) === count, 'pieces disjoint');
    if (exclude.length > 0) check(disjointFrom(ranges, await parseExcludes(exclude, resolve)), 'no excluded address left');
    if (set.blocklist && set.blocklist.length > 0) check(disjointFrom(ranges, mergeRanges(DEFAULT_BLOCKLIST)), 'no blocklisted address left');
    for (const r of ranges.slice(0, 4)) check(containsAddress(set, r.start) && containsAddress(set, r.end) && (r.start === 0 || !containsAddress(set, r.start - 1)), 'containsAddress agrees');
  },
};
