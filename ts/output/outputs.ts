// ts/output/ — the report. Takes the run's events (begin, result, host, phase, end) and
// HostReports; gives nmap's formats: normal (normal.ts, normal-file.ts), XML, grepable, JSON and
// NDJSON, CSV, and masscan's list. This file opens the writers the options ask for.
//
// The output options (-oN -oX -oG -oJ -oL -oA --ndjson --csv, "-" for stdout) and the set
// of writers they open. The CLI pulls these options out of argv before yargs sees them
// (nmap's two-letter single-dash flags would otherwise split into letters), checks every
// path and opens every file before the scan starts (NAME.part, renamed over NAME at the end:
// sink.ts), and feeds the set one event stream. Hosts reach the streaming writers as they
// complete (streamHost) and the sorted ones (normal output) at the end (host). `end` is
// idempotent and synchronous, so a signal handler can close every document at any point;
// `abandon` undoes a failed run; `marks` says where each file stands, for resume checkpoints.
import { UsageError } from '../errors.js';
import type { HostReport, PortResult } from '../hosts/model.js';
import { CsvWriter } from './csv.js';
import { GrepableWriter } from './grepable.js';
import { JsonWriter, NdjsonWriter } from './json.js';
import { ListWriter } from './list.js';
import { NormalFileWriter } from './normal-file.js';
import { targetKind } from './paths.js';
import { FileSink, StdoutSink, type Sink } from './sink.js';
import type { ListedTarget, OutputWriter, PhaseEvent, RunEnd, RunInfo, WriterState } from './writer.js';
import { XmlWriter } from './xml.js';

export type OutputFormat = 'normal' | 'xml' | 'grepable' | 'json' | 'ndjson' | 'csv' | 'list';

export interface OutputTarget {
  format: OutputFormat;
  /** A file path, or "-" for stdout. */
  path: string;
}

/** The option that selects each format, as typed on the command line. */
const FLAGS: Record<string, OutputFormat | 'all'> = {
  '-oN': 'normal',
  '-oX': 'xml',
  '-oG': 'grepable',
  '-oJ': 'json',
  '-oL': 'list',
  '-oA': 'all',
  '--ndjson': 'ndjson',
  '--csv': 'csv',
};

export const NAMES: Record<OutputFormat, string> = {
  normal: 'normal output',
  xml: 'XML output',
  grepable: 'grepable output',
  json: 'JSON output',
  ndjson: 'NDJSON output',
  csv: 'CSV output',
  list: 'list output',
};

/**
 * Removes the output options from argv and returns them with the rest. "-oX FILE",
 * "-oX=FILE" and "--oX FILE" are accepted; "-oA BASE" stands for BASE.nmap, BASE.xml and
 * BASE.gnmap, as in nmap. Throws UsageError for a missing name, an unknown -o format,
 * more than one format on stdout, or two formats in one file.
 */
export function extractOutputOptions(argv: readonly string[]): { rest: string[]; outputs: OutputTarget[] } {
  const rest: string[] = [];
  const outputs: OutputTarget[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^(--?o[A-Za-z]|--ndjson|--csv)(?:=(.*))?$/.exec(arg);
    if (!m) {
      rest.push(arg);
      continue;
    }
    const flag = m[1].replace(/^--o/, '-o');
    const format = FLAGS[flag];
    if (!format) throw new UsageError(`unknown output format "${flag}" (use -oN, -oX, -oG, -oJ, -oL, -oA, --ndjson or --csv)`);
    let path = m[2];
    if (path === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option ${flag} needs a file name ("-" for stdout)`);
      path = argv[++i];
    }
    if (path === '') throw new UsageError(`option ${flag} needs a file name ("-" for stdout)`);
    if (format === 'all') {
      if (path === '-') throw new UsageError('-oA cannot write to stdout: it makes three files');
      outputs.push({ format: 'normal', path: `${path}.nmap` }, { format: 'xml', path: `${path}.xml` }, { format: 'grepable', path: `${path}.gnmap` });
    } else outputs.push({ format, path });
  }
  if (outputs.filter((o) => o.path === '-').length > 1) throw new UsageError('only one output format can go to stdout ("-")');
  const files = outputs.filter((o) => o.path !== '-').map((o) => o.path);
  const twice = files.find((p, i) => files.indexOf(p) !== i);
  if (twice !== undefined) throw new UsageError(`two output formats name the same file "${twice}"`);
  return { rest, outputs };
}

function writerFor(format: OutputFormat, sink: Sink): OutputWriter {
  switch (format) {
    case 'normal':
      return new NormalFileWriter(sink);
    case 'xml':
      return new XmlWriter(sink);
    case 'grepable':
      return new GrepableWriter(sink);
    case 'json':
      return new JsonWriter(sink);
    case 'ndjson':
      return new NdjsonWriter(sink);
    case 'csv':
      return new CsvWriter(sink);
    case 'list':
      return new ListWriter(sink);
  }
}

/** Where one output file stands: what a resumed run needs to go on writing it. */
export interface OutputMark {
  format: OutputFormat;
  /** The path as given on the command line. */
  path: string;
  /** The file being written now (NAME.part). */
  writing: string;
  /** Bytes written so far, all of them flushed. */
  offset: number;
  /** The writer's counters (writer.state()). */
  state?: WriterState;
}

/** A file of an interrupted run to go on writing: its text up to `offset` is kept. */
export interface ContinuedOutput {
  source: string;
  offset: number;
  state?: WriterState;
}

/** Checks every file path (UsageError for the first bad one) without creating anything. */
export function checkOutputTargets(targets: readonly OutputTarget[]): void {
  for (const t of targets) if (t.path !== '-') targetKind(t.path, NAMES[t.format]);
}

/** Every output of a run, fed together. */
export class Outputs {
  private state: 'new' | 'begun' | 'ended' = 'new';
  private readonly streaming: OutputWriter[];
  private readonly sorted: OutputWriter[];

  private constructor(
    private readonly targets: readonly OutputTarget[],
    private readonly writers: OutputWriter[],
    private readonly sinks: Sink[],
    /** True when a format writes to stdout (the terminal report is then not printed, as nmap). */
    readonly toStdout: boolean,
    private readonly continued: readonly (ContinuedOutput | undefined)[],
  ) {
    this.streaming = writers.filter((w) => !w.sorted);
    this.sorted = writers.filter((w) => w.sorted);
  }

  /**
   * Checks every path, then opens every file (NAME.part); a path that cannot be written is a
   * UsageError naming it, and nothing is left behind. `continued[i]` goes on with the file of
   * an interrupted run for targets[i] (--resume).
   */
  static open(targets: readonly OutputTarget[], stdout: (text: string) => void, continued: readonly (ContinuedOutput | undefined)[] = []): Outputs {
    checkOutputTargets(targets);
    const writers: OutputWriter[] = [];
    const sinks: Sink[] = [];
    try {
      for (const [i, t] of targets.entries()) {
        const c = continued[i];
        const sink = t.path === '-' ? new StdoutSink(stdout) : new FileSink(t.path, NAMES[t.format], c && { continueFrom: { source: c.source, offset: c.offset } });
        sinks.push(sink);
        writers.push(writerFor(t.format, sink));
      }
    } catch (e) {
      for (const s of sinks) if (s instanceof FileSink) s.discard();
      throw e;
    }
    return new Outputs(targets, writers, sinks, targets.some((t) => t.path === '-'), continued);
  }

  get empty(): boolean {
    return this.writers.length === 0;
  }

  /** Whether a writer takes hosts as they complete (every format but normal output). */
  get streams(): boolean {
    return this.streaming.length > 0;
  }

  begin(info: RunInfo): void {
    if (this.state !== 'new') return;
    this.state = 'begun';
    for (const [i, w] of this.writers.entries()) {
      const c = this.continued[i];
      w.begin(info, c && (c.state ?? {}));
    }
  }

  result(r: PortResult, at: Date): void {
    if (this.state !== 'begun') return;
    for (const w of this.streaming) w.result?.(r, at);
  }

  scanEnded(at: Date): void {
    if (this.state !== 'begun') return;
    for (const w of this.writers) w.scanEnded?.(at);
  }

  /** A technique of a several-technique run starts or ends. */
  phase(event: PhaseEvent): void {
    if (this.state !== 'begun') return;
    for (const w of this.writers) w.phase?.(event);
  }

  /** A host complete while the scan runs: written now by every writer but the sorted ones. */
  streamHost(host: HostReport): void {
    if (this.state !== 'begun') return;
    for (const w of this.streaming) w.host?.(host);
  }

  /**
   * A host at the end of the scan, in target order: the sorted writers write it; the others
   * too, unless it was `streamed` to them already.
   */
  host(host: HostReport, streamed = false): void {
    if (this.state !== 'begun') return;
    for (const w of streamed ? this.sorted : this.writers) w.host?.(host);
  }

  /** -sL: a listed target. */
  listed(target: ListedTarget): void {
    if (this.state !== 'begun') return;
    for (const w of this.writers) w.listed?.(target);
  }

  /** Flushes every file and says where each stands (stdout and special files are left out). */
  marks(): OutputMark[] {
    const out: OutputMark[] = [];
    for (const [i, sink] of this.sinks.entries()) {
      if (!(sink instanceof FileSink) || sink.writing === sink.path) continue;
      sink.flush();
      const t = this.targets[i];
      const state = this.writers[i].state?.();
      out.push({ format: t.format, path: t.path, writing: sink.writing, offset: sink.bytes, ...(state && { state }) });
    }
    return out;
  }

  /** Closes every document and puts every file in place; later calls do nothing. */
  end(end: RunEnd): void {
    if (this.state === 'ended') return;
    const begun = this.state === 'begun';
    this.state = 'ended';
    let failure: unknown;
    try {
      if (begun) for (const w of this.writers) w.end(end);
    } finally {
      for (const s of this.sinks) {
        try {
          s.close();
        } catch (e) {
          failure ??= e;
        }
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** A failed run: every NAME.part is removed and every NAME left as it was. Idempotent. */
  abandon(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    for (const s of this.sinks) if (s instanceof FileSink) s.discard();
  }
}
