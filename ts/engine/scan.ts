// ts/engine/ — the native boundary. Takes a scan's options (targets, ports, technique,
// timing); gives port results folded into the hosts/ports model. prepare.ts checks the options
// and starts the addon (native.ts); records.ts decodes its batches; timing.ts, routes.ts,
// rst-policy.ts, resume.ts, progress.ts and trace.ts serve a running scan. This file is the run.
//
// The library's scan API on top of the engine: starts the prepared scan (ts/engine/prepare.ts),
// decodes record batches and folds them into the hosts/ports model. Takes ScanOptions or a
// PreparedScan; gives port results: `scan()` streams them (with progress events, a summary and
// AbortSignal support); `runPrepared()` runs to the end and returns the model.
import { AbortError, FerroscanError, ScanError } from '../errors.js';
import { ScanModel, type ModelOptions, type PortResult } from '../hosts/model.js';
import type { Technique } from '../verdicts/classify.js';
import type { NativeScan, NativeSummary } from './native.js';
import { prepareScan, releaseEngine, splitByRoute, startEngine, type PreparedScan, type ScanOptions } from './prepare.js';
import { ProgressMeter, type ScanProgress } from './progress.js';
import { decodeBatch, RecordKind, type EngineRecord } from './records.js';
import { PacketTracer, type TraceLine } from './trace.js';

export type { ScanOptions } from './prepare.js';

export interface ScanReport {
  model: ScanModel;
  summary: NativeSummary;
  startedAt: Date;
  elapsedSeconds: number;
}

/**
 * Drains the engine batch by batch, folding every record into `model`; `onRecords` sees each
 * batch first. Yields each batch's new or changed verdicts together: one await per batch, not
 * per port (a /16 sweep is 65,536 results).
 */
async function* drain(
  engine: NativeScan,
  model: ScanModel,
  signal?: AbortSignal,
  onRecords?: (records: EngineRecord[]) => void,
): AsyncGenerator<PortResult[]> {
  const onAbort = (): void => engine.abort();
  if (signal?.aborted) engine.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let batch = await engine.nextBatch(); batch !== null; batch = await engine.nextBatch()) {
      const records = decodeBatch(batch);
      onRecords?.(records);
      const results: PortResult[] = [];
      for (const record of records) {
        // Probe-sent records (tracing) are for onRecords only; they carry no verdict.
        if (record.kind === RecordKind.ProbeSent) continue;
        const result = model.add(record);
        if (result) results.push(result);
      }
      if (results.length) yield results;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Leaving early (break, throw) must not leave the engine's threads sending.
    if (!engine.summary().finished) engine.abort();
    releaseEngine(engine);
  }
}

/** The run's totals, as `scan().summary` resolves them once iteration has ended. */
export interface ScanSummary {
  /** When the engine started. */
  startedAt: Date;
  /** Wall time from start to the end of iteration, in seconds. */
  elapsedSeconds: number;
  /** Target addresses and ports scanned; probes to send in all is their product. */
  addresses: number;
  ports: number;
  /** Probes sent, retransmissions included, and the retransmissions among them. */
  sent: number;
  retransmits: number;
  /** Valid replies received, and frames that failed the cookie or did not parse. */
  received: number;
  discarded: number;
  /** Hosts seen up (every target with assumeUp). */
  hostsUp: number;
  /** Ports found open or open|filtered. */
  found: number;
  /** Interface, source address and source port the engine used. */
  interface: string;
  sourceAddress: string;
  sourcePort: number;
  /** On-link targets that did not answer ARP and so got no probe. */
  unresolved: string[];
  /** True when every probe was sent and answered or timed out. */
  completed: boolean;
  /** True when the scan was stopped through its AbortSignal. */
  aborted: boolean;
}

/** The events a running scan emits, with their listeners' signatures. */
export interface ScanEvents {
  /** Every `progressInterval` ms while the engine runs, and once more (finished) at the end. */
  progress: (progress: ScanProgress) => void;
  /** With `trace: true`: one nmap-style SENT/RCVD line per probe and reply, in time order. */
  packet: (line: TraceLine) => void;
}

const DEFAULT_PROGRESS_INTERVAL_MS = 1000;

function abortError(signal: AbortSignal): AbortError {
  return new AbortError('the scan was aborted', { cause: signal.reason });
}


/**
 * A running scan: an async iterator of port results that also carries the run's summary,
 * progress and trace events. Created by `scan()`; the engine starts on the first `next()`
 * (the first turn of `for await`), and the iterator can be consumed once.
 */
export class Scan implements AsyncIterableIterator<PortResult> {
  /**
   * Settles when iteration ends: resolves with the totals after the last result, after a
   * `break`, or after an abort (`aborted: true`); rejects with the scan's error when the scan
   * failed (bad options, engine errors). Never settles when the scan is never iterated.
   */
  readonly summary: Promise<ScanSummary>;
  private readonly options: ScanOptions;
  private readonly iterator: AsyncGenerator<PortResult>;
  private readonly listeners: { [E in keyof ScanEvents]: Set<ScanEvents[E]> } = { progress: new Set(), packet: new Set() };
  private settle!: { resolve(s: ScanSummary): void; reject(e: unknown): void };
  private engine: NativeScan | undefined;
  private scanModel: ScanModel | undefined;
  private meter = new ProgressMeter();
  private timer: NodeJS.Timeout | undefined;
  private tracer: PacketTracer | undefined;
  private running = false;

  /** Use `scan(options)`. */
  constructor(options: ScanOptions) {
    this.options = options;
    this.summary = new Promise<ScanSummary>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // The iterator reports the same error; an unawaited summary must not crash the process.
    this.summary.catch(() => undefined);
    this.iterator = this.run();
  }

  /** Adds a listener. Listeners run synchronously and must not throw. */
  on<E extends keyof ScanEvents>(event: E, listener: ScanEvents[E]): this {
    (this.listeners[event] as Set<ScanEvents[E]>).add(listener);
    if (event === 'progress' && this.running) this.startTimer();
    return this;
  }

  /** Removes a listener added with `on`. */
  off<E extends keyof ScanEvents>(event: E, listener: ScanEvents[E]): this {
    (this.listeners[event] as Set<ScanEvents[E]>).delete(listener);
    if (event === 'progress' && this.listeners.progress.size === 0) this.stopTimer();
    return this;
  }

  /** Progress now; undefined before the engine has started. */
  progress(): ScanProgress | undefined {
    if (!this.engine) return undefined;
    return this.meter.sample(this.engine.summary(), this.scanModel?.openPorts ?? 0);
  }

  /** The hosts/ports model results are folded into (for the output writers); undefined before the engine has started. */
  get model(): ScanModel | undefined {
    return this.scanModel;
  }

  next(): Promise<IteratorResult<PortResult, undefined>> {
    return this.iterator.next() as Promise<IteratorResult<PortResult, undefined>>;
  }

  /** Stops early (what `break` in `for await` calls): the engine is stopped and the summary resolves. */
  return(): Promise<IteratorResult<PortResult, undefined>> {
    return this.iterator.return(undefined) as Promise<IteratorResult<PortResult, undefined>>;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private emit<E extends keyof ScanEvents>(event: E, ...args: Parameters<ScanEvents[E]>): void {
    for (const listener of this.listeners[event]) (listener as (...a: Parameters<ScanEvents[E]>) => void)(...args);
  }

  private startTimer(): void {
    if (this.timer || this.listeners.progress.size === 0) return;
    this.timer = setInterval(() => {
      const p = this.progress();
      if (p) this.emit('progress', p);
    }, this.options.progressInterval ?? DEFAULT_PROGRESS_INTERVAL_MS);
    // Progress reports never keep a process alive on their own.
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private onRecords(engine: NativeScan, records: EngineRecord[]): void {
    if (!this.options.trace || this.listeners.packet.size === 0) return;
    const now = engine.summary();
    this.tracer ??= new PacketTracer({ sourceAddress: now.sourceAddress, sourcePort: now.sourcePort });
    for (const line of this.tracer.batch(records, now.elapsedMs * 1000)) this.emit('packet', line);
  }

  private summarise(engine: NativeScan, model: ScanModel, startedAt: Date, t0: number, completed: boolean): ScanSummary {
    const s = engine.summary();
    return {
      startedAt,
      elapsedSeconds: (performance.now() - t0) / 1000,
      addresses: model.targets.count,
      ports: model.ports.length,
      sent: s.sent,
      retransmits: s.retransmits,
      received: s.received,
      discarded: s.discarded,
      hostsUp: model.hostsUp,
      found: model.openPorts,
      interface: s.interface,
      sourceAddress: s.sourceAddress,
      sourcePort: s.sourcePort,
      unresolved: s.unresolved,
      completed,
      aborted: this.options.signal?.aborted ?? false,
    };
  }

  private async *run(): AsyncGenerator<PortResult> {
    const { signal } = this.options;
    let engine: NativeScan | undefined;
    let model: ScanModel | undefined;
    let completed = false;
    const startedAt = new Date();
    const t0 = performance.now();
    try {
      if (signal?.aborted) throw abortError(signal);
      const ms = this.options.progressInterval;
      if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) throw new ScanError(`invalid progressInterval "${ms}"`, 'EINVAL');
      const prepared = await prepareScan(this.options);
      if (signal?.aborted) throw abortError(signal);
      model = new ScanModel({ targets: prepared.targets, ports: prepared.ports, technique: prepared.native.technique as Technique, assumeUp: this.options.assumeUp ?? false });
      this.scanModel = model;
      engine = startEngine(prepared);
      this.engine = engine;
      this.running = true;
      this.startTimer();
      const e = engine;
      for await (const results of drain(engine, model, signal, (records) => this.onRecords(e, records))) {
        // After an abort the engine drains what it already had: keep folding, stop yielding.
        for (const result of results) if (!signal?.aborted) yield result;
      }
      // drain() ends once the engine has stopped: its threads are gone when this throws.
      if (signal?.aborted) throw abortError(signal);
      completed = true;
    } catch (e) {
      if (e instanceof AbortError && engine && model) this.settle.resolve(this.summarise(engine, model, startedAt, t0, false));
      else this.settle.reject(e);
      throw e;
    } finally {
      this.running = false;
      this.stopTimer();
      if (engine && model) {
        // One last report, so listeners see the end (100% when completed).
        if (this.listeners.progress.size) this.emit('progress', this.meter.sample(engine.summary(), model.openPorts));
        this.settle.resolve(this.summarise(engine, model, startedAt, t0, completed));
      } else if (!completed) this.settle.reject(new FerroscanError('the scan ended before it started'));
    }
  }
}

/**
 * Starts a scan and streams its port results as replies arrive: each port appears when its
 * verdict is set or changes. The returned Scan is an async iterable that also exposes
 * `summary` (a promise), `on('progress', ...)` and, with `trace`, `on('packet', ...)`.
 *
 * ```ts
 * for await (const r of scan({ targets: ['198.18.0.2'], ports: '1-1000', signal })) console.log(r.port, r.state);
 * ```
 */
export function scan(options: ScanOptions): Scan {
  return new Scan(options);
}

export interface RunHooks {
  /** Called once the engine has started (e.g. to print the start line), with the model it fills. */
  onStart?(engine: NativeScan, startedAt: Date, model: ScanModel): void;
  /** Called for every new or changed port verdict. */
  onResult?(result: PortResult): void;
  /** Called with every decoded batch, probe-sent records (tracing) included, before it is classified. */
  onRecords?(records: EngineRecord[]): void;
}

/** Runs a prepared scan to the end and returns the model. */
export async function runPrepared(
  prepared: PreparedScan,
  options: Pick<ScanOptions, 'assumeUp' | 'signal'> & Pick<ModelOptions, 'discovered'> = {},
  hooks: RunHooks = {},
): Promise<ScanReport> {
  const model = new ScanModel({ targets: prepared.targets, ports: prepared.ports, technique: prepared.native.technique as Technique, assumeUp: options.assumeUp ?? false, discovered: options.discovered });
  const startedAt = new Date();
  const t0 = performance.now();
  const onRecords = hooks.onRecords && ((records: EngineRecord[]) => hooks.onRecords?.(records));
  // The engine sends to one next hop per scan: targets that leave by different routes
  // (this host's own addresses, on-link hosts, routed ranges) get one engine scan each.
  const parts = splitByRoute(prepared.native);
  let summary: NativeSummary | undefined;
  for (const [i, part] of parts.entries()) {
    if (i > 0 && options.signal?.aborted) break;
    const engine = startEngine({ ...prepared, native: part });
    if (i === 0) hooks.onStart?.(engine, startedAt, model);
    for await (const results of drain(engine, model, options.signal, onRecords)) for (const result of results) hooks.onResult?.(result);
    summary = addSummaries(summary, engine.summary());
  }
  return { model, summary: summary as NativeSummary, startedAt, elapsedSeconds: (performance.now() - t0) / 1000 };
}

/** Counters of several engine scans added up; facts (interface, source) from the first. */
function addSummaries(a: NativeSummary | undefined, b: NativeSummary): NativeSummary {
  if (!a) return b;
  return {
    ...a,
    sent: a.sent + b.sent,
    retransmits: a.retransmits + b.retransmits,
    received: a.received + b.received,
    records: a.records + b.records,
    discarded: a.discarded + b.discarded,
    total: a.total + b.total,
    elapsedMs: a.elapsedMs + b.elapsedMs,
    unresolved: [...a.unresolved, ...b.unresolved],
    finished: a.finished && b.finished,
  };
}
