// The library's scan API on top of the engine: checks and resolves options, starts the
// native scan, decodes record batches and folds them into the model. `scan()` streams
// port results; `runScan()` runs to the end and returns the model.
import { ScanError } from './errors.js';
import { ScanModel, type PortResult } from './model.js';
import { native, type NativeScan, type NativeScanOptions, type NativeSummary } from './native.js';
import { parsePorts } from './ports.js';
import { decodeBatch } from './records.js';
import { engineRanges, parseTargets, type Resolver, type TargetSet } from './targets.js';
import type { Technique } from './classify.js';

/** Packets per second when no rate is given: fast on a LAN, gentle on most links (~440 KB/s of SYNs). */
export const DEFAULT_RATE = 10_000;
/** Retransmissions of an unanswered probe, as nmap's default. */
export const DEFAULT_MAX_RETRIES = 10;

export interface ScanOptions {
  /** Target specs: addresses, CIDR blocks, ranges, hostnames. */
  targets: readonly string[];
  /** A -p style string or a list of ports; the 1000 most common TCP ports when absent. */
  ports?: string | readonly number[];
  technique?: Technique;
  /** Packets per second. */
  rate?: number;
  /** Seed of the probe order; the same seed gives the same order. */
  seed?: bigint | number;
  maxRetries?: number;
  interface?: string;
  sourceAddress?: string;
  /** -Pn: report every target as up, unanswered ports filtered. */
  assumeUp?: boolean;
  /** Aborting stops the engine; results gathered so far are kept. */
  signal?: AbortSignal;
  /** Name resolution (defaults to the system resolver, first IPv4 address). */
  resolve?: Resolver;
}

/** Options checked and targets resolved: everything needed before packets flow. */
export interface PreparedScan {
  targets: TargetSet;
  ports: number[];
  native: NativeScanOptions;
}

export interface ScanReport {
  model: ScanModel;
  summary: NativeSummary;
  startedAt: Date;
  elapsedSeconds: number;
}

function positive(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) throw new ScanError(`invalid ${name} "${value}"`, 'EINVAL');
  return value;
}

/** Parses ports and resolves targets; throws TargetError/PortError/ScanError naming bad input. */
export async function prepareScan(options: ScanOptions): Promise<PreparedScan> {
  const ports = parsePorts(options.ports);
  const targets = await parseTargets(options.targets, options.resolve);
  const maxRetries = positive('maxRetries', options.maxRetries, DEFAULT_MAX_RETRIES, 0);
  if (!Number.isInteger(maxRetries)) throw new ScanError(`invalid maxRetries "${maxRetries}"`, 'EINVAL');
  const opts: NativeScanOptions = {
    ranges: engineRanges(targets),
    ports,
    technique: options.technique ?? 'syn',
    rate: positive('rate', options.rate, DEFAULT_RATE, Number.MIN_VALUE),
    maxRetries,
  };
  if (options.seed !== undefined) opts.seed = BigInt(options.seed);
  if (options.interface !== undefined) opts.interface = options.interface;
  if (options.sourceAddress !== undefined) opts.sourceAddress = options.sourceAddress;
  return { targets, ports, native: opts };
}

/** Starts the engine; its "CODE: text" errors become ScanError with that code. */
export function startEngine(prepared: PreparedScan): NativeScan {
  try {
    return native().startScan(prepared.native);
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    const m = /^([A-Z]+):\s*(.*)$/s.exec(message);
    throw new ScanError(message.split('\n')[0], m ? m[1] : 'ENGINE');
  }
}

/** Drains the engine batch by batch, folding every record into `model`. */
async function* drain(engine: NativeScan, model: ScanModel, signal?: AbortSignal): AsyncGenerator<PortResult> {
  const onAbort = (): void => engine.abort();
  if (signal?.aborted) engine.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let batch = await engine.nextBatch(); batch !== null; batch = await engine.nextBatch()) {
      for (const record of decodeBatch(batch)) {
        const result = model.add(record);
        if (result) yield result;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Leaving early (break, throw) must not leave the engine's threads sending.
    if (!engine.summary().finished) engine.abort();
  }
}

/** Streams port results as replies arrive; each port appears when its verdict is set or changes. */
export async function* scan(options: ScanOptions): AsyncGenerator<PortResult> {
  const prepared = await prepareScan(options);
  const model = new ScanModel({ targets: prepared.targets, ports: prepared.ports, technique: prepared.native.technique, assumeUp: options.assumeUp ?? false });
  yield* drain(startEngine(prepared), model, options.signal);
}

export interface RunHooks {
  /** Called once the engine has started (e.g. to print the start line). */
  onStart?(engine: NativeScan, startedAt: Date): void;
  /** Called for every new or changed port verdict. */
  onResult?(result: PortResult): void;
}

/** Runs a prepared scan to the end and returns the model. */
export async function runPrepared(prepared: PreparedScan, options: Pick<ScanOptions, 'assumeUp' | 'signal'> = {}, hooks: RunHooks = {}): Promise<ScanReport> {
  const model = new ScanModel({ targets: prepared.targets, ports: prepared.ports, technique: prepared.native.technique, assumeUp: options.assumeUp ?? false });
  const startedAt = new Date();
  const t0 = performance.now();
  const engine = startEngine(prepared);
  hooks.onStart?.(engine, startedAt);
  for await (const result of drain(engine, model, options.signal)) hooks.onResult?.(result);
  return { model, summary: engine.summary(), startedAt, elapsedSeconds: (performance.now() - t0) / 1000 };
}

/** Runs a whole scan and returns the hosts/ports model. */
export async function runScan(options: ScanOptions, hooks: RunHooks = {}): Promise<ScanReport> {
  return runPrepared(await prepareScan(options), options, hooks);
}
