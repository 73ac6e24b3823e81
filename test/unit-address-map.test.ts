import test from 'ava';
import { AddressMap } from '../ts/hosts/address-map.js';
import { rng } from './helpers/rng.js';

/** Random 32-bit addresses. */
const addresses = (seed: number): (() => number) => {
  const r = rng(seed);
  return () => Math.floor(r() * 2 ** 32);
};

test('AddressMap agrees with Map over random, neighbouring and extreme addresses', (t) => {
  const r = addresses(11);
  const keys: number[] = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000];
  for (let i = 0; i < 5000; i++) keys.push(r());
  for (let i = 0; i < 3000; i++) keys.push(0xc6130000 + i); // neighbours, in order
  const ours = new AddressMap<number>(4);
  const ref = new Map<number, number>();
  keys.forEach((k, i) => {
    ours.set(k, i);
    ref.set(k, i);
  });
  t.is(ours.size, ref.size);
  const wrong = [...ref].filter(([k, v]) => ours.get(k) !== v);
  t.deepEqual(wrong, []);
  const probes = Array.from({ length: 2000 }, () => r());
  t.deepEqual(probes.filter((k) => ours.get(k) !== ref.get(k) || ours.has(k) !== ref.has(k)), []);
  const back = [...ours.entries()].sort((a, b) => a[0] - b[0]);
  t.deepEqual(back, [...ref].sort((a, b) => a[0] - b[0]));
  t.is([...ours.values()].length, ref.size);
});
