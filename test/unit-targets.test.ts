// Target parsing: every spec form, merging, order and dedupe, errors, and that huge
// ranges stay ranges.
import test from 'ava';
import { TargetError } from '../ts/errors.js';
import { containsAddress, engineRanges, parseIPv4, parseTargets, targetEntries, type Resolver } from '../ts/targets.js';

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
  const set = await parseTargets(['0.0.0.0/0', '198.18.0.1'], noDns);
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

for (const bad of ['198.18.0.300', '198.18.0', '198.18.0.1/33', '198.18.0.1/x', '198.18.0.9-198.18.0.1', '198.18.0.9-3', '198.18.0.1-256', '010.0.0.1', 'bad_name!', '::1', '198.18.0.1-198.18.0.5/24', '']) {
  test(`rejects ${JSON.stringify(bad)} naming it`, async (t) => {
    const err = await t.throwsAsync(parseTargets([bad], noDns), { instanceOf: TargetError });
    t.true(err!.message.startsWith(`invalid target "${bad}"`), err!.message);
  });
}
