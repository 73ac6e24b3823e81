// What every output writer (XML, grepable, JSON, NDJSON, CSV, list, normal to a file) is
// told, and in which order: begin once, result for each port verdict as it arrives, host
// for each finished host, end once (with an error message when the scan was interrupted).
// Writers decide for themselves what to write when: streaming formats write on result,
// nmap's formats on host. Everything here is plain data, so writers are tested without scans.
import type { Technique } from '../verdicts/classify.js';
import type { HostReport, PortResult } from '../hosts/model.js';

export interface RunInfo {
  startedAt: Date;
  /** The command line, program name first (nmap's "args"). */
  args: readonly string[];
  technique: Technique;
  /** Scanned ports, ascending. */
  ports: readonly number[];
  /**
   * Present when several techniques run (-sS -sU): each one and its ports, in the order they
   * run (TCP first). `technique` and `ports` then repeat the first.
   */
  scans?: readonly ScanPhase[];
  /** Target addresses in all. */
  addresses: number;
  verbose: number;
  /** --open: only hosts and ports that may be open. */
  open: boolean;
  /** --reason: shown in normal output only; XML and JSON always carry reasons. */
  reason: boolean;
  /** -sn: host discovery only; hosts carry no ports. */
  pingScan?: boolean;
  /** -sV: hosts carry services (HostReport.services). */
  versionScan?: boolean;
  /** -O ran; --osscan-guess was given (the normal report's guesses). */
  osScan?: boolean;
  osGuess?: boolean;
}

/** One technique of a run and the ports it scans. */
export interface ScanPhase {
  technique: Technique;
  ports: readonly number[];
}

/** The run's techniques: its scans, or its one technique. */
export function scanPhases(info: Pick<RunInfo, 'technique' | 'ports' | 'scans'>): readonly ScanPhase[] {
  return info.scans ?? [{ technique: info.technique, ports: info.ports }];
}

export interface RunEnd {
  finishedAt: Date;
  elapsedSeconds: number;
  addresses: number;
  up: number;
  /** Present when the scan did not run to its end (nmap's runstats errormsg). */
  error?: string;
  /** Directory of the data files read (for -v's "Read data files from"). */
  dataSource?: string;
}

export interface PhaseEvent {
  kind: 'begin' | 'end';
  technique: Technique;
  at: Date;
  /** Ports this technique probed in all (addresses × ports), for 'end'. */
  totalPorts?: number;
}

export interface OutputWriter {
  begin(info: RunInfo): void;
  /** A port's verdict as it arrives (set or changed); `at` is when it arrived. */
  result?(result: PortResult, at: Date): void;
  /** The engine has finished (or was stopped); hosts follow. */
  scanEnded?(at: Date): void;
  /**
   * With several techniques (RunInfo.scans): one of them starts, or has finished. Not called
   * for a run of one technique, whose begin and scanEnded mark the same moments.
   */
  phase?(event: PhaseEvent): void;
  /** One host, once the scan is over (nmap's formats need a host's every port). */
  host?(host: HostReport): void;
  end(end: RunEnd): void;
}

/**
 * Whether nmap's formats write this host: down hosts only with -v, and under --open only
 * hosts with a possibly-open port (callers pass `hiddenByOpen` for the latter).
 */
export function hostWritten(host: HostReport, info: RunInfo, hiddenByOpen: () => boolean): boolean {
  if (host.status.state === 'down') return info.verbose > 0;
  return !(info.open && hiddenByOpen());
}
