// What every output writer (XML, grepable, JSON, NDJSON, CSV, list, normal to a file) is
// told, and in which order: begin once, result for each port verdict as it arrives, host
// for each finished host, end once (with an error message when the scan was interrupted).
// Writers decide for themselves what to write when: list and NDJSON write on result too,
// the rest on host. The CLI hands a host over as soon as it is complete (ts/output/stream.ts),
// except to writers marked `sorted` (normal output), which get every host at the end in
// target order. Everything here is plain data, so writers are tested without scans.
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
  /** -sL: targets are listed (listed()), nothing is sent. */
  listScan?: boolean;
  /** Targets left out before the scan (no route): nmap's <target status="skipped"> in XML. */
  skipped?: readonly SkippedTarget[];
}

/** A target the run did not scan, and why (nmap's target element: reason "invalid"). */
export interface SkippedTarget {
  specification: string;
  reason: 'invalid';
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
  /** Hosts known to be down; addresses - up unless given (an interrupted run knows fewer). */
  down?: number;
  /** Present when the scan did not run to its end (nmap's runstats errormsg). */
  error?: string;
  /** An interrupted run: how far it got, said instead of calling unprobed hosts up or down. */
  progress?: RunProgress;
  /** Directory of the data files read (for -v's "Read data files from"). */
  dataSource?: string;
}

/** How far an interrupted run got. */
export interface RunProgress {
  /** The phase it was in: host discovery (no port probed yet) or the port scan. */
  phase: 'discovery' | 'ports';
  /** Probes (address × port) sent at least once, and in all (the port scan). */
  probesSent: number;
  probes: number;
  /** Host discovery's hosts up so far (phase 'discovery'; none of them is listed). */
  found?: number;
}

/** Hosts known down: what `end.down` says, else every address not up. */
export const downCount = (end: RunEnd): number => end.down ?? end.addresses - end.up;

/**
 * nmap's summary sentence, "1 IP address (1 host up) scanned in 1.34 seconds"; for an
 * interrupted run, how far it got: "65536 IP addresses, 48.2% probed (31589 of 65536 probes
 * sent), 1566 hosts up so far, in 0.52 seconds".
 */
export function doneSentence(end: RunEnd): string {
  const addrs = `${end.addresses} IP ${end.addresses === 1 ? 'address' : 'addresses'}`;
  const up = `${end.up} ${end.up === 1 ? 'host' : 'hosts'} up`;
  const seconds = `${end.elapsedSeconds.toFixed(2)} seconds`;
  const p = end.progress;
  if (!p) return `${addrs} (${up}) scanned in ${seconds}`;
  if (p.phase === 'discovery') {
    const found = p.found ?? end.up;
    return `${addrs}, host discovery not finished (${found} ${found === 1 ? 'host' : 'hosts'} found up so far, no port scanned), in ${seconds}`;
  }
  // No count of probes (a distributed sweep's are its workers'): only that it did not finish.
  if (p.probes <= 0) return `${addrs}, port scan not finished (${up} so far), in ${seconds}`;
  const percent = ((100 * p.probesSent) / p.probes).toFixed(1);
  return `${addrs}, ${percent}% probed (${p.probesSent} of ${p.probes} probes sent), ${up} so far, in ${seconds}`;
}

/** Counters a writer needs to continue a file it wrote before (a resumed run). */
export type WriterState = Readonly<Record<string, number>>;

/** A target of the list scan (-sL): listed, never probed. */
export interface ListedTarget {
  address: string;
  hostname?: string;
}

export interface PhaseEvent {
  kind: 'begin' | 'end';
  technique: Technique;
  at: Date;
  /** Ports this technique probed in all (addresses × ports), for 'end'. */
  totalPorts?: number;
}

export interface OutputWriter {
  /**
   * The run starts: the writer writes its prologue. With `continued`, the file already holds
   * the prologue and the hosts of an interrupted run (--resume): the writer writes nothing
   * now and goes on from the counters its state() gave then.
   */
  begin(info: RunInfo, continued?: WriterState): void;
  /** Writes every host at the end, in target order (nmap's normal output), not as hosts complete. */
  readonly sorted?: boolean;
  /** A port's verdict as it arrives (set or changed); `at` is when it arrived. */
  result?(result: PortResult, at: Date): void;
  /** The engine has finished (or was stopped); hosts follow. */
  scanEnded?(at: Date): void;
  /**
   * With several techniques (RunInfo.scans): one of them starts, or has finished. Not called
   * for a run of one technique, whose begin and scanEnded mark the same moments.
   */
  phase?(event: PhaseEvent): void;
  /** One host, once it is complete (every port settled) or the scan is over. */
  host?(host: HostReport): void;
  /** -sL: a target listed, not scanned (nmap's host with status "unknown"). */
  listed?(target: ListedTarget): void;
  end(end: RunEnd): void;
  /** The counters begin() takes back as `continued`. */
  state?(): WriterState;
}

/**
 * Whether nmap's formats write this host: down hosts only with -v, and under --open only
 * hosts with a possibly-open port (callers pass `hiddenByOpen` for the latter).
 */
export function hostWritten(host: HostReport, info: RunInfo, hiddenByOpen: () => boolean): boolean {
  if (host.status.state === 'down') return info.verbose > 0;
  return !(info.open && hiddenByOpen());
}
