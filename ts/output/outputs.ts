// ts/output/ — the report. Takes the run's events (begin, result, host, phase, end) and
// HostReports; gives nmap's formats: normal (normal.ts, normal-file.ts), XML, grepable, JSON and
// NDJSON, CSV, and masscan's list. This file opens the writers the options ask for.
//
// The output options (-oN -oX -oG -oJ -oL -oA --ndjson --csv, "-" for stdout) and the set
// of writers they open. The CLI pulls these options out of argv before yargs sees them
// (nmap's two-letter single-dash flags would otherwise split into letters), opens every
// file before the scan starts, and feeds the set one event stream. `end` is idempotent and
// synchronous, so a signal handler can close every document at any point.
import { UsageError } from '../errors.js';
import type { HostReport, PortResult } from '../hosts/model.js';
import { CsvWriter } from './csv.js';
import { GrepableWriter } from './grepable.js';
import { JsonWriter, NdjsonWriter } from './json.js';
import { ListWriter } from './list.js';
import { NormalFileWriter } from './normal-file.js';
import { FileSink, StdoutSink, type Sink } from './sink.js';
import type { OutputWriter, PhaseEvent, RunEnd, RunInfo } from './writer.js';
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

const NAMES: Record<OutputFormat, string> = {
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

/** Every output of a run, fed together. */
export class Outputs {
  private state: 'new' | 'begun' | 'ended' = 'new';

  private constructor(
    private readonly writers: OutputWriter[],
    private readonly sinks: Sink[],
    /** True when a format writes to stdout (the terminal report is then not printed, as nmap). */
    readonly toStdout: boolean,
  ) {}

  /** Opens every file now; a file that cannot be opened is a UsageError naming it. */
  static open(targets: readonly OutputTarget[], stdout: (text: string) => void): Outputs {
    const writers: OutputWriter[] = [];
    const sinks: Sink[] = [];
    try {
      for (const t of targets) {
        const sink = t.path === '-' ? new StdoutSink(stdout) : new FileSink(t.path, NAMES[t.format]);
        sinks.push(sink);
        writers.push(writerFor(t.format, sink));
      }
    } catch (e) {
      for (const s of sinks) s.close();
      throw e;
    }
    return new Outputs(writers, sinks, targets.some((t) => t.path === '-'));
  }

  get empty(): boolean {
    return this.writers.length === 0;
  }

  begin(info: RunInfo): void {
    if (this.state !== 'new') return;
    this.state = 'begun';
    for (const w of this.writers) w.begin(info);
  }

  result(r: PortResult, at: Date): void {
    if (this.state !== 'begun') return;
    for (const w of this.writers) w.result?.(r, at);
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

  host(host: HostReport): void {
    if (this.state !== 'begun') return;
    for (const w of this.writers) w.host?.(host);
  }

  /** Closes every document and file; later calls do nothing. */
  end(end: RunEnd): void {
    if (this.state === 'ended') return;
    const begun = this.state === 'begun';
    this.state = 'ended';
    try {
      if (begun) for (const w of this.writers) w.end(end);
    } finally {
      for (const s of this.sinks) s.close();
    }
  }
}
