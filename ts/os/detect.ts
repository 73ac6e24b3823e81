// ts/os/ — OS detection (-O). Takes hosts and what the port scan found on them; gives each
// host's OS report: the ranked matches against nmap's database (read at run time from
// /usr/share/nmap/nmap-os-db or --osdb), the classes, the fingerprint in nmap's form, the
// distance and the TCP/IP ID/timestamp sequence facts. The probing and matching happen in
// the engine (crates/core/src/os/); this file picks the ports as nmap does, starts the
// engine and turns its report into the library's types. report.ts writes them out.
import type * as Generated from '../../native/index.cjs';
import { native } from '../engine/native.js';
import { AbortError, FerroscanError, ScanError } from '../errors.js';

/** Where Debian's nmap package keeps the database. */
export const DEFAULT_OS_DB = '/usr/share/nmap/nmap-os-db';

/** One class of a reference print: "Linux | Linux | 5.X | general purpose" and its CPEs. */
export interface OsClass {
  vendor: string;
  family: string;
  generation?: string;
  type: string;
  cpe: string[];
  /** The accuracy (0..1) of the match it belongs to. */
  accuracy: number;
}

export interface OsMatch {
  name: string;
  /** 0..1; nmap prints it as floor(accuracy × 100)%. */
  accuracy: number;
  /** The line of the print in nmap-os-db. */
  line: number;
  classes: OsClass[];
}

export type OsOutcome = 'success' | 'no-matches' | 'too-many-matches';

/** Ranked matches and the distinct classes they make (what nmap's report is drawn from). */
export interface OsMatches {
  outcome: OsOutcome;
  /** Most accurate first; at most 36. */
  matches: OsMatch[];
  /** How many of `matches`, first ones, are perfect. */
  perfect: number;
  classOutcome: OsOutcome;
  classes: OsClass[];
  classPerfect: number;
}

/** The TCP ISN, IP ID and timestamp sequences of the SEQ probes' answers. */
export interface OsSequence {
  responses: number;
  /** TCP sequence predictability index and nmap's words for it ("Good luck!"). */
  index: number;
  difficulty: string;
  values: number[];
  ipids: number[];
  /** nmap's words: "All zeros", "Incremental", "Randomized", ... */
  ipidClass: string;
  timestamps: number[];
  tsClass: string;
  /** False when the host sent no timestamps (nmap lists none then). */
  tsValues: boolean;
  /** When the host last booted, as its timestamps tell (Unix seconds). */
  lastBoot?: number;
}

/** What OS detection found for one host. */
export interface OsReport extends OsMatches {
  address: string;
  /** Why the host could not be probed (no route, no ARP answer). */
  error?: string;
  /** nmap's warning: no open or no closed TCP port was known, so results may be unreliable. */
  unreliable: boolean;
  /** Tries made (--max-os-tries), and which one matched perfectly (0-based). */
  tries: number;
  perfectTry?: number;
  /** The tries' merged fingerprint in nmap's wrapped `OS:` form (G=Y when fit for submission). */
  fingerprint: string;
  /** The same, one test per line, G=N: nmap's form when the print is not fit for submission. */
  fingerprintPlain: string;
  /** Why the print is unfit for submission, in nmap's words. */
  omitReason?: string;
  distance?: number;
  distanceMethod: '' | 'localhost' | 'direct' | 'icmp';
  /** Ports the probes used that the scan knew the state of (nmap's portused). */
  openTcpPort?: number;
  closedTcpPort?: number;
  closedUdpPort?: number;
  sequence?: OsSequence;
  /** Warnings for the terminal, in nmap's words ("OS didn't match until try #2", ...). */
  warnings: string[];
  /** When the report was made: the uptime is counted to it. */
  at: Date;
}

/** What the port scan found on a host, for choosing the probes' ports. */
export interface OsTarget {
  address: string;
  openTcpPort?: number;
  closedTcpPort?: number;
  unfilteredTcpPort?: number;
  closedUdpPort?: number;
  unfilteredUdpPort?: number;
}

export interface OsOptions {
  /** --osdb: the fingerprint database (default /usr/share/nmap/nmap-os-db). */
  database?: string;
  /** --max-os-tries (1-50, default 5). */
  maxTries?: number;
  interface?: string;
  sourceAddress?: string;
  initialRttTimeoutMs?: number;
  minRttTimeoutMs?: number;
  maxRttTimeoutMs?: number;
  scanDelayMs?: number;
  /** -T level. */
  timingLevel?: number;
  /** A UDP scan ran too (a host silent to U1 is then not "unfit for submission"). */
  udpScan?: boolean;
  signal?: AbortSignal;
}

/** A host's ports as a scan report holds them (structurally: HostReport fits). */
export interface ScannedPorts {
  address: string;
  protocol: 'tcp' | 'udp';
  ports: ReadonlyMap<number, { state: string }>;
  unanswered: { state: string };
  scanned?: readonly number[];
  sections?: readonly { protocol: 'tcp' | 'udp'; ports: ReadonlyMap<number, { state: string }>; unanswered: { state: string }; scanned: readonly number[] }[];
}

/**
 * The ports nmap's OS detection would use on `host` (osscan2.cc, initScanStats): the lowest
 * open TCP port, the lowest closed one (else an unfiltered one), the lowest closed UDP port
 * (else an unfiltered one); port 0 only when nothing else is in that state.
 */
export function osTargetOf(host: ScannedPorts, scannedPorts: readonly number[] = []): OsTarget {
  const sections = host.sections ?? [{ protocol: host.protocol, ports: host.ports, unanswered: host.unanswered, scanned: host.scanned ?? scannedPorts }];
  const first = (protocol: 'tcp' | 'udp', state: string): number | undefined => {
    const found: number[] = [];
    for (const s of sections) {
      if (s.protocol !== protocol) continue;
      for (const [p, v] of s.ports) if (v.state === state) found.push(p);
      // unanswered ports share one verdict; the lowest unanswered port stands for them
      if (s.unanswered.state === state) {
        for (const p of s.scanned) {
          if (!s.ports.has(p)) {
            found.push(p);
            if (p !== 0) break;
          }
        }
      }
    }
    found.sort((a, b) => a - b);
    return found.find((p) => p !== 0) ?? found[0];
  };
  const t: OsTarget = { address: host.address };
  const set = <K extends keyof OsTarget>(k: K, v: OsTarget[K] | undefined): void => {
    if (v !== undefined) t[k] = v;
  };
  set('openTcpPort', first('tcp', 'open'));
  set('closedTcpPort', first('tcp', 'closed'));
  if (t.closedTcpPort === undefined) set('unfilteredTcpPort', first('tcp', 'unfiltered'));
  set('closedUdpPort', first('udp', 'closed'));
  if (t.closedUdpPort === undefined) set('unfilteredUdpPort', first('udp', 'unfiltered'));
  return t;
}

/** nmap's OS_PERF_UNREL: no open TCP port, or neither a closed nor an unfiltered one. */
export function unreliable(t: OsTarget): boolean {
  return t.openTcpPort === undefined || (t.closedTcpPort === undefined && t.unfilteredTcpPort === undefined);
}

function engineError(e: unknown): FerroscanError {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /^([A-Z]+): (.*)$/s.exec(msg);
  return m ? new ScanError(m[2], m[1]) : new ScanError(msg, 'EIO');
}

const databases = new Map<string, Generated.NativeOsDb>();

/**
 * nmap's database at `path`, read once per path on a thread of its own; the handle comes
 * at once (detection starts probing before the database is read: it waits for it only to
 * match). A database that failed to read is read again next time.
 */
export function osDatabase(path = DEFAULT_OS_DB): Generated.NativeOsDb {
  let db = databases.get(path);
  if (!db) {
    try {
      db = native().loadOsDb(path);
    } catch (e) {
      throw engineError(e);
    }
    databases.set(path, db);
    db.ready().catch(() => databases.delete(path));
  }
  return db;
}

/** Reads nmap's database (once per path); resolves when it is read, rejects with why not. */
export async function loadOsDatabase(path = DEFAULT_OS_DB): Promise<Generated.NativeOsDb> {
  const db = osDatabase(path);
  try {
    await db.ready();
  } catch (e) {
    throw engineError(e);
  }
  return db;
}

function matchesOf(m: Generated.NativeOsMatches): OsMatches {
  return { outcome: m.outcome, matches: m.matches, perfect: m.perfect, classOutcome: m.classOutcome, classes: m.classes, classPerfect: m.classPerfect };
}

/**
 * Matches a fingerprint in nmap's text form (its `OS:` lines, or one test per line) against
 * the database, as nmap ranks matches (accuracy floor 0.85 unless `threshold` says otherwise).
 */
export async function matchOsFingerprint(fingerprint: string, options: { database?: string; threshold?: number } = {}): Promise<OsMatches> {
  const db = await loadOsDatabase(options.database);
  try {
    return matchesOf(native().matchFingerprint(db, fingerprint, options.threshold));
  } catch (e) {
    throw engineError(e);
  }
}

const drop = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;

/**
 * Runs OS detection against `targets` (root or CAP_NET_RAW). Every host is probed at once,
 * each with nmap's tries; resolves with one report per target, in order.
 */
export async function detectOs(targets: readonly OsTarget[], options: OsOptions = {}): Promise<OsReport[]> {
  if (options.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
  const db = osDatabase(options.database);
  let run: Generated.NativeOsDetection;
  try {
    run = native().startOsDetection(db, {
      targets: targets.map((t) => drop({ ...t })),
      ...drop({
        maxTries: options.maxTries,
        interface: options.interface,
        sourceAddress: options.sourceAddress,
        initialRttTimeoutMs: options.initialRttTimeoutMs,
        minRttTimeoutMs: options.minRttTimeoutMs,
        maxRttTimeoutMs: options.maxRttTimeoutMs,
        scanDelayMs: options.scanDelayMs,
        timingLevel: options.timingLevel,
        udpScan: options.udpScan,
      }),
    });
  } catch (e) {
    throw engineError(e);
  }
  const onAbort = (): void => run.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let report: Generated.NativeOsReport;
  try {
    report = await run.result();
  } catch (e) {
    throw engineError(e);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (report.aborted) throw new AbortError(undefined, { cause: options.signal?.reason });
  const at = new Date();
  const byAddress = new Map(targets.map((t) => [t.address, t]));
  return report.hosts.map((h) => {
    const t = byAddress.get(h.address) ?? { address: h.address };
    const { result, sequence, ...rest } = h;
    return drop({ ...rest, ...matchesOf(result), sequence: sequence && drop(sequence), unreliable: unreliable(t), at }) as OsReport;
  });
}
