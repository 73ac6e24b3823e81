// The send rate (issue 14), checked on what the engine did, never on how long it took: with
// no rate option the rate is found (it grows far past the old fixed 10,000 packets/s on a lab
// that loses nothing, and settles near the capacity of a path that drops everything above
// it, finding every port); --rate holds a fixed rate, --max-rate caps the found one,
// --min-rate floors it, and -T shapes its start. The counters come from the library's
// summary (test/helpers/rate-child.ts) and from the CLI's packet trace.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { START_RATES } from '../ts/engine/rate.js';
import { describe, labUp, useLabOf, type Lab } from './helpers/lab.js';

const child = fileURLToPath(new URL('./helpers/rate-child.ts', import.meta.url));
/** The bottleneck lab's capacity, packets per second. */
const N = 10_000;
/** 16,384 addresses that all answer on port 80 (part of the lab's local /16). */
const SWEEP = '198.19.0.0/18';
const SWEEP_SIZE = 16_384;

const clean = useLabOf(test, () => labUp(), 'the loss-free lab');
const narrow = useLabOf(test, () => labUp({ bottleneck: N }), 'the bottleneck lab');

interface Outcome {
  open: number;
  sent: number;
  retransmits: number;
  elapsedSeconds: number;
  rate: number;
  peakRate: number;
  backoffs: number;
  completed: boolean;
}

async function sweep(lab: Lab, options: Record<string, unknown>, cidr = SWEEP): Promise<Outcome> {
  const r = await lab.execInScanner(process.execPath, ['--import=tsx', child, cidr, '80', JSON.stringify(options)], { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(describe('rate-child', r));
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Outcome;
}

test.serial('no rate option: the rate grows without a cap on a path that loses nothing', async (t) => {
  const o = await sweep(clean(), {}, '198.19.0.0/16');
  t.is(o.open, 65_536, 'every address found');
  t.true(o.completed);
  // the old default sent at a fixed 10,000 packets/s at most; the found rate passes it many
  // times over (what the sender reaches depends on the machine, not on a cap)
  t.true(o.peakRate > 4 * 10_000, `peak ${o.peakRate}`);
  t.true(o.sent / o.elapsedSeconds > 10_000, `${Math.round(o.sent / o.elapsedSeconds)} packets/s on average`);
});

test.serial('no rate option: the rate settles near a bottleneck and every port is found', async (t) => {
  // the bottleneck is real: a fixed rate four times above it, without resends, loses most
  const fixed = await sweep(narrow(), { rate: 4 * N, maxRetries: 0 });
  t.true(fixed.open < 0.5 * SWEEP_SIZE, `fixed ${4 * N}/s found ${fixed.open}`);
  const found = await sweep(narrow(), {});
  t.is(found.open, SWEEP_SIZE, 'every address found');
  t.true(found.backoffs >= 1, 'the rate was cut for loss');
  t.true(found.rate > 0.5 * N && found.rate < 1.6 * N, `settled at ${Math.round(found.rate)} for a path of ${N}`);
  // a floor above the bottleneck holds, where the found rate would settle below it
  const floored = await sweep(narrow(), { minRate: 2 * N, maxRetries: 2 });
  t.true(floored.rate >= 2 * N, `floored at ${floored.rate}`);
  t.true(floored.backoffs >= 1, 'loss still seen');
});

test.serial('--rate holds a fixed rate, --max-rate caps the found one', async (t) => {
  const fixed = await sweep(clean(), { rate: 20_000 });
  t.is(fixed.open, SWEEP_SIZE);
  t.is(fixed.peakRate, 20_000, 'never above the fixed rate');
  t.is(fixed.rate, 20_000, 'and there at the end: nothing was lost');
  t.true(fixed.sent / fixed.elapsedSeconds <= 20_000 * 1.02, `${Math.round(fixed.sent / fixed.elapsedSeconds)} packets/s`);
  const capped = await sweep(clean(), { maxRate: 15_000 });
  t.is(capped.open, SWEEP_SIZE);
  t.is(capped.peakRate, 15_000, 'the found rate reached the cap and no more');
  t.true(capped.sent / capped.elapsedSeconds <= 15_000 * 1.02, `${Math.round(capped.sent / capped.elapsedSeconds)} packets/s`);
});

/** Seconds between the first and the last of the first `k` probes the CLI's packet trace shows. */
async function firstProbesSpan(lab: Lab, args: string[], k: number): Promise<number> {
  const r = await lab.ferroscan(['-sS', '-Pn', '-n', '--packet-trace', '--max-retries', '0', '-p', `1-${k}`, ...args, lab.facts.targetAddr], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(describe('ferroscan --packet-trace', r));
  const times = [...r.stdout.matchAll(/^SENT \((\d+\.\d+)s\) TCP /gm)].map((m) => Number(m[1]));
  if (times.length < k) throw new Error(`only ${times.length} SENT lines:\n${r.stdout}`);
  return times[k - 1] - times[0];
}

test.serial('-T shapes where the found rate starts: T2 slow, T3 modest, T4 and T5 higher', async (t) => {
  const k = 32;
  // the rate limiter spaces the first probes at least 1/start apart (growth needs 16 answered
  // probes and 8 ms of them first): lower bounds that hold however busy the machine is
  const span = async (level: string, extra: string[] = []) => firstProbesSpan(clean(), [`-T${level}`, ...extra], k);
  // -T2 sets nmap's 400 ms scan delay; without it -T2 still starts at its own start rate
  const t2 = await span('2', ['--scan-delay', '0']);
  const t3 = await span('3');
  const t4 = await span('4');
  const t5 = await span('5');
  t.true(t2 >= 15 / START_RATES[2], `-T2: ${t2} s`);
  t.true(t3 >= 15 / START_RATES[3], `-T3: ${t3} s`);
  t.true(t4 >= 15 / START_RATES[4], `-T4: ${t4} s`);
  t.true(t5 < t3 && t4 < t2, `-T5 ${t5} s and -T4 ${t4} s start faster than -T3 ${t3} s and -T2 ${t2} s`);
});
