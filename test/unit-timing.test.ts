// Timing options: nmap's <time> syntax, the -T templates with nmap's values, explicit options
// over the template, the rate options as the engine gets them, and the CLI's rewriting of -T
// forms. No packets.
import test from 'ava';
import { preprocessArgv } from '../ts/cli/flags.js';
import { engineRateFields, START_RATES } from '../ts/engine/rate.js';
import { parseTemplate, parseTime, rateOptions, resolveTiming } from '../ts/engine/timing.js';

test('nmap time syntax: bare seconds, ms, s, m, h', (t) => {
  t.is(parseTime('500ms', '--x'), 500);
  t.is(parseTime('2s', '--x'), 2000);
  t.is(parseTime('2', '--x'), 2000);
  t.is(parseTime('1m', '--x'), 60_000);
  t.is(parseTime('1.5m', '--x'), 90_000);
  t.is(parseTime('1h', '--x'), 3_600_000);
  t.is(parseTime('0', '--scan-delay', true), 0);
  t.throws(() => parseTime('0', '--host-x'), { message: /invalid --host-x "0"/ });
  for (const bad of ['', 'fast', '-1s', '10x', '1 s']) t.throws(() => parseTime(bad, '--max-rtt-timeout'), { message: /invalid --max-rtt-timeout/ });
});

test('templates by number and by name', (t) => {
  for (const [i, name] of ['paranoid', 'sneaky', 'polite', 'normal', 'aggressive', 'insane'].entries()) {
    t.is(parseTemplate(String(i)).level, i);
    t.is(parseTemplate(name).level, i);
    t.is(parseTemplate(name.toUpperCase()).level, i);
  }
  t.throws(() => parseTemplate('6'), { message: /invalid timing template "-T6"/ });
  t.throws(() => parseTemplate('fast'), { message: /invalid timing template/ });
});

test('-T4 and -T5 carry nmap values', (t) => {
  t.deepEqual(resolveTiming({ timing: '4' }), { level: 4, maxRetries: 6, initialRttTimeoutMs: 500, minRttTimeoutMs: 100, maxRttTimeoutMs: 1250 });
  t.deepEqual(resolveTiming({ timing: 'insane' }), {
    level: 5,
    maxRetries: 2,
    initialRttTimeoutMs: 250,
    minRttTimeoutMs: 50,
    maxRttTimeoutMs: 300,
    hostTimeoutMs: 900_000,
  });
  t.deepEqual(resolveTiming({ timing: '3' }), { level: 3 });
  t.deepEqual(resolveTiming({}), {});
});

test('-T0 … -T2 scan delays cap the rate at one probe per delay', (t) => {
  const t0 = resolveTiming({ timing: '0' });
  t.is(t0.scanDelayMs, 300_000);
  t.is(t0.maxRate, 1 / 300);
  t.is(t0.rate, undefined, 'the delay caps the found rate; it fixes nothing');
  // -T0's initial RTT timeout is 5 minutes: the maximum moves up to hold it.
  t.like(t0, { initialRttTimeoutMs: 300_000, minRttTimeoutMs: 100, maxRttTimeoutMs: 300_000 });
  t.like(resolveTiming({ timing: 'sneaky' }), { scanDelayMs: 15_000, maxRate: 1 / 15, initialRttTimeoutMs: 15_000, maxRttTimeoutMs: 15_000 });
  t.like(resolveTiming({ timing: 'polite' }), { scanDelayMs: 400, maxRate: 2.5 });
  // a fixed rate above the delay's cap is held to it
  t.like(resolveTiming({ timing: 'polite', rate: '100' }), { rate: 2.5, maxRate: undefined });
  t.is(resolveTiming({ timing: 'polite' }).initialRttTimeoutMs, undefined);
});

test('explicit options override the template', (t) => {
  t.like(resolveTiming({ timing: '4', maxRetries: '1', maxRttTimeout: '2s' }), { maxRetries: 1, maxRttTimeoutMs: 2000, minRttTimeoutMs: 100, initialRttTimeoutMs: 500 });
  t.like(resolveTiming({ timing: '5', hostTimeout: '1m' }), { hostTimeoutMs: 60_000 });
  t.is(resolveTiming({ timing: '5', hostTimeout: '0' }).hostTimeoutMs, undefined, '--host-timeout 0: none');
  t.like(resolveTiming({ timing: '2', scanDelay: '0' }), { maxRate: undefined, scanDelayMs: undefined });
  t.like(resolveTiming({ timing: '1', scanDelay: '10ms' }), { maxRate: 100, scanDelayMs: 10 });
  // A template bound the user's value crosses moves out of the way.
  t.like(resolveTiming({ timing: '5', minRttTimeout: '1s' }), { minRttTimeoutMs: 1000, maxRttTimeoutMs: 1000, initialRttTimeoutMs: 1000 });
  t.like(resolveTiming({ timing: '4', maxRttTimeout: '50ms' }), { minRttTimeoutMs: 50, maxRttTimeoutMs: 50, initialRttTimeoutMs: 50 });
  t.like(resolveTiming({ initialRttTimeout: '20s' }), { initialRttTimeoutMs: 20_000, minRttTimeoutMs: 100, maxRttTimeoutMs: 20_000 });
  t.like(resolveTiming({ initialRttTimeout: '50ms' }), { initialRttTimeoutMs: 50, minRttTimeoutMs: 50, maxRttTimeoutMs: 10_000 });
});

test('explicit values that contradict each other are errors', (t) => {
  t.throws(() => resolveTiming({ minRttTimeout: '2s', maxRttTimeout: '1s' }), { message: /--min-rtt-timeout \(2s\) is above --max-rtt-timeout \(1s\)/ });
  t.throws(() => resolveTiming({ initialRttTimeout: '5s', maxRttTimeout: '1s' }), { message: /--initial-rtt-timeout/ });
  t.throws(() => resolveTiming({ minRate: '1000', maxRate: '10' }), { message: /--min-rate \(1000\) is above --max-rate \(10\)/ });
  t.throws(() => resolveTiming({ minRate: '100', scanDelay: '1s' }), { message: /--min-rate \(100\) is above/ });
  t.throws(() => resolveTiming({ rate: '30', maxRate: '20' }), { message: /--rate \(30\) is above --max-rate \(20\)/ });
  t.throws(() => resolveTiming({ rate: '30', minRate: '40' }), { message: /--min-rate \(40\) is above --rate \(30\)/ });
  t.throws(() => resolveTiming({ maxRetries: '-1' }), { message: 'invalid --max-retries "-1"' });
  t.throws(() => resolveTiming({ minRate: 'fast' }), { message: 'invalid --min-rate "fast"' });
});

test('rates: --rate fixes the rate, --max-rate caps the found one, --min-rate floors both, -T shapes it', (t) => {
  // no rate option: found from -T3's start, no cap
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({}))), { rate: Infinity, startRate: START_RATES[3], timingLevel: 3 });
  // --rate: a fixed rate from the first probe, nothing found
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({ rate: '500' }))), { rate: 500 });
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({ rate: '500', maxRate: '500' }))), { rate: 500 });
  // --max-rate: the found rate's cap; the start never above it
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({ maxRate: '50000' }))), { rate: 50_000, startRate: START_RATES[3], timingLevel: 3 });
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({ maxRate: '500' }))), { rate: 500, startRate: 500, timingLevel: 3 });
  t.like(resolveTiming({ maxRate: '500', scanDelay: '100ms' }), { maxRate: 10 });
  // --min-rate: the floor, which also raises the start
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({ minRate: '50000' }))), { rate: Infinity, minRate: 50_000, startRate: 50_000, timingLevel: 3 });
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({ minRate: '50', rate: '500' }))), { rate: 500, minRate: 50 });
  // -T: the template's start and shape
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({ timing: '4' }))), { rate: Infinity, startRate: START_RATES[4], timingLevel: 4 });
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({ timing: 'insane' }))), { rate: Infinity, startRate: START_RATES[5], timingLevel: 5 });
  t.deepEqual(engineRateFields(rateOptions(resolveTiming({ timing: 'polite' }))), { rate: 2.5, startRate: 2.5, timingLevel: 2 });
  t.true(START_RATES.every((r, i) => i === 0 || r > START_RATES[i - 1]), 'higher templates start higher');
  // the library's own checks
  t.throws(() => engineRateFields({ rate: 0 }), { message: /invalid rate "0"/ });
  t.throws(() => engineRateFields({ maxRate: -1 }), { message: /invalid maxRate "-1"/ });
  t.throws(() => engineRateFields({ rate: 30, maxRate: 20 }), { message: /invalid rate "30" \(above maxRate, 20\)/ });
  t.throws(() => engineRateFields({ minRate: 30, maxRate: 20 }), { message: /invalid minRate "30"/ });
  t.throws(() => engineRateFields({ timingTemplate: 6 }), { message: /invalid timingTemplate "6"/ });
  t.deepEqual(engineRateFields({ rate: Infinity }), { rate: Infinity }, 'Infinity: no limit');
});

test('-T forms are rewritten for yargs', (t) => {
  t.deepEqual(preprocessArgv(['-T4', '-T', 'insane', '-Tparanoid']), ['--timing=4', '--timing=insane', '--timing=paranoid']);
  t.throws(() => preprocessArgv(['-T']), { message: /option -T needs a timing template/ });
});
