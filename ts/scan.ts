// The library's scan API on top of the engine: checks and resolves options, starts the
// native scan, decodes record batches and folds them into the model. `scan()` streams
// port results (with progress events, a summary and AbortSignal support); `runScan()` runs
// to the end and returns the model.
import { AbortError, FerroscanError, ScanError } from './errors.js';
import { ScanModel, type ModelOptions, type PortResult } from './model.js';
import { native, type NativeScan, type NativeScanOptions, type NativeSummary } from './native.js';
import { parsePorts } from './ports.js';
import { udpPayloads } from './udp-payloads.js';
import { ProgressMeter, type ScanProgress } from './progress.js';
import { drawsSynAck, RST_POLICIES, suppressRsts, type RstGuard, type RstPolicy } from './rst-policy.js';
import { decodeBatch, RecordKind, type EngineRecord } from './records.js';
import { PacketTracer, type TraceLine } from './trace.js';
import { engineRanges, parseIPv4, parseTargets, type AddressRange, type Resolver, type TargetSet } from './targets.js';
import { groupByRoute, ownIPv4Addresses, systemRoutes } from './routes.js';
import type { Technique } from './classify.js';

/** Packets per second when no rate is given: fast on a LAN, gentle on most links (~440 KB/s of SYNs). */
export const DEFAULT_RATE = 10_000;
/** Retransmissions of an unanswered probe, as nmap's default. */
export const DEFAULT_MAX_RETRIES = 10;

/** What to scan and how. Only `targets` is required. */
export interface ScanOptions {
  /** Target specs: addresses, CIDR blocks, ranges, hostnames ('198.18.0.0/24', '198.18.0.1-20'). */
  targets: readonly string[];
  /** A -p style string ('22,80,1000-2000', '-', 'http,ssh') or a list of ports; the 1000 most common TCP ports when absent. */
  ports?: string | readonly number[];
  /** Probe technique, as nmap's -sS/-sA/...; 'syn' when absent. */
  technique?: Technique;
  /** The probe's TCP flags for technique 'flags' (nmap's --scanflags), as a byte. */
  tcpFlags?: number;
  /** Packets per second, retransmissions included; DEFAULT_RATE when absent; Infinity for no limit. */
  rate?: number;
  /** Seed of the probe order; the same seed gives the same order. */
  seed?: bigint | number;
  /** Retransmissions of an unanswered probe; DEFAULT_MAX_RETRIES (10, as nmap) when absent. */
  maxRetries?: number;
  /** Network interface to send on; chosen from the routing table when absent. */
  interface?: string;
  /** Source IPv4 address; chosen from the routing table when absent. */
  sourceAddress?: string;
  /** -Pn: report every target as up, unanswered ports filtered. */
  assumeUp?: boolean;
  /**
   * Stops the scan: the engine's threads stop and `scan()`'s iterator ends by throwing an
   * AbortError (its summary still resolves, with `aborted: true`). `runScan()` instead
   * returns what was found up to then.
   */
  signal?: AbortSignal;
  /** Name resolution (defaults to the system resolver; a name's first IPv4 address is scanned). */
  resolve?: Resolver;
  /** Scan every IPv4 address of a name, not only the first (nmap's --resolve-all). */
  resolveAll?: boolean;
  /** Target specs never to probe (nmap's --exclude / --excludefile entries). */
  exclude?: readonly string[];
  /** Leave IANA special-purpose ranges out of target sets larger than a /8 (ts/blocklist.ts); true when absent. */
  defaultBlocklist?: boolean;
  /** Probe in address and port order instead of the seeded permutation (nmap's -r). */
  sequential?: boolean;
  /** Have the engine report every probe it sends (`packet` events; the CLI's --packet-trace). */
  trace?: boolean;
  /** Milliseconds between `progress` events; 1000 when absent. */
  progressInterval?: number;
  /**
   * Retransmission timeout bounds in milliseconds (nmap's --initial-rtt-timeout,
   * --min-rtt-timeout, --max-rtt-timeout); nmap's 1000, 100 and 10000 when absent.
   */
  initialRttTimeoutMs?: number;
  minRttTimeoutMs?: number;
  maxRttTimeoutMs?: number;
  /** The adaptive rate never drops below this many packets per second (nmap's --min-rate); at most `rate`. */
  minRate?: number;
  /** Adapt the rate to loss as nmap's congestion control does; true when absent. */
  adaptive?: boolean;
  /**
   * What happens to the RSTs this host's kernel sends to the SYN/ACKs a SYN scan draws
   * (ts/rst-policy.ts): 'kernel' leaves them (the default); 'suppress' drops those SYN/ACKs
   * in this namespace's raw table for the scan's duration (needs iptables and root).
   */
  rstPolicy?: RstPolicy;
}

/** Options checked and targets resolved: everything needed before packets flow. */
export interface PreparedScan {
  targets: TargetSet;
  ports: number[];
  /** 'suppress' when the scan drops the SYN/ACKs it draws before this host's kernel answers them. */
  rstPolicy?: RstPolicy;
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
  const ports = parsePorts(options.ports, options.technique === 'udp' ? 'udp' : 'tcp');
  const targets = await parseTargets(options.targets, options.resolve, {
    resolveAll: options.resolveAll,
    exclude: options.exclude,
    defaultBlocklist: options.defaultBlocklist,
  });
  const maxRetries = positive('maxRetries', options.maxRetries, DEFAULT_MAX_RETRIES, 0);
  if (!Number.isInteger(maxRetries)) throw new ScanError(`invalid maxRetries "${maxRetries}"`, 'EINVAL');
  const opts: NativeScanOptions = {
    ranges: engineRanges(targets),
    ports,
    technique: options.technique ?? 'syn',
    // Infinity: no limit (the engine then sends as fast as the link takes packets)
    rate: options.rate === Infinity ? Infinity : positive('rate', options.rate, DEFAULT_RATE, Number.MIN_VALUE),
    maxRetries,
  };
  if (options.seed !== undefined) opts.seed = BigInt(options.seed);
  if (options.sequential) opts.sequential = true;
  if (opts.technique === 'flags') {
    if (options.tcpFlags === undefined) throw new ScanError('technique "flags" needs tcpFlags', 'EINVAL');
    opts.tcpFlags = options.tcpFlags;
  }
  if (opts.technique === 'udp') opts.udpPayloads = [...udpPayloads()].map(([port, payload]) => ({ port, payload }));
  if (options.interface !== undefined) opts.interface = options.interface;
  if (options.sourceAddress !== undefined) opts.sourceAddress = options.sourceAddress;
  if (options.trace) opts.trace = true;
  if (options.initialRttTimeoutMs !== undefined) opts.initialRttTimeoutMs = positive('initialRttTimeoutMs', options.initialRttTimeoutMs, 0, 0);
  if (options.minRttTimeoutMs !== undefined) opts.minRttTimeoutMs = positive('minRttTimeoutMs', options.minRttTimeoutMs, 0, 0);
  if (options.maxRttTimeoutMs !== undefined) opts.maxRttTimeoutMs = positive('maxRttTimeoutMs', options.maxRttTimeoutMs, 0, 0);
  if (options.minRate !== undefined) {
    opts.minRate = positive('minRate', options.minRate, 0, 0);
    if (opts.minRate > opts.rate) throw new ScanError(`invalid minRate "${opts.minRate}" (above the rate, ${opts.rate})`, 'EINVAL');
  }
  if (options.adaptive !== undefined) opts.adaptive = options.adaptive;
  const rstPolicy = options.rstPolicy ?? 'kernel';
  if (!RST_POLICIES.includes(rstPolicy)) throw new ScanError(`invalid rstPolicy "${rstPolicy}" (one of ${RST_POLICIES.join(', ')})`, 'EINVAL');
  if (rstPolicy === 'suppress') {
    // The rule names the source ports: fix them now (retransmissions leave from port + attempt).
    opts.sourcePort = 32768 + Math.floor(Math.random() * (61000 - 32768 - maxRetries));
    return { targets, ports, native: opts, rstPolicy };
  }
  return { targets, ports, native: opts };
}

/**
 * The same scan (targets already resolved, same rate, seed, interface, ...) with another
 * technique and port list: the second scan of a -sS -sU run.
 */
export function withTechnique(prepared: PreparedScan, technique: Technique, ports: readonly number[], tcpFlags?: number): PreparedScan {
  const opts: NativeScanOptions = { ...prepared.native, ports: [...ports], technique };
  delete opts.tcpFlags;
  delete opts.udpPayloads;
  if (technique === 'flags') {
    if (tcpFlags === undefined) throw new ScanError('technique "flags" needs tcpFlags', 'EINVAL');
    opts.tcpFlags = tcpFlags;
  }
  if (technique === 'udp') opts.udpPayloads = [...udpPayloads()].map(([port, payload]) => ({ port, payload }));
  return { ...prepared, ports: [...ports], native: opts };
}

/** Suppression rules held for running engines (--rst-policy suppress), released by drain(). */
const rstGuards = new WeakMap<NativeScan, RstGuard>();

/** Starts the engine; its "CODE: text" errors become ScanError with that code. */
export function startEngine(prepared: PreparedScan): NativeScan {
  const n = prepared.native;
  const guard =
    prepared.rstPolicy === 'suppress' && !n.dryRun && n.sourcePort !== undefined && drawsSynAck(n.technique, n.tcpFlags ?? undefined)
      ? suppressRsts(n.sourcePort, Math.min(65535, n.sourcePort + n.maxRetries))
      : undefined;
  try {
    const engine = native().startScan(n);
    if (guard) rstGuards.set(engine, guard);
    return engine;
  } catch (e) {
    guard?.release();
    const message = (e as Error).message ?? String(e);
    const m = /^([A-Z]+):\s*(.*)$/s.exec(message);
    throw new ScanError(message.split('\n')[0], m ? m[1] : 'ENGINE');
  }
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
    rstGuards.get(engine)?.release();
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

/**
 * The engine options split into one scan per route: loopback and this host's own addresses,
 * then each route of the routing table, in order of first use. One part when everything
 * leaves the same way (the common case); sharding and resuming need that, since their
 * positions belong to one permutation.
 */
export function splitByRoute(opts: NativeScanOptions): NativeScanOptions[] {
  const ranges: AddressRange[] = [];
  for (let i = 0; i + 1 < opts.ranges.length; i += 2) ranges.push({ start: opts.ranges[i], end: opts.ranges[i + 1] });
  if (opts.dryRun || opts.technique === 'connect' || opts.interface !== undefined || ranges.length === 0) return [opts];
  // this host's addresses and 127/8 leave through lo: cut them out first
  const local: AddressRange[] = [{ start: 0x7f000000, end: 0x7fffffff }, ...ownIPv4Addresses().flatMap((s) => parseIPv4(s) ?? []).map((a) => ({ start: a, end: a }))];
  const own: AddressRange[] = [];
  let rest: AddressRange[] = ranges;
  for (const l of local) {
    const next: AddressRange[] = [];
    for (const r of rest) {
      if (r.end < l.start || r.start > l.end) {
        next.push(r);
        continue;
      }
      own.push({ start: Math.max(r.start, l.start), end: Math.min(r.end, l.end) });
      if (r.start < l.start) next.push({ start: r.start, end: l.start - 1 });
      if (r.end > l.end) next.push({ start: l.end + 1, end: r.end });
    }
    rest = next;
  }
  const groups = [own.sort((a, b) => a.start - b.start), ...groupByRoute(rest.sort((a, b) => a.start - b.start), systemRoutes()).map((g) => g.ranges)].filter((g) => g.length > 0);
  if (groups.length <= 1) return [opts];
  if (opts.shardCount !== undefined || opts.startPosition !== undefined) {
    throw new ScanError('--shard and --resume need targets that leave by one route; these need several', 'EINVAL');
  }
  return groups.map((g) => ({ ...opts, ranges: g.flatMap((r) => [r.start, r.end]) }));
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

/** Runs a whole scan and returns the hosts/ports model. */
export async function runScan(options: ScanOptions, hooks: RunHooks = {}): Promise<ScanReport> {
  return runPrepared(await prepareScan(options), options, hooks);
}
