// nmap's timing options: the -T0 … -T5 templates and the low-level controls they set
// (--min-rate, --max-rate, --initial/min/max-rtt-timeout, --max-retries, --scan-delay,
// --host-timeout), with ferroscan's --rate, resolved into the engine's options. Explicit
// options always override the template, as in nmap. Values come from nmap's own templates
// (nmap.cc, "Timing Templates" in the reference guide); the level also shapes the rate the
// engine finds when no --rate is given (ts/engine/rate.ts).
import { UsageError } from '../errors.js';
import type { RateOptions } from './rate.js';

/** Values one template sets; absent fields keep the defaults. Times in milliseconds. */
export interface TimingTemplate {
  name: string;
  scanDelayMs?: number;
  initialRttTimeoutMs?: number;
  minRttTimeoutMs?: number;
  maxRttTimeoutMs?: number;
  maxRetries?: number;
  /** nmap's cap on its dynamic scan delay (TCP). ferroscan adapts its rate instead of a delay, so this is informational. */
  maxScanDelayMs?: number;
  hostTimeoutMs?: number;
}

/** -T0 … -T5, as nmap defines them. */
export const TEMPLATES: readonly TimingTemplate[] = [
  { name: 'paranoid', scanDelayMs: 300_000, initialRttTimeoutMs: 300_000 },
  { name: 'sneaky', scanDelayMs: 15_000, initialRttTimeoutMs: 15_000 },
  { name: 'polite', scanDelayMs: 400 },
  { name: 'normal' },
  { name: 'aggressive', initialRttTimeoutMs: 500, minRttTimeoutMs: 100, maxRttTimeoutMs: 1250, maxRetries: 6, maxScanDelayMs: 10 },
  { name: 'insane', initialRttTimeoutMs: 250, minRttTimeoutMs: 50, maxRttTimeoutMs: 300, maxRetries: 2, maxScanDelayMs: 5, hostTimeoutMs: 900_000 },
];

/** The engine's RTT timeout bounds when nothing sets them (nmap's defaults). */
export const DEFAULT_RTT_MS = { initial: 1000, min: 100, max: 10_000 };

/** -T's value: 0-5 or a template name (any case). */
export function parseTemplate(text: string): { level: number; template: TimingTemplate } {
  const t = text.trim().toLowerCase();
  const level = /^[0-5]$/.test(t) ? Number(t) : TEMPLATES.findIndex((x) => x.name === t);
  if (level < 0) throw new UsageError(`invalid timing template "-T${text}" (0-5, or paranoid, sneaky, polite, normal, aggressive, insane)`);
  return { level, template: TEMPLATES[level] };
}

/**
 * nmap's <time> syntax: a number of seconds, or a number followed by ms, s, m or h
 * ("500ms", "2s", "1.5m", "1h"). Returns milliseconds; zero only when `allowZero`.
 */
export function parseTime(text: string, option: string, allowZero = false): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/i.exec(text.trim());
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const ms = m ? Number(m[1]) * unit[(m[2] ?? 's').toLowerCase()] : NaN;
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !allowZero)) {
    throw new UsageError(`invalid ${option} "${text}" (a time such as 500ms, 2s or 1m; a bare number is seconds)`);
  }
  return ms;
}

function parseRate(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`invalid ${option} "${text}"`);
  return n;
}

/** The timing options as typed (strings, undefined when absent). */
export interface TimingArgs {
  timing?: string;
  rate?: string;
  maxRate?: string;
  minRate?: string;
  maxRetries?: string;
  initialRttTimeout?: string;
  minRttTimeout?: string;
  maxRttTimeout?: string;
  scanDelay?: string;
  hostTimeout?: string;
}

/** What the timing options resolve to. Fields absent: the engine's (nmap's) defaults apply. */
export interface Timing {
  /** The template level, when -T was given. */
  level?: number;
  /** --rate: a fixed rate in packets per second, capped at 1/scan-delay. Absent: the rate is found. */
  rate?: number;
  /** The cap of a found rate: --max-rate, or 1/scan-delay, whichever is lower. */
  maxRate?: number;
  minRate?: number;
  maxRetries?: number;
  initialRttTimeoutMs?: number;
  minRttTimeoutMs?: number;
  maxRttTimeoutMs?: number;
  /** The delay between probes, when set (by --scan-delay or -T0…-T2): the rate is capped at 1/delay. */
  scanDelayMs?: number;
  /** --host-timeout (or -T5's 15 minutes). */
  hostTimeoutMs?: number;
}

/**
 * Resolves -T and the explicit timing options. Explicit options override the template; when
 * the RTT bounds would cross, the values the user did not give move to make room (as nmap
 * does), and two explicit values that cross are an error.
 */
export function resolveTiming(args: TimingArgs): Timing {
  const out: Timing = {};
  const template: TimingTemplate = args.timing === undefined ? TEMPLATES[3] : parseTemplate(args.timing).template;
  if (args.timing !== undefined) out.level = TEMPLATES.indexOf(template);

  // Rates: --rate fixes the rate; without it the engine finds it, under --max-rate.
  const rate = parseRate(args.rate, '--rate');
  let maxRate = parseRate(args.maxRate, '--max-rate');
  if (rate !== undefined && maxRate !== undefined && rate > maxRate) {
    throw new UsageError(`--rate (${args.rate}) is above --max-rate (${args.maxRate})`);
  }
  const minRate = parseRate(args.minRate, '--min-rate');
  const ceiling = rate ?? maxRate;
  if (minRate !== undefined && ceiling !== undefined && minRate > ceiling) {
    throw new UsageError(`--min-rate (${args.minRate}) is above ${rate !== undefined ? '--rate' : '--max-rate'} (${ceiling})`);
  }

  // Retries.
  if (args.maxRetries !== undefined) {
    const n = Number(args.maxRetries);
    if (args.maxRetries.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`invalid --max-retries "${args.maxRetries}"`);
    out.maxRetries = n;
  } else if (template.maxRetries !== undefined) out.maxRetries = template.maxRetries;

  // Scan delay: a ceiling on the rate of 1 probe per delay.
  const scanDelay = args.scanDelay !== undefined ? parseTime(args.scanDelay, '--scan-delay', true) : template.scanDelayMs;
  if (scanDelay !== undefined && scanDelay > 0) {
    out.scanDelayMs = scanDelay;
    const cap = 1000 / scanDelay;
    if (minRate !== undefined && minRate > cap) {
      throw new UsageError(`--min-rate (${minRate}) is above the ${cap} packets per second that a scan delay of ${scanDelay} ms allows`);
    }
    maxRate = maxRate === undefined ? cap : Math.min(maxRate, cap);
  }
  if (rate !== undefined) out.rate = maxRate === undefined ? rate : Math.min(rate, maxRate);
  else if (maxRate !== undefined) out.maxRate = maxRate;
  if (minRate !== undefined) out.minRate = minRate;

  // RTT timeouts.
  const given = {
    initial: args.initialRttTimeout === undefined ? undefined : parseTime(args.initialRttTimeout, '--initial-rtt-timeout'),
    min: args.minRttTimeout === undefined ? undefined : parseTime(args.minRttTimeout, '--min-rtt-timeout'),
    max: args.maxRttTimeout === undefined ? undefined : parseTime(args.maxRttTimeout, '--max-rtt-timeout'),
  };
  const fromTemplate = { initial: template.initialRttTimeoutMs, min: template.minRttTimeoutMs, max: template.maxRttTimeoutMs };
  if (given.min !== undefined && given.max !== undefined && given.min > given.max) {
    throw new UsageError(`--min-rtt-timeout (${args.minRttTimeout}) is above --max-rtt-timeout (${args.maxRttTimeout})`);
  }
  for (const [a, b] of [['initial', 'min'], ['initial', 'max']] as const) {
    const x = given[a];
    const y = given[b];
    if (x !== undefined && y !== undefined && (b === 'min' ? x < y : x > y)) {
      throw new UsageError(`--initial-rtt-timeout (${args.initialRttTimeout}) lies outside the ${b === 'min' ? 'minimum' : 'maximum'} --${b}-rtt-timeout (${b === 'min' ? args.minRttTimeout : args.maxRttTimeout})`);
    }
  }
  const set = (k: 'initial' | 'min' | 'max'): boolean => given[k] !== undefined || fromTemplate[k] !== undefined;
  if (set('initial') || set('min') || set('max')) {
    // Who set each value: the user (2) over the template (1) over the default (0). Where the
    // values would break min <= initial <= max, the lower-ranked one moves.
    const rank = (k: 'initial' | 'min' | 'max'): number => (given[k] !== undefined ? 2 : fromTemplate[k] !== undefined ? 1 : 0);
    let min = given.min ?? fromTemplate.min ?? DEFAULT_RTT_MS.min;
    let max = given.max ?? fromTemplate.max ?? DEFAULT_RTT_MS.max;
    let initial = given.initial ?? fromTemplate.initial ?? DEFAULT_RTT_MS.initial;
    if (min > max) {
      if (rank('min') >= rank('max')) max = min;
      else min = max;
    }
    if (initial < min) {
      if (rank('initial') >= rank('min')) min = initial;
      else initial = min;
    }
    if (initial > max) {
      if (rank('initial') >= rank('max')) max = initial;
      else initial = max;
    }
    out.initialRttTimeoutMs = initial;
    out.minRttTimeoutMs = min;
    out.maxRttTimeoutMs = max;
  }

  const hostTimeout = args.hostTimeout !== undefined ? parseTime(args.hostTimeout, '--host-timeout', true) : template.hostTimeoutMs;
  // nmap: --host-timeout 0 means no timeout.
  if (hostTimeout !== undefined && hostTimeout > 0) out.hostTimeoutMs = hostTimeout;
  return out;
}

/** The rate options the resolved timing gives a scan (ts/engine/rate.ts). */
export function rateOptions(timing: Timing): RateOptions {
  const out: RateOptions = {};
  if (timing.rate !== undefined) out.rate = timing.rate;
  if (timing.maxRate !== undefined) out.maxRate = timing.maxRate;
  if (timing.minRate !== undefined) out.minRate = timing.minRate;
  if (timing.level !== undefined) out.timingTemplate = timing.level;
  return out;
}
