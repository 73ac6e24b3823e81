// The send rate's options, as the library and the CLI take them, resolved into the engine's:
// a fixed rate (--rate, `rate`) is sent from the first probe; without one the engine finds the
// rate (crates/core/src/ramp.rs): it starts at the -T template's start rate, grows while
// replies keep pace with probes, backs off on loss, and has no cap but --max-rate (`maxRate`);
// --min-rate (`minRate`) floors both. Takes RateOptions; gives the engine's rate fields.
import { ScanError } from '../errors.js';
import type { NativeScanOptions } from './native.js';

/**
 * Packets per second a found rate starts at, by -T level (0 paranoid … 5 insane). The engine
 * holds the rest of each template's shape (its growth and back-off: ramp.rs, Profile).
 */
export const START_RATES: readonly number[] = [1, 10, 100, 1_000, 5_000, 20_000];
/** The template when none is named: nmap's "normal" (-T3). */
export const DEFAULT_TIMING_TEMPLATE = 3;

/** The rate options of a scan. Rates are packets per second, retransmissions included. */
export interface RateOptions {
  /** A fixed rate, sent from the first probe (lowered only while nmap's loss rules call for it); Infinity for no limit. Absent: the rate is found. */
  rate?: number;
  /** The cap of a found rate; none when absent. With `rate`, it may not be below it. */
  maxRate?: number;
  /** The floor of the rate, found or fixed (nmap's --min-rate). */
  minRate?: number;
  /** The -T template (0-5) that shapes a found rate: its start, growth and back-off; 3 when absent. */
  timingTemplate?: number;
}

/** The engine's rate fields. */
export type EngineRate = Pick<NativeScanOptions, 'rate' | 'startRate' | 'timingLevel' | 'minRate'>;

function checkRate(name: string, value: number | undefined, allowInfinity: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (Number.isNaN(value) || value <= 0 || (!allowInfinity && !Number.isFinite(value))) throw new ScanError(`invalid ${name} "${value}"`, 'EINVAL');
  return value;
}

/** Checks the options and gives the engine's fields; throws ScanError naming the bad value. */
export function engineRateFields(options: RateOptions): EngineRate {
  const rate = checkRate('rate', options.rate, true);
  const maxRate = checkRate('maxRate', options.maxRate, true);
  const level = options.timingTemplate ?? DEFAULT_TIMING_TEMPLATE;
  if (!Number.isInteger(level) || level < 0 || level > 5) throw new ScanError(`invalid timingTemplate "${options.timingTemplate}" (0-5)`, 'EINVAL');
  if (options.minRate !== undefined && !(Number.isFinite(options.minRate) && options.minRate >= 0)) throw new ScanError(`invalid minRate "${options.minRate}"`, 'EINVAL');
  if (rate !== undefined && maxRate !== undefined && rate > maxRate) throw new ScanError(`invalid rate "${rate}" (above maxRate, ${maxRate})`, 'EINVAL');
  const ceiling = rate ?? maxRate ?? Infinity;
  const minRate = options.minRate;
  if (minRate !== undefined && minRate > ceiling) throw new ScanError(`invalid minRate "${minRate}" (above the rate, ${ceiling})`, 'EINVAL');
  const out: EngineRate = { rate: ceiling };
  if (minRate !== undefined) out.minRate = minRate;
  if (rate === undefined) {
    // found: from the template's start, within the floor and the cap
    out.startRate = Math.min(Math.max(START_RATES[level], minRate ?? 0), ceiling);
    out.timingLevel = level;
  }
  return out;
}
