// Target parsing: every spec form (nmap's octet grammar included), merging, order and
// dedupe, names, exclusions, the default blocklist, errors, and that huge ranges stay
// ranges; property tests against brute force with a seeded generator.
import test from 'ava';
import { rng } from './helpers/rng.js';
import { TargetError } from '../ts/errors.js';
import { blocklistNotice, DEFAULT_BLOCKLIST } from '../ts/targets/blocklist.js';
import { containsAddress, engineRanges, MAX_RANGES, mergeRanges, parseTargetList, parseTargets, parseTargetSpec, splitExcludeList, targetEntries, type Resolver } from '../ts/targets/targets.js';
import { formatIPv4, parseIPv4, type AddressRange } from '../ts/targets/address.js';

const ip = (s: string): number => parseIPv4(s)!;
const noDns: Resolver = async (name) => {
  throw new Error(`unexpected lookup of ${name}`);
};
const addresses = (set: Awaited<ReturnType<typeof parseTargets>>): string[] => [...targetEntries(set)].map((e) => e.address);

test('single address, CIDR, full and short ranges', async (t) => {
  const set = await parseTargets(['198.18.0.1', '198.18.1.0/30', '198.18.2.1-198.18.2.3', '198.18.3.250-252'], noDns);
  t.deepEqual(addresses(set), [
    '198.18.0.1',
    '198.18.1.0', '198.18.1.1', '198.18.1.2', '198.18.1.3',
    '198.18.2.1', '198.18.2.2', '198.18.2.3',
    '198.18.3.250', '198.18.3.251', '198.18.3.252',
  ]);
  t.is(set.count, 11);
});

test('CIDR aligns to the block and /32, /0 edges', async (t) => {
  t.deepEqual((await parseTargets(['198.18.0.77/24'], noDns)).ranges, [{ start: ip('198.18.0.0'), end: ip('198.18.0.255') }]);
  t.deepEqual((await parseTargets(['198.18.0.77/32'], noDns)).ranges, [{ start: ip('198.18.0.77'), end: ip('198.18.0.77') }]);
  t.deepEqual((await parseTargets(['198.18.0.1/31'], noDns)).ranges, [{ start: ip('198.18.0.0'), end: ip('198.18.0.1') }]);
});

test('0.0.0.0/0 stays one range and counts 2^32', async (t) => {
  const set = await parseTargets(['0.0.0.0/0', '198.18.0.1'], noDns, { defaultBlocklist: false });
  t.deepEqual(engineRanges(set), [0, 0xffffffff]);
  t.is(set.count, 2 ** 32);
  t.is(set.pieces.length, 1);
  const it = targetEntries(set);
  t.is(it.next().value?.address, '0.0.0.0');
  t.is(it.next().value?.address, '0.0.0.1');
  t.true(containsAddress(set, ip('255.255.255.255')));
});

test('overlaps merge for the engine; output keeps first-mention order and each address once', async (t) => {
  const set = await parseTargets(['198.18.0.5-198.18.0.8', '198.18.0.1-6', '198.18.0.9', '198.18.0.20'], noDns);
  t.deepEqual(engineRanges(set), [ip('198.18.0.1'), ip('198.18.0.9'), ip('198.18.0.20'), ip('198.18.0.20')]);
  t.deepEqual(addresses(set), ['198.18.0.5', '198.18.0.6', '198.18.0.7', '198.18.0.8', '198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4', '198.18.0.9', '198.18.0.20']);
  t.is(set.count, 10);
  t.false(containsAddress(set, ip('198.18.0.10')));
  t.true(containsAddress(set, ip('198.18.0.20')));
});

test('hostnames resolve to one address and keep their name', async (t) => {
  const resolve: Resolver = async (name) => (name === 'lab.example' ? '198.18.0.9' : Promise.reject(new Error('NXDOMAIN')));
  const set = await parseTargets(['lab.example', '198.18.0.8/31'], resolve);
  t.deepEqual([...targetEntries(set)], [
    { address: '198.18.0.9', value: ip('198.18.0.9'), hostname: 'lab.example' },
    { address: '198.18.0.8', value: ip('198.18.0.8') },
  ]);
  const err = await t.throwsAsync(parseTargets(['nope.example'], resolve), { instanceOf: TargetError });
  t.is(err?.message, 'failed to resolve "nope.example"');
});

test('name/prefix keeps the name only on the resolved address', async (t) => {
  const set = await parseTargets(['lab.example/30'], async () => '198.18.0.2');
  t.deepEqual([...targetEntries(set)].map((e) => e.hostname ?? e.address), ['198.18.0.0', '198.18.0.1', 'lab.example', '198.18.0.3']);
});

test('localhost resolves through the system resolver', async (t) => {
  const set = await parseTargets(['localhost']);
  const [entry] = [...targetEntries(set)];
  t.is(entry.hostname, 'localhost');
  t.regex(entry.address, /^127\./);
});

for (const bad of ['198.18.0.300', '198.18.0', '198.18.0.1/33', '198.18.0.1/x', '198.18.0.9-198.18.0.1', '198.18.0.9-3', '198.18.0.1-256', 'bad_name!', '198.18.0.1-198.18.0.5/24', '', '198.18', '198.18.0.1,', '198.18.0.1,,2', '198.18.0.1-3-5', '198.18.0.*1', '198.18.0.1,*', '198.18..1', '198.18.0.1.2', 'fe80:::1', '1::2::3', '::1/129']) {
  test(`rejects ${JSON.stringify(bad)} naming it`, async (t) => {
    const err = await t.throwsAsync(parseTargets([bad], noDns), { instanceOf: TargetError });
    t.true(err!.message.startsWith(`invalid target "${bad}"`), err!.message);
  });
}

// ---------------------------------------------------------------------------------------
// nmap's grammar, names, exclusions, the blocklist and the bound

test('octet ranges, lists, wildcards and open ends list in nmap order', async (t) => {
  t.deepEqual(addresses(await parseTargets(['198.18.0,2.1-3'], noDns)), ['198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.2.1', '198.18.2.2', '198.18.2.3']);
  // nmap's octet sets are sets: listed ascending, each value once.
  t.deepEqual(addresses(await parseTargets(['198.18.0.9,1,3-4,1'], noDns)), ['198.18.0.1', '198.18.0.3', '198.18.0.4', '198.18.0.9']);
  t.is((await parseTargets(['198.18.0.*'], noDns)).count, 256);
  t.deepEqual(addresses(await parseTargets(['198.18.0.-2'], noDns)), ['198.18.0.0', '198.18.0.1', '198.18.0.2']);
  t.deepEqual(addresses(await parseTargets(['198.18.0.254-'], noDns)), ['198.18.0.254', '198.18.0.255']);
  t.is((await parseTargets(['198.18.0.-'], noDns)).count, 256);
  // Leading zeros are decimal, as nmap reads octets.
  t.deepEqual(addresses(await parseTargets(['010.0.0.01'], noDns)), ['10.0.0.1']);
});

test('the common sweep 198.18.0-255.1-254 is 256 ranges, not 65024 addresses', async (t) => {
  const set = await parseTargets(['198.18.0-255.1-254'], noDns);
  t.is(set.count, 256 * 254);
  t.is(set.ranges.length, 256);
  t.deepEqual(set.ranges[0], { start: ip('198.18.0.1'), end: ip('198.18.0.254') });
  t.deepEqual(set.ranges[255], { start: ip('198.18.255.1'), end: ip('198.18.255.254') });
});

test('a prefix on octet ranges widens every octet, as nmap', async (t) => {
  t.deepEqual(addresses(await parseTargets(['198.18.0.5,9/30'], noDns)), ['198.18.0.4', '198.18.0.5', '198.18.0.6', '198.18.0.7', '198.18.0.8', '198.18.0.9', '198.18.0.10', '198.18.0.11']);
  t.deepEqual((await parseTargets(['198.18.0-1.5/23'], noDns)).ranges, [{ start: ip('198.18.0.0'), end: ip('198.18.1.255') }]);
  t.is((await parseTargets(['198.18.*.1/31'], noDns)).ranges.length, 256);
});

test('octet runs that touch across a boundary merge into one range', async (t) => {
  const set = await parseTargets(['198.18.0-1.0-255', '198.18.2,3.*'], noDns);
  t.deepEqual(set.ranges, [{ start: ip('198.18.0.0'), end: ip('198.18.3.255') }]);
});

test('more than MAX_RANGES runs is one clear error, computed without listing addresses', async (t) => {
  const t0 = Date.now();
  const err = await t.throwsAsync(parseTargets(['0-255.0-255.0-255.1'], noDns), { instanceOf: TargetError });
  t.is(err?.message, `target "0-255.0-255.0-255.1" splits into more than ${MAX_RANGES} separate ranges, the most ferroscan holds; narrow it or split the scan`);
  t.true(Date.now() - t0 < 5000);
  // ... while 65536 runs are fine.
  const ok = await parseTargets(['10.0-255.0-255.1'], noDns);
  t.is(ok.ranges.length, 65536);
  t.is(engineRanges(ok).length, 2 * 65536);
});

test('IPv6 literals and blocks without -6 get nmap\'s error', async (t) => {
  for (const spec of ['::1', 'fe80::1', '2001:db8::/32', 'fe80::1%eth0', '::ffff:198.18.0.1']) {
    const err = await t.throwsAsync(parseTargets([spec], noDns), { instanceOf: TargetError });
    t.is(err?.message, `${spec} looks like an IPv6 target specification -- you have to use the -6 option.`);
  }
});

const multi: Resolver = async (name) => {
  if (name === 'multi.example') return ['198.18.0.7', '198.18.0.3', '198.18.0.9'];
  if (name === 'v6only.example') return ['2001:db8::1'];
  throw new Error('NXDOMAIN');
};

test('a name scans its first address and carries the others, as nmap', async (t) => {
  const set = await parseTargets(['multi.example', '198.18.0.3'], multi);
  t.deepEqual([...targetEntries(set)], [
    { address: '198.18.0.7', value: ip('198.18.0.7'), hostname: 'multi.example', otherAddresses: ['198.18.0.3', '198.18.0.9'] },
    { address: '198.18.0.3', value: ip('198.18.0.3') },
  ]);
});

test('--resolve-all scans every address in resolver order; a prefix applies to the first', async (t) => {
  const set = await parseTargets(['multi.example/31'], multi, { resolveAll: true });
  t.deepEqual([...targetEntries(set)].map((e) => `${e.hostname ?? ''} ${e.address}`), [' 198.18.0.6', 'multi.example 198.18.0.7', 'multi.example 198.18.0.3', 'multi.example 198.18.0.9']);
  t.is(set.count, 4);
});

test('a name with no IPv4 address is one clear error', async (t) => {
  const err = await t.throwsAsync(parseTargets(['v6only.example'], multi), { instanceOf: TargetError });
  t.is(err?.message, 'failed to resolve "v6only.example" to an IPv4 address');
});

test('exclusions: every form, names exclude all their addresses, IPv6 ones are ignored', async (t) => {
  const set = await parseTargets(['198.18.0.0/28'], multi, { exclude: ['198.18.0,2.1-2', '198.18.0.12/30', 'multi.example', '::1'] });
  t.deepEqual(addresses(set), ['198.18.0.0', '198.18.0.4', '198.18.0.5', '198.18.0.6', '198.18.0.8', '198.18.0.10', '198.18.0.11']);
  t.is(set.count, 7);
  const err = await t.throwsAsync(parseTargets(['198.18.0.1'], noDns, { exclude: ['198.18.0.300'] }), { instanceOf: TargetError });
  t.is(err?.message, 'invalid exclusion "198.18.0.300"');
});

test('the default blocklist applies above a /8 only, and can be turned off', async (t) => {
  const all = await parseTargets(['0.0.0.0/0'], noDns);
  t.is(all.blocklist?.length, DEFAULT_BLOCKLIST.length);
  for (const b of DEFAULT_BLOCKLIST) {
    t.false(containsAddress(all, b.start), b.cidr);
    t.false(containsAddress(all, b.end), b.cidr);
  }
  t.true(containsAddress(all, ip('1.1.1.1')));
  t.is(all.count, 2 ** 32 - mergeRanges(DEFAULT_BLOCKLIST).reduce((n, b) => n + b.end - b.start + 1, 0));
  // Exactly a /8 is not larger than a /8.
  const eight = await parseTargets(['10.0.0.0/8'], noDns);
  t.is(eight.count, 2 ** 24);
  t.deepEqual(eight.blocklist, []);
  const seven = await parseTargets(['198.0.0.0/7'], noDns);
  t.false(containsAddress(seven, ip('198.18.0.1')));
  t.false(containsAddress(await parseTargets(['198.18.0.0/15', '0.0.0.0/1'], noDns), ip('198.18.0.1')));
  t.true(containsAddress(await parseTargets(['198.0.0.0/7'], noDns, { defaultBlocklist: false }), ip('198.18.0.1')));
  t.is(blocklistNotice(all.blocklist ?? [])?.split(': ')[1], DEFAULT_BLOCKLIST.map((b) => b.cidr).join(', '));
  t.is(blocklistNotice([]), undefined);
});

test('target lists: blanks and newlines separate, "#" comments to the end of the line', (t) => {
  t.deepEqual(parseTargetList('198.18.0.1 198.18.0.2\n# all comment 198.18.0.9\n198.18.0.3#x 198.18.0.4\n\t198.18.0.5,6  \r\n\n'), ['198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.5,6']);
  t.deepEqual(splitExcludeList('198.18.0.1, 198.18.0.2-3'), ['198.18.0.1', '198.18.0.2-3']);
  t.throws(() => splitExcludeList('198.18.0.1,,198.18.0.2'), { instanceOf: TargetError, message: 'invalid --exclude "198.18.0.1,,198.18.0.2": empty entry' });
});

// ---------------------------------------------------------------------------------------
// Property tests: seeded cases (test/helpers/rng.ts), checked against brute force.

const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** A random octet: "*", or 1-3 comma items among N, N-M, N-, -M. Returns the text and its set. */
function randomOctet(r: () => number, wide: boolean): [string, Set<number>] {
  if (wide && r() < 0.2) return ['*', new Set(Array.from({ length: 256 }, (_, i) => i))];
  const items: string[] = [];
  const set = new Set<number>();
  for (let k = int(r, 1, 3); k > 0; k--) {
    const a = int(r, 0, 255);
    const b = int(r, a, Math.min(255, a + (wide ? 255 : 6)));
    const form = int(r, 0, 5);
    if (form === 0 || !wide) {
      items.push(form % 2 ? `${a}-${b}` : String(a));
      for (let v = a; v <= (form % 2 ? b : a); v++) set.add(v);
    } else if (form === 1) {
      items.push(`${a}-${b}`);
      for (let v = a; v <= b; v++) set.add(v);
    } else if (form === 2) {
      items.push(`${a}-`);
      for (let v = a; v <= 255; v++) set.add(v);
    } else if (form === 3) {
      items.push(`-${b}`);
      for (let v = 0; v <= b; v++) set.add(v);
    } else {
      items.push(String(a));
      set.add(a);
    }
  }
  return [items.join(','), set];
}

/** nmap's apply_ipv4_netmask_octet, ported literally as the reference. */
function maskOctet(set: Set<number>, mask: number): Set<number> {
  const bits = Array.from({ length: 256 }, (_, i) => set.has(i));
  for (let chunk = 1; chunk < 256; chunk <<= 1) {
    if (mask & chunk) continue;
    for (let i = 0; i < 256; i += chunk * 2) {
      for (let j = 0; j < chunk; j++) {
        if (bits[i + j]) bits[i + j + chunk] = true;
        else if (bits[i + j + chunk]) bits[i + j] = true;
      }
    }
  }
  return new Set(bits.flatMap((b, i) => (b ? [i] : [])));
}

test('property: octet specs (with prefixes) name exactly the product of their octet sets', async (t) => {
  const r = rng(0x5eed);
  for (let round = 0; round < 300; round++) {
    const octets = [0, 1, 2, 3].map((i) => randomOctet(r, i >= 2 || r() < 0.1));
    let sets = octets.map((o) => o[1]);
    let spec = octets.map((o) => o[0]).join('.');
    if (r() < 0.3) {
      const bits = int(r, 8, 32);
      spec += `/${bits}`;
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      sets = sets.map((s, i) => maskOctet(s, (mask >>> (24 - 8 * i)) & 255));
    }
    let set;
    try {
      set = await parseTargets([spec], noDns, { defaultBlocklist: false });
    } catch (e) {
      t.true(e instanceof TargetError && /separate ranges/.test(e.message), `${spec}: ${(e as Error).message}`);
      continue;
    }
    t.is(set.count, sets.reduce((n, s) => n * s.size, 1), spec);
    for (let k = 1; k < set.ranges.length; k++) t.true(set.ranges[k].start > set.ranges[k - 1].end + 1, `${spec}: ranges disjoint, not touching`);
    for (let probe = 0; probe < 50; probe++) {
      // Half the probes built from members, half random.
      const parts = sets.map((s) => (r() < 0.5 ? [...s][int(r, 0, s.size - 1)] : int(r, 0, 255)));
      const value = ((parts[0] * 256 + parts[1]) * 256 + parts[2]) * 256 + parts[3];
      t.is(containsAddress(set, value), parts.every((p, i) => sets[i].has(p)), `${spec} ∋ ${formatIPv4(value)}`);
    }
  }
});

test('property: many overlapping specs and exclusions list first mention first, each address once', async (t) => {
  const r = rng(42);
  const base = ip('198.18.0.0');
  const randomSpec = (): string => {
    const a = int(r, 0, 1023);
    const kind = int(r, 0, 3);
    if (kind === 0) return formatIPv4(base + a);
    if (kind === 1) return `${formatIPv4(base + a)}/${int(r, 26, 32)}`;
    if (kind === 2) return `${formatIPv4(base + a)}-${formatIPv4(base + Math.min(1023, a + int(r, 0, 40)))}`;
    return `198.18.${int(r, 0, 3)}.${randomOctet(r, false)[0]}`;
  };
  const members = (spec: string): number[] => {
    const set = new Set<number>();
    for (let v = base; v < base + 1024; v++) if (containsAddress({ pieces: [], ranges: mergeRanges(parseTargetSpecRanges(spec)), count: 0 }, v)) set.add(v);
    return [...set].sort((x, y) => x - y);
  };
  for (let round = 0; round < 150; round++) {
    const specs = Array.from({ length: int(r, 1, 8) }, randomSpec);
    const exclude = Array.from({ length: int(r, 0, 3) }, randomSpec);
    const excluded = new Set(exclude.flatMap(members));
    const want: string[] = [];
    const seen = new Set<number>();
    for (const s of specs) {
      for (const v of members(s)) {
        if (seen.has(v) || excluded.has(v)) continue;
        seen.add(v);
        want.push(formatIPv4(v));
      }
    }
    const set = await parseTargets(specs, noDns, { exclude });
    t.deepEqual(addresses(set), want, `${specs.join(' ')} --exclude ${exclude.join(',')}`);
    t.is(set.count, want.length);
    t.deepEqual(set.ranges, mergeRanges(set.pieces.map((p) => ({ start: p.start, end: p.end }))));
  }
});

test('property: formatted addresses parse back', (t) => {
  const r = rng(7);
  for (let k = 0; k < 2000; k++) {
    const v = Math.floor(r() * 2 ** 32);
    t.is(parseIPv4(formatIPv4(v)), v);
  }
});

test('parseIPv4 takes exactly four decimal octets without leading zeros', (t) => {
  for (const good of ['0.0.0.0', '255.255.255.255', '198.18.0.2', '10.0.100.9']) t.not(parseIPv4(good), undefined, good);
  const bad = ['', '1', '1.2.3', '1.2.3.4.', '.1.2.3.4', '1..2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.999', '01.2.3.4', '1.2.3.00', '1.2.3.a', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.-4', '1234.1.1.1', '1.2.3.4/8'];
  for (const s of bad) t.is(parseIPv4(s), undefined, s);
});

function parseTargetSpecRanges(spec: string): AddressRange[] {
  const parsed = parseTargetSpec(spec);
  if (parsed.kind !== 'ranges') throw new Error('name');
  return parsed.ranges;
}
