// One scan run of the CLI, from the first probe to the last line: the output documents and
// the normal report, the hosts streamed as they complete (ts/output/stream.ts), the resume
// checkpoints (checkpoint.ts), the status line, packet tracing, and how the run stops
// (SIGINT/SIGTERM, --host-timeout). The steps of a run (discover.ts, port-scan.ts,
// report.ts) share it, and its hooks are what the engine calls while a scan runs.
import { dirname } from 'node:path';
import type { NativeScan } from '../engine/native.js';
import { ProgressMeter } from '../engine/progress.js';
import { splitByRoute, type PreparedScan } from '../engine/prepare.js';
import type { RunHooks } from '../engine/scan.js';
import { PacketTracer } from '../engine/trace.js';
import { RecordKind, type EngineRecord } from '../engine/records.js';
import { readJournal, type JournalContents } from '../engine/resume-journal.js';
import type { DiscoveredHost } from '../hosts/discovery.js';
import { MacBook, type HostFacts } from '../hosts/host-facts.js';
import { HintBook } from '../os/hints.js';
import type { HostStatus, PortResult, ScanModel } from '../hosts/model.js';
import { NormalWriter } from '../output/normal.js';
import { Outputs } from '../output/outputs.js';
import { HostSet } from '../output/host-set.js';
import { HostStream } from '../output/stream.js';
import type { SkippedTarget } from '../output/writer.js';
import { formatIPv4, type AddressRange } from '../targets/address.js';
import { blocklistNotice } from '../targets/blocklist.js';
import { repeatedNotice } from '../targets/list-scan.js';
import { serviceTable } from '../targets/services.js';
import { targetEntries } from '../targets/targets.js';
import type { AddressValue } from '../targets/address6.js';
import { TECHNIQUES, type Technique } from '../verdicts/classify.js';
import { PRODUCT } from '../version.js';
import { Checkpoints, continuedOutputs } from './checkpoint.js';
import type { ScanPlan } from './plan.js';
import { loadLiveLine, StatusReporter } from './status.js';

/** The targets left out for want of a route, as XML's target elements name them. */
function skippedTargets(ranges: readonly AddressRange[]): SkippedTarget[] | undefined {
  if (ranges.length === 0) return undefined;
  return ranges.map((r) => ({ specification: r.start === r.end ? formatIPv4(r.start) : `${formatIPv4(r.start)}-${formatIPv4(r.end)}`, reason: 'invalid' }));
}

/** The error an interrupted run's output documents end with. */
export const stopped = (signal: NodeJS.Signals): string => `caught ${signal} signal, cleaning up`;

export class ScanSession {
  readonly outputs: Outputs;
  /** Where the normal report goes: nowhere when a format was sent to stdout instead. */
  readonly screen: (s: string) => void;
  readonly writer: NormalWriter;
  /** The TCP technique, connect once the SYN scan fell back to it. */
  technique: Technique;
  /** The running scan's title, technique and port count (-sS -sU runs two, one after the other). */
  title: string;
  phase: Technique;
  phasePorts: number;
  private dataDir: string | undefined;
  readonly addresses: number;
  readonly controller = new AbortController();
  /** The first SIGINT or SIGTERM, once one came. */
  interrupted: NodeJS.Signals | undefined;
  /** --host-timeout passed. */
  timedOut = false;
  /** Host discovery's hosts up (undefined with -Pn). */
  discovered: Map<AddressValue, DiscoveredHost> | undefined;
  /** Live progress or Stats lines on stderr and keypress status (ts/cli/status.ts). */
  status: StatusReporter | undefined;
  facts: HostFacts = {};
  /** Hosts written as they complete (every format but normal output). */
  readonly stream: HostStream;
  /** The resume file and journal, rewritten while the scan runs. */
  readonly checkpoints: Checkpoints;
  /** What the run this one resumes had learnt (its journal, read back). */
  readonly resumedContents: JournalContents | undefined;
  /** Host discovery ran to its end (or was skipped by -Pn or a resumed run). */
  discoveryComplete = false;
  /** The port scan's engine has started. */
  portScanStarted = false;
  private startedAt = new Date();
  private announced = false;
  private hostTimer: NodeJS.Timeout | undefined;
  private tracer: PacketTracer | undefined;
  // Open ports of the phases done (-sS -sU) and the model of the running one, for the progress line.
  private openBefore = 0;
  private running: ScanModel | undefined;
  private engineElapsedUs = (): number => 0;
  /** Where --packet-trace and --version-trace lines go. */
  readonly traceOut: (s: string) => void;

  private constructor(
    readonly plan: ScanPlan,
    readonly prepared: PreparedScan,
    out: (s: string) => void,
  ) {
    // Output files are checked and opened before any packet is sent (a resumed run goes on
    // with the interrupted run's files); a format on stdout replaces the report.
    const resumed = plan.resumed;
    this.resumedContents = resumed?.phase === 'ports' && resumed.journal ? readJournal(resumed.journal.file, resumed.journal.length) : undefined;
    const files = resumed ? continuedOutputs(plan.outputTargets, resumed) : { targets: plan.outputTargets, continued: [] };
    this.outputs = Outputs.open(files.targets, out, files.continued);
    this.screen = this.outputs.toStdout ? (): void => {} : out;
    const { args } = plan;
    this.writer = new NormalWriter(this.screen, prepared.ports, { reason: args.reason, open: args.open, verbose: args.v, pingScan: plan.pingScan, versionScan: plan.versionScan !== undefined, osScan: plan.os !== undefined, osGuess: plan.os?.guess });
    this.technique = plan.technique;
    this.title = TECHNIQUES[plan.technique].title;
    this.phase = plan.technique;
    this.phasePorts = prepared.ports.length;
    this.addresses = prepared.targets.count;
    this.traceOut = this.outputs.toStdout ? (s: string): void => void process.stderr.write(s) : this.screen;
    const written = new HostSet();
    for (const v of this.resumedContents?.written ?? []) written.add(v);
    this.stream = new HostStream({ write: (h) => this.outputs.streamHost(h), onWritten: (v) => this.checkpoints.journal?.hostWritten(v), facts: this.facts, targets: prepared.targets, written, namesReady: args.n });
    // Resume positions belong to one engine permutation: runs of several techniques or routes are not resumable.
    try {
      const notResumable = plan.cluster ? 'the distributed sweep was cancelled (it cannot be resumed)' : plan.udpScan ? 'a run of several scan types cannot be resumed' : plan.pingScan ? 'a ping scan (-sn) cannot be resumed: run it again' : splitByRoute(prepared.native).length > 1 ? 'targets that leave by several routes cannot be resumed' : undefined;
      this.checkpoints = Checkpoints.open({ argv: plan.argv, seed: plan.seed, resumeFile: plan.resumedFrom ?? args['resume-file'], notResumable, resumed, startPosition: plan.startPosition ?? 0, discovery: !args.Pn }, this.outputs);
    } catch (e) {
      // A bad --resume-file (or route split): no output file is left behind either.
      this.outputs.abandon();
      throw e;
    }
  }

  /**
   * Where the port table came from ("Read data files from:" with -v). Read when first asked,
   * at the end: reading and parsing nmap-services takes tens of milliseconds that a scan
   * need not spend before its first probe (benches/startup.mjs).
   */
  get dataSource(): string {
    this.dataDir ??= dirname(serviceTable().source);
    return this.dataDir;
  }

  /** Opens the outputs and starts listening for signals and the host timeout. */
  static async open(plan: ScanPlan, prepared: PreparedScan, out: (s: string) => void): Promise<ScanSession> {
    const session = new ScanSession(plan, prepared, out);
    process.on('SIGINT', session.onSignal);
    process.on('SIGTERM', session.onSignal);
    // --host-timeout: the hosts are scanned interleaved, not one after another, so the timeout
    // runs for the whole run: when it passes, the scan stops and every host still up is
    // reported as nmap reports a timed-out host ("Skipping host X due to host timeout"), its
    // partial results dropped.
    const timeoutMs = plan.timing.hostTimeoutMs;
    session.hostTimer = timeoutMs === undefined ? undefined : setTimeout(() => {
      session.timedOut = true;
      session.controller.abort();
    }, timeoutMs);
    session.hostTimer?.unref();
    if (process.stderr.isTTY) await loadLiveLine();
    session.facts.macs = new MacBook(prepared.targets, { interface: plan.args.e });
    if (plan.osHints !== undefined) session.facts.hints = new HintBook(plan.osHints);
    session.checkpoints.start();
    return session;
  }

  /**
   * The first SIGINT or SIGTERM stops the engine; what was found is reported and every
   * output document is closed as an interrupted run. A second one closes them at once and quits.
   */
  readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.interrupted) {
      this.outputs.end({ finishedAt: new Date(), elapsedSeconds: this.elapsed(), addresses: this.addresses, up: 0, error: stopped(signal), dataSource: this.dataSource });
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    }
    this.interrupted = signal;
    this.controller.abort();
  };

  /** Seconds since the scan started, the runs this one resumes included. */
  elapsed(): number {
    return (this.plan.resumed?.elapsedSeconds ?? 0) + (Date.now() - this.startedAt.getTime()) / 1000;
  }

  /** The start lines and the output documents' heads: once, when discovery or the port scan begins. */
  announce(at: Date): void {
    if (this.announced) return;
    this.announced = true;
    this.startedAt = at;
    this.writer.start(at);
    const notice = blocklistNotice(this.prepared.targets.blocklist ?? []);
    if (notice) this.screen(`${notice}\n`);
    if (this.prepared.targets.repeated) this.screen(`${repeatedNotice(this.prepared.targets.repeated)}\n`);
    const { args, udpScan, pingScan, argv } = this.plan;
    const { technique, prepared, addresses } = this;
    this.outputs.begin({ startedAt: at, args: [PRODUCT, ...argv], technique, ports: prepared.ports, ...(udpScan && { scans: [{ technique, ports: prepared.ports }, udpScan] }), addresses, verbose: args.v, open: args.open, reason: args.reason, pingScan, versionScan: this.plan.versionScan !== undefined, skipped: skippedTargets(this.plan.unroutable), osScan: this.plan.os !== undefined, osGuess: this.plan.os?.guess });
  }

  /** Discovery's verdicts, as the model takes them (undefined with -Pn). */
  discoveredStatus(): Map<AddressValue, HostStatus> | undefined {
    return this.discovered && new Map([...this.discovered].map(([v, h]) => [v, h.status] as const));
  }

  /** The options of every port scan of the run. */
  runOptions(): { assumeUp: boolean; discovered: Map<AddressValue, HostStatus> | undefined; signal: AbortSignal } {
    return { assumeUp: this.plan.args.Pn, discovered: this.discoveredStatus(), signal: this.controller.signal };
  }

  /** What the engine calls while a port scan runs. */
  hooks(): RunHooks {
    return {
      onStart: (engine, at, model) => this.engineStarted(engine, at, model),
      onRecords: (records, batch) => this.records(records, batch),
      onResult: (r) => this.result(r),
    };
  }

  private engineStarted(engine: NativeScan, at: Date, model: ScanModel): void {
    this.openBefore += this.running?.openPorts ?? 0;
    const first = !this.portScanStarted;
    this.portScanStarted = true;
    this.running = model;
    if (first) {
      // What the interrupted run learnt goes into the model before any new record.
      for (const batch of this.resumedContents?.batches ?? []) {
        this.facts.macs?.note(batch);
        for (const r of batch) if (r.kind !== RecordKind.ProbeSent) model.add(r);
      }
      this.checkpoints.portScanStarted(engine);
      // Hosts stream while the first (and only) technique runs; -sS -sU writes them at the
      // end, and so do -sV and -O (a host's services and OS are known only after their scans).
      if (!this.plan.udpScan && !this.plan.versionScan && !this.plan.os) this.stream.attach(model);
    } else this.stream.detach();
    this.announce(at);
    this.status?.stop();
    const meter = new ProgressMeter();
    const { args, statsEvery, udpScan } = this.plan;
    this.status = new StatusReporter({
      progress: () => meter.sample(engine.summary(), this.openBefore + model.openPorts),
      context: () => ({ title: this.title, hosts: this.addresses, up: args.Pn ? this.addresses : (this.discovered?.size ?? model.hostsUp) }),
      statsEvery,
      onInterrupt: () => this.onSignal('SIGINT'),
    });
    if (args['packet-trace']) {
      this.engineElapsedUs = () => engine.summary().elapsedMs * 1000;
      const { sourceAddress, sourcePort } = engine.summary();
      this.tracer = new PacketTracer({ sourceAddress, sourcePort });
    }
    const firstTarget = targetEntries(this.prepared.targets).next().value;
    if (firstTarget) this.writer.scanStarted(this.title, at, this.addresses, firstTarget, this.phasePorts);
    if (udpScan) this.outputs.phase({ kind: 'begin', technique: this.phase, at });
    // Last, so the start lines above are printed before the live line appears below them.
    this.status.start();
  }

  private records(records: EngineRecord[], batch: Buffer): void {
    this.facts.macs?.note(records);
    this.facts.hints?.note(records);
    if (this.checkpoints.enabled) this.checkpoints.journal?.batch(batch);
    if (!this.tracer) return;
    const lines = this.tracer.batch(records, this.engineElapsedUs());
    // The live line is lifted around every stdout write.
    if (lines.length) this.status?.around(() => this.traceOut(lines.map((l) => `${l.text}\n`).join('')));
  }

  private result(r: PortResult): void {
    if (this.status) this.status.around(() => this.writer.discovered(r));
    else this.writer.discovered(r);
    this.outputs.result(r, new Date());
    this.stream.result(r);
  }

  /**
   * A failed run: every output file is left as it was before the run (NAME.part removed) and
   * the resume file as the run found it.
   */
  failed(_e: unknown): void {
    this.outputs.abandon();
    this.checkpoints.failed();
  }

  /** Undoes everything open() set up, so a finished scan exits by itself. */
  close(): void {
    this.checkpoints.stop();
    if (this.hostTimer) clearTimeout(this.hostTimer);
    this.status?.stop();
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  exitCode(): number {
    return this.interrupted === 'SIGTERM' ? 143 : this.interrupted ? 130 : 0;
  }
}
