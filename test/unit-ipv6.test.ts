// IPv6 in the TypeScript layer, no packets: addresses (parsing, RFC 5952 text), the -6 target
// grammar against nmap's rules and errors, the record decoder's IPv6 layout, ICMPv6 verdicts as
// nmap names them, host evidence, the hosts model keyed by bigint, the IPv6 routing table, and
// -sL -6 as a user meets it.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TargetError } from '../ts/errors.js';
import { decodeBatch, RECORD_SIZE, RecordKind, type EngineRecord } from '../ts/engine/records.js';
import { groupByRoute6, parseProcRoutes6, routeFor6 } from '../ts/engine/routes6.js';
import { hostEvidence } from '../ts/hosts/discovery.js';
import { ScanModel } from '../ts/hosts/model.js';
import { formatIPv6, formatIPv6Bytes, parseIPv6 } from '../ts/targets/address6.js';
import { isIPv6Set, targetEntries } from '../ts/targets/targets.js';
import { containsAddress6, engineRanges6, parseTargets6, type Resolver6 } from '../ts/targets/targets6.js';
import { classify, type Technique } from '../ts/verdicts/classify.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/ferroscan.js', import.meta.url));

test('IPv6 text forms parse, and print in canonical form (RFC 5952)', (t) => {
  const cases: [string, string][] = [
    ['2001:2::1', '2001:2::1'],
    ['2001:0002:0000:0000:0000:0000:0000:0001', '2001:2::1'],
    ['2001:2:0:0:1:0:0:1', '2001:2::1:0:0:1'], // the first of two equal runs
    ['2001:2:0:1:0:0:0:1', '2001:2:0:1::1'], // the longest run, not the first
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not "::"
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['FE80::A:B', 'fe80::a:b'],
    ['::ffff:198.18.0.1', '::ffff:c612:1'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ];
  for (const [text, canonical] of cases) {
    const v = parseIPv6(text);
    t.not(v, undefined, text);
    t.is(formatIPv6(v!), canonical, text);
    const bytes = Buffer.alloc(16);
    bytes.writeBigUInt64BE(v! >> 64n, 0);
    bytes.writeBigUInt64BE(v! & 0xffffffffffffffffn, 8);
    t.is(formatIPv6Bytes(bytes, 0), canonical, `${text} from bytes`);
  }
  for (const bad of ['', ':', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '::1.2.3', '::01.2.3.4', '::256.1.1.1', '1:2:3:4:5:6:7::8', ':1::', '198.18.0.1']) {
    t.is(parseIPv6(bad), undefined, bad);
  }
});

test('the IPv6 parser agrees with node:net on random text, and round-trips random values', (t) => {
  let x = 0x2545f491;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const alphabet = '0123456789abcdefABCDEF:::.';
  let agreed = 0;
  for (let i = 0; i < 20000; i++) {
    let text = '';
    const len = 2 + (next() % 30);
    for (let k = 0; k < len; k++) text += alphabet[next() % alphabet.length];
    t.is(parseIPv6(text) !== undefined, isIP(text) === 6, text);
    agreed++;
    const v = (BigInt(next()) << 96n) | (BigInt(next() % 4 === 0 ? 0 : next()) << 64n) | (BigInt(next() % 3 === 0 ? 0 : next()) << 32n) | BigInt(next());
    const f = formatIPv6(v);
    t.is(parseIPv6(f), v, f);
    t.is(isIP(f), 6, f);
  }
  t.is(agreed, 20000);
});

const noDns: Resolver6 = async (name) => {
  if (name === 'dual.example') return ['2001:2::7', '2001:2::5'];
  if (name === 'v4only.example') return [];
  throw new Error('NXDOMAIN');
};

test('-6 targets: literals, CIDR blocks, zones, names with AAAA records, in command-line order', async (t) => {
  const set = await parseTargets6(['2001:2::9', '2001:2::/126', 'dual.example', 'fe80::1%veth0'], noDns);
  t.true(isIPv6Set(set));
  t.is(set.zone, 'veth0');
  const entries = [...targetEntries(set)];
  t.deepEqual(
    entries.map((e) => [e.address, e.hostname ?? '']),
    [
      ['2001:2::9', ''],
      ['2001:2::', ''],
      ['2001:2::1', ''],
      ['2001:2::2', ''],
      ['2001:2::3', ''],
      ['2001:2::7', 'dual.example'],
      ['fe80::1', ''],
    ],
  );
  t.deepEqual(entries[5].otherAddresses, ['2001:2::5'], "nmap's other addresses (not scanned)");
  t.is(set.count, 7);
  t.deepEqual(engineRanges6(set.ranges), ['2001:2::', '2001:2::3', '2001:2::7', '2001:2::7', '2001:2::9', '2001:2::9', 'fe80::1', 'fe80::1']);
  t.true(containsAddress6(set, parseIPv6('2001:2::2')!));
  t.false(containsAddress6(set, parseIPv6('2001:2::4')!));
  // --resolve-all: every address of the name
  const all = await parseTargets6(['dual.example'], noDns, { resolveAll: true });
  t.deepEqual([...targetEntries(all)].map((e) => e.address), ['2001:2::7', '2001:2::5']);
  // the first spec naming an address wins, a later block keeps the rest; a /64 is one piece
  const overlap = await parseTargets6(['2001:2::2', '2001:2::/125', '2001:2:0:1::/64'], noDns);
  t.deepEqual(overlap.pieces.map((p) => [formatIPv6(p.start), formatIPv6(p.end)]), [
    ['2001:2::2', '2001:2::2'],
    ['2001:2::', '2001:2::1'],
    ['2001:2::3', '2001:2::7'],
    ['2001:2:0:1::', '2001:2:0:1:ffff:ffff:ffff:ffff'],
  ]);
  t.is(overlap.count, 8 + 2 ** 64);
  // a block's host bits are cleared, as nmap does
  t.deepEqual([...targetEntries(await parseTargets6(['2001:2::5/127'], noDns))].map((e) => e.address), ['2001:2::4', '2001:2::5']);
});

test('-6 exclusions: addresses, blocks and names; IPv4 ones are ignored, as nmap ignores them', async (t) => {
  const set = await parseTargets6(['2001:2::/124'], noDns, { exclude: ['2001:2::/125', '2001:2::9', 'dual.example', '198.18.0.1'] });
  t.deepEqual([...targetEntries(set)].map((e) => e.address), ['2001:2::8', '2001:2::a', '2001:2::b', '2001:2::c', '2001:2::d', '2001:2::e', '2001:2::f'].filter((a) => a !== '2001:2::7'));
});

test("-6 errors are nmap's, one line", async (t) => {
  const err = async (spec: string): Promise<string | undefined> => (await t.throwsAsync(parseTargets6([spec], noDns), { instanceOf: TargetError }))?.message;
  t.is(await err('198.18.0.2'), 'Hostname 198.18.0.2 resolves, but not to any IPv6 address. Try scanning without -6');
  t.is(await err('198.18.0.0/24'), 'Hostname 198.18.0.0 resolves, but not to any IPv6 address. Try scanning without -6');
  t.is(await err('v4only.example'), 'Hostname v4only.example resolves, but not to any IPv6 address. Try scanning without -6');
  t.is(await err('nx.example'), 'failed to resolve "nx.example"');
  t.is(await err('2001:2::1/129'), 'invalid target "2001:2::1/129": prefix length must be 0-128');
  t.is(await err('2001:2::1-5'), 'invalid target "2001:2::1-5": IPv6 targets are addresses and CIDR blocks, not ranges');
  t.is(await err('2001:2:::1'), 'invalid target "2001:2:::1"');
  t.is(await err('fe80::1%bad/name'), 'invalid target "fe80::1%bad/name": prefix length must be 0-128');
});

/** A packed IPv6 record (layout version 2, record.rs). */
function record6(fields: { kind: number; flags?: number; ttl?: number; icmpType?: number; icmpCode?: number; port: number; target: string; responder?: string; mac?: number[]; technique?: number }): Buffer {
  const b = Buffer.alloc(RECORD_SIZE);
  b[0] = fields.kind;
  b[1] = fields.flags ?? 0;
  b[2] = fields.ttl ?? 64;
  b[3] = fields.icmpType ?? 0;
  b[4] = fields.icmpCode ?? 0;
  b[5] = 6;
  b.writeUInt16LE(fields.port, 6);
  b[10] = fields.technique ?? 1;
  b.writeUInt32LE(123, 12);
  const put = (text: string, at: number): void => {
    const v = parseIPv6(text)!;
    b.writeBigUInt64BE(v >> 64n, at);
    b.writeBigUInt64BE(v & 0xffffffffffffffffn, at + 8);
  };
  put(fields.target, 16);
  put(fields.responder ?? fields.target, 32);
  if (fields.mac) Buffer.from(fields.mac).copy(b, 48);
  return b;
}

test('the decoder reads IPv6 records: canonical text, bigint value, the responder, the MAC', (t) => {
  const buf = Buffer.concat([
    record6({ kind: RecordKind.Tcp, flags: 0x12, port: 80, target: '2001:2:0:1::7', mac: [2, 0, 0, 0, 0, 2] }),
    record6({ kind: RecordKind.Icmp, icmpType: 1, icmpCode: 1, port: 445, target: '2001:2::2', responder: '2001:2::fe' }),
  ]);
  t.is(RECORD_SIZE, 64);
  const [a, b] = decodeBatch(buf);
  t.like(a, { kind: RecordKind.Tcp, flags: 0x12, ttl: 64, port: 80, address: '2001:2:0:1::7', responder: '2001:2:0:1::7', family: 6, mac: '02:00:00:00:00:02', rttUs: 123 });
  t.is(a.target, parseIPv6('2001:2:0:1::7'));
  t.like(b, { address: '2001:2::2', responder: '2001:2::fe', icmpType: 1, icmpCode: 1 });
  t.is(b.mac, undefined);
});

const icmp6 = (type: number, code: number, responder = '2001:2::2'): EngineRecord => ({
  kind: RecordKind.Icmp,
  flags: 0,
  ttl: 64,
  icmpType: type,
  icmpCode: code,
  address: '2001:2::2',
  family: 6,
  port: 80,
  window: 0,
  attempt: 0,
  rttUs: 1,
  responder,
});

test("ICMPv6 errors get nmap's verdicts (scan_engine_raw.cc, portreasons.cc)", (t) => {
  const want: [number, number, string, string][] = [
    [1, 0, 'filtered', 'no-route'],
    [1, 1, 'filtered', 'admin-prohibited'],
    [1, 2, 'filtered', 'beyond-scope'],
    [1, 3, 'filtered', 'host-unreach'],
    [1, 4, 'filtered', 'port-unreach'],
    [1, 5, 'filtered', 'admin-prohibited'],
    [1, 6, 'filtered', 'reject-route'],
    [4, 0, 'open', 'param-problem'],
    [4, 1, 'filtered', 'param-problem'],
  ];
  for (const technique of ['syn', 'ack', 'fin', 'window', 'udp'] as Technique[]) {
    for (const [type, code, state, reason] of want) {
      if (technique === 'udp' && type === 1 && code === 4) continue;
      t.like(classify(icmp6(type, code), technique), { state, reason, ttl: 64 }, `${technique} ${type}/${code}`);
    }
    // time exceeded and packet too big decide nothing for a port, in nmap's IPv6 engine
    t.is(classify(icmp6(3, 0), technique), undefined);
    t.is(classify(icmp6(2, 0), technique), undefined);
  }
  // UDP: port unreachable from the target is closed; from a router, filtered (and names it)
  t.like(classify(icmp6(1, 4), 'udp'), { state: 'closed', reason: 'port-unreach' });
  t.like(classify(icmp6(1, 4, '2001:2::fe'), 'udp'), { state: 'filtered', reason: 'port-unreach', reasonIp: '2001:2::fe' });
  // an ICMPv4 3/3 is not an ICMPv6 1/3: the family decides the table
  t.like(classify({ ...icmp6(3, 3), family: undefined, address: '198.18.0.2', responder: '198.18.0.2' }, 'syn'), { reason: 'port-unreach' });
  t.is(classify(icmp6(1, 1), 'connect'), undefined);
});

test('host evidence over IPv6: echo reply (129), neighbour advertisement (nd-response)', (t) => {
  t.deepEqual(hostEvidence({ ...icmp6(129, 0), technique: 11 }), { reason: 'echo-reply', ttl: 64 });
  t.is(hostEvidence({ ...icmp6(0, 0), technique: 11 }), undefined, 'type 0 is not an ICMPv6 echo reply');
  t.deepEqual(hostEvidence({ ...icmp6(0, 0), kind: RecordKind.Ndp }), { reason: 'nd-response', ttl: 0 });
  // port unreachable from the target itself shows it up
  t.deepEqual(hostEvidence({ ...icmp6(1, 4), technique: 9 }), { reason: 'port-unreach', ttl: 64 });
});

test('the hosts model keys IPv6 hosts by bigint and reports them in target order', async (t) => {
  const targets = await parseTargets6(['2001:2::9', '2001:2::/126'], noDns);
  const model = new ScanModel({ targets, ports: [22, 80], technique: 'syn', isLocal: () => false });
  const tcp = (address: string, port: number, flags: number): EngineRecord => ({ kind: RecordKind.Tcp, flags, ttl: 64, icmpType: 0, icmpCode: 0, address, target: parseIPv6(address), family: 6, port, window: 0, attempt: 0, rttUs: 30, responder: address });
  t.like(model.add(tcp('2001:2::2', 80, 0x12)), { address: '2001:2::2', port: 80, state: 'open', reason: 'syn-ack' });
  model.add(tcp('2001:2::2', 22, 0x14));
  model.add(tcp('2001:2::9', 22, 0x12));
  t.is(model.add(tcp('2001:2::77', 22, 0x12)), undefined, 'not a target');
  t.is(model.hostsUp, 2);
  const up = [...model.upReports()];
  t.deepEqual(up.map((h) => h.address), ['2001:2::9', '2001:2::2'], 'command-line order');
  t.is(up[1].ports.get(22)?.state, 'closed');
  t.is(up[1].latency, 30e-6);
  t.is([...model.reports()].length, 5);
});

const ROUTES6 = `20010002000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    veth0
20010002000000010000000000000000 40 00000000000000000000000000000000 00 fe8000000000000000000000000000aa 00000400 00000001 00000000 00000003    veth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    veth0
20010002000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001    veth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

test('the IPv6 routing table: on-link and routed prefixes, local, multicast and null entries left out', (t) => {
  const routes = parseProcRoutes6(ROUTES6);
  t.is(routes.length, 3);
  t.like(routeFor6(routes, parseIPv6('2001:2::2')!), { iface: 'veth0', prefix: 64, gateway: undefined });
  t.like(routeFor6(routes, parseIPv6('2001:2:0:1::7')!), { gateway: parseIPv6('fe80::aa') });
  t.is(routeFor6(routes, parseIPv6('2001:3::1')!), undefined);
  const groups = groupByRoute6([{ start: parseIPv6('2001:2::')!, end: parseIPv6('2001:2:0:1::ff')! }], routes);
  t.deepEqual(
    groups.map((g) => [g.direct, g.ranges.map((r) => `${formatIPv6(r.start)}-${formatIPv6(r.end)}`)]),
    [
      [true, ['2001:2::-2001:2::ffff:ffff:ffff:ffff']],
      [false, ['2001:2:0:1::-2001:2:0:1::ff']],
    ],
  );
});

test.serial('-sL -6 lists IPv6 targets as nmap -sL -n -6 does', (t) => {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe' });
  const r = spawnSync(process.execPath, [bin, '-sL', '-6', '2001:2::/126', 'fe80::1%lo'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.deepEqual(lines.slice(1, -1), ['ferroscan scan report for 2001:2::', 'ferroscan scan report for 2001:2::1', 'ferroscan scan report for 2001:2::2', 'ferroscan scan report for 2001:2::3', 'ferroscan scan report for fe80::1']);
  t.regex(lines[lines.length - 1], /^ferroscan done: 5 IP addresses \(0 hosts up\)/);
});
