// Per-target failures (issue 16): targets without a route are found before anything is sent
// (ts/engine/reachable.ts: the main table, then the kernel for what it does not cover) and
// left out of the set (withoutRanges); names that do not resolve are left out when the caller
// asks to go on (onUnresolved), as nmap goes on past "Failed to resolve"; and addresses named
// twice are counted (each is probed once).
import test from 'ava';
import { describeRange, unroutableRanges } from '../ts/engine/reachable.js';
import { parseProcRoutes } from '../ts/engine/routes.js';
import { parseIPv4 } from '../ts/targets/address.js';
import { parseTargets, withoutRanges } from '../ts/targets/targets.js';
import type { TargetError } from '../ts/errors.js';

const ip = (s: string): number => parseIPv4(s) as number;
/** "a-b" as an inclusive range. */
const parseAddressRange = (text: string): { start: number; end: number } => {
  const [a, b] = text.split('-');
  return { start: ip(a), end: ip(b) };
};
const noDns = async (): Promise<never> => {
  throw new Error('no DNS in unit tests');
};

// The lab scanner's table: 198.18.0.0/24 on veth0, 198.19.0.0/16 via 198.18.0.2.
const TABLE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
veth0\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
veth0\t000013C6\t020012C6\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0
`;

test('ranges the table does not cover, and the kernel confirms, have no route', async (t) => {
  const routes = parseProcRoutes(TABLE);
  const asked: string[] = [];
  const kernelRoutes = async (a: string): Promise<boolean> => {
    asked.push(a);
    return a === '198.20.0.0'; // policy routing knows this one
  };
  const ranges = [parseAddressRange('198.18.0.2-198.18.1.9'), parseAddressRange('198.19.5.0-198.19.5.255'), parseAddressRange('198.20.0.0-198.20.0.3'), parseAddressRange('203.0.113.7-203.0.113.7')];
  const none = await unroutableRanges(ranges, { routes, kernelRoutes });
  t.deepEqual(none.map(describeRange), ['198.18.1.0-198.18.1.9 (10 addresses)', '203.0.113.7']);
  t.deepEqual(asked, ['198.18.1.0', '198.20.0.0', '203.0.113.7'], 'one question per uncovered range, never per address');
});

test('loopback and this host are always reachable; -e with -S needs no route', async (t) => {
  const never = async (): Promise<boolean> => false;
  t.deepEqual(await unroutableRanges([parseAddressRange('127.0.0.1-127.0.0.9')], { routes: [], kernelRoutes: never }), []);
  t.deepEqual(await unroutableRanges([parseAddressRange('203.0.113.1-203.0.113.2')], { routes: [], kernelRoutes: never, interface: 'veth0', sourceAddress: '198.18.0.1' }), []);
  t.is((await unroutableRanges([parseAddressRange('203.0.113.1-203.0.113.2')], { routes: [], kernelRoutes: never, interface: 'veth0' })).length, 1, '-e alone still needs the kernel for a source address');
});

test('withoutRanges leaves the rest of the set, names and order kept', async (t) => {
  const set = await parseTargets(['198.18.0.2', '198.18.1.0/30', 'named.example'], async () => '198.18.0.9');
  const rest = withoutRanges(set, [{ start: ip('198.18.1.1'), end: ip('198.18.1.2') }]);
  t.is(rest.count, set.count - 2);
  t.deepEqual(rest.pieces.map((p) => [p.start, p.end, p.hostname]), [
    [ip('198.18.0.2'), ip('198.18.0.2'), undefined],
    [ip('198.18.1.0'), ip('198.18.1.0'), undefined],
    [ip('198.18.1.3'), ip('198.18.1.3'), undefined],
    [ip('198.18.0.9'), ip('198.18.0.9'), 'named.example'],
  ]);
  t.is(withoutRanges(set, []), set);
});

test('a name that does not resolve is reported and left out when asked; else it fails the set', async (t) => {
  const resolve = async (name: string): Promise<string> => {
    if (name === 'good.example') return '198.18.0.5';
    throw new Error('NXDOMAIN');
  };
  const failed: TargetError[] = [];
  const set = await parseTargets(['nope.example', 'good.example', '198.18.0.6'], resolve, { onUnresolved: (e) => failed.push(e) });
  t.is(set.count, 2);
  t.deepEqual(failed.map((e) => [e.message, e.token]), [['failed to resolve "nope.example"', 'nope.example']]);
  await t.throwsAsync(parseTargets(['nope.example'], resolve), { message: 'failed to resolve "nope.example"' });
});

test('addresses named more than once are counted, each kept once', async (t) => {
  const set = await parseTargets(['198.18.0.2', '198.18.0.0/30', '198.18.0.2', '198.18.0.8'], noDns);
  t.is(set.count, 5);
  t.is(set.repeated, 2);
  t.is((await parseTargets(['198.18.0.1', '198.18.0.2'], noDns)).repeated, 0);
});
