// From parsed flags to a prepared scan, in the order nmap checks them: the scan type and
// timing first, then the targets' inputs, then discovery, ports and the sweep options, and
// last the engine's options (targets resolved, ranges built). Each step throws the one-line
// error of the first bad value it meets, before any packet is sent.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, type TargetError } from '../errors.js';
import { DEFAULT_OS_DB } from '../os/detect.js';
import { DEFAULT_P0F_DB } from '../os/hints.js';
import { DEFAULT_VERSION_DB, missingDbMessage, type DetectOptions } from '../service/detect.js';
import { armDrop, currentDrop, dropAccount, readableBy, writableBy } from '../engine/privilege.js';
import { describeRange, unroutableRanges } from '../engine/reachable.js';
import { escapeText } from '../output/escape.js';
import type { AddressRange } from '../targets/address.js';
import type { NativeSummary } from '../engine/native.js';
import { continueCommand, DEFAULT_RESUME_FILE, parseShard, randomSeed, resumableArgv, RESUME_VERSION, writeResumeFile, type ResumeState } from '../engine/resume.js';
import { prepareScan, type PreparedScan } from '../engine/prepare.js';
import type { RateOptions } from '../engine/rate.js';
import { rateOptions, resolveTiming, type Timing } from '../engine/timing.js';
import { parseDiscoveryFlags, type DiscoveryPlan } from '../hosts/discovery.js';
import { ipv6Probes } from '../hosts/discovery6.js';
import { parseDnsServers } from '../hosts/rdns.js';
import type { OutputTarget } from '../output/outputs.js';
import { selectPorts } from '../targets/ports.js';
import { engineRanges, gatherTargetSpecs, isIPv6Set, withoutRanges } from '../targets/targets.js';
import type { Technique } from '../verdicts/classify.js';
import { PRODUCT } from '../version.js';
import { parseNumber, parseRstPolicy, parseScanflags, parseSeed, type CliArgs } from './flags.js';
import { parseClusterOptions, type ClusterCli } from './cluster.js';
import { parseTimeSpec } from './status.js';

/** The scan type and timing the flags select. */
export interface ScanKind {
  timing: Timing;
  /** The rate options: a fixed --rate, or the found rate's cap, floor and template. */
  rates: RateOptions;
  maxRetries: number | undefined;
  topN: number | undefined;
  tcpFlags: number | undefined;
  /** A UDP scan runs after the TCP one (-sS -sU). */
  udpToo: boolean;
  technique: Technique;
}

/** The target specifications from the command line and -iL, with what to leave out. */
export interface TargetInputs {
  specs: string[];
  targetOptions: { resolveAll: boolean; exclude: string[]; defaultBlocklist: boolean };
}

/** Everything a scan run needs from its command line, checked. */
export interface ScanPlan extends ScanKind, TargetInputs {
  /** The command line as given: for the outputs' headers and the resume file. */
  argv: readonly string[];
  args: CliArgs;
  outputTargets: OutputTarget[];
  pingScan: boolean;
  discoveryPlan: DiscoveryPlan;
  dnsServers: string[] | undefined;
  /** The second scan of -sS -sU. */
  udpScan: { technique: 'udp'; ports: number[] } | undefined;
  /** The first scan's ports ([0] for -sn, dropped once prepared). */
  ports: number[];
  statsEvery: number | undefined;
  seed: bigint;
  shard: { index: number; count: number } | undefined;
  startPosition: number | undefined;
  /** -O (or -A): OS detection after the port scan. */
  os: OsPlan | undefined;
  /** --os-hints: p0f's signature file, matched against the scan's SYN+ACKs. */
  osHints: string | undefined;
  /** -sV's options, undefined without -sV. */
  versionScan: DetectOptions | undefined;
  /** --temporal: the port scan runs as a sweep on Temporal workers (cluster.ts). */
  cluster: ClusterCli | undefined;
  /** --resume: the interrupted run's state (its files and journal are continued). */
  resumed?: ResumeState;
  /** The resume file --resume named: the resumed run keeps its checkpoints there. */
  resumedFrom?: string;
  /** Targets with no route, left out by prepare() and reported one by one. */
  unroutable: AddressRange[];
}

/** What -O and its options ask for. */
export interface OsPlan {
  /** --osscan-limit: skip hosts without an open and a closed (or unfiltered) TCP port. */
  limit: boolean;
  /** --osscan-guess / --fuzzy: always print the closest guesses. */
  guess: boolean;
  /** --max-os-tries (nmap's default 5). */
  maxTries: number | undefined;
  /** --osdb, or nmap's installed database: read at run time. */
  database: string;
}

/** -O, -A and the OS detection options, checked as nmap checks them. */
export function osPlan(args: CliArgs, pingScan: boolean): OsPlan | undefined {
  const tries = args['max-os-tries'];
  const maxTries = tries === undefined ? undefined : Number(tries);
  if (maxTries !== undefined && !(tries?.trim() && Number.isInteger(maxTries) && maxTries >= 1 && maxTries <= 50)) throw new UsageError(`invalid --max-os-tries "${tries}" (1 to 50)`);
  if (!args.O) return undefined;
  if (args.ipv6) throw new UsageError('OS detection (-O, also part of -A) is IPv4 only for now: nmap\'s separate IPv6 engine is not ported; leave out -O (with -6, use -sV instead of -A)');
  if (pingScan) throw new UsageError('OS detection (-O) is unreliable without a port scan: use a scan type along with it (such as -sS or -sT) instead of -sn');
  // nmap stops before scanning when its database is missing; so do we (it is read during the scan)
  const database = args.osdb ?? DEFAULT_OS_DB;
  if (!existsSync(database)) throw new UsageError(`OS detection needs nmap's fingerprint database, and ${database} does not exist (install nmap, or give --osdb FILE)`);
  return { limit: args['osscan-limit'], guess: args['osscan-guess'] || args.fuzzy, maxTries, database };
}

/** --os-hints and --p0f-db, checked: the hints come from the SYN+ACKs of a SYN scan. */
export function hintsPlan(args: CliArgs, pingScan: boolean, technique: string): string | undefined {
  if (!args['os-hints']) {
    if (args['p0f-db'] !== undefined) throw new UsageError('--p0f-db names the signatures of --os-hints; give --os-hints too');
    return undefined;
  }
  if (pingScan || !(technique === 'syn' || technique === 'flags')) throw new UsageError('--os-hints reads the SYN+ACKs of a SYN scan (-sS)');
  const path = args['p0f-db'] ?? DEFAULT_P0F_DB;
  if (!existsSync(path)) throw new UsageError(`--os-hints needs p0f's signatures, and ${path} does not exist (install p0f, or give --p0f-db FILE)`);
  return path;
}

/** The scan type, timing template and rate options (checked before any target is read). */
export function scanKind(args: CliArgs): ScanKind {
  // -T templates and the explicit timing options over them (ts/engine/timing.ts).
  const timing = resolveTiming({
    timing: args.timing,
    rate: args.rate,
    maxRate: args['max-rate'],
    minRate: args['min-rate'],
    maxRetries: args['max-retries'],
    initialRttTimeout: args['initial-rtt-timeout'],
    minRttTimeout: args['min-rtt-timeout'],
    maxRttTimeout: args['max-rtt-timeout'],
    scanDelay: args['scan-delay'],
    hostTimeout: args['host-timeout'],
  });
  const rates = rateOptions(timing);
  const maxRetries = timing.maxRetries;
  const topN = parseNumber('--top-ports', args['top-ports'], (n) => Number.isInteger(n) && n > 0);
  const tcpFlags = args.scanflags === undefined ? undefined : parseScanflags(args.scanflags);
  // -sU beside a TCP technique (or beside --scanflags, a TCP scan of its own): a UDP scan runs after the TCP one.
  const udpToo = args['udp-scan'] || (tcpFlags !== undefined && args.technique === 'udp');
  if (tcpFlags !== undefined && args.technique !== undefined && args.technique !== 'syn' && args.technique !== 'udp') {
    throw new UsageError('--scanflags sets the probe flags itself; combine it with -sS, -sU or nothing');
  }
  const technique: Technique = tcpFlags !== undefined ? 'flags' : (args.technique ?? 'syn');
  return { timing, rates, maxRetries, topN, tcpFlags, udpToo, technique };
}

/** The target specifications: positionals, -iL (a file or stdin), --exclude, --excludefile. */
export async function gatherTargets(args: CliArgs): Promise<TargetInputs> {
  const targetInputs = await gatherTargetSpecs({ specs: args._.map(String), inputList: args.iL, exclude: args.exclude, excludeFile: args.excludefile });
  const targetOptions = { resolveAll: args['resolve-all'], exclude: targetInputs.exclude, defaultBlocklist: args['default-blocklist'] };
  return { specs: targetInputs.specs, targetOptions };
}

/** Discovery, ports, status and sweep options, checked: the whole plan of a scan run. */
export function planScan(argv: readonly string[], args: CliArgs, outputTargets: OutputTarget[], kind: ScanKind, targets: TargetInputs): ScanPlan {
  const pingScan = args['ping-scan'];
  if (pingScan && (args.technique !== undefined || kind.tcpFlags !== undefined)) throw new UsageError('-sn (no port scan) cannot be combined with a port scan type');
  const discoveryPlan = parseDiscoveryFlags(args.ping ? args.ping.split(' ') : [], args['disable-arp-ping']);
  // nmap: timestamp and mask pings, when asked for, are IPv4 only
  if (args.ipv6 && args.ping) ipv6Probes(parseDiscoveryFlags(args.ping.split(' ')).probes);
  if (args.n && args.R) throw new UsageError('-n (no reverse DNS) and -R (reverse DNS for all targets) exclude each other');
  const dnsServers = args['dns-servers'] === undefined ? undefined : parseDnsServers(args['dns-servers']);
  let technique = kind.technique;
  // Unprefixed -p items go to the technique's protocol (to both with -sS -sU); UDP ranks ports by its own frequencies.
  const selected = pingScan ? undefined : selectPorts({ ports: args.ports, topPorts: kind.topN, fast: args.F, excludePorts: args['exclude-ports'], protocols: kind.udpToo ? ['tcp', 'udp'] : [technique === 'udp' ? 'udp' : 'tcp'] });
  // With -sS -sU, a protocol left without ports is not scanned (-sS -sU -p U:53 is a UDP scan, as in nmap).
  if (kind.udpToo && selected?.tcp.length === 0) technique = 'udp';
  const protocol = technique === 'udp' ? 'udp' : 'tcp';
  const udpScan = kind.udpToo && technique !== 'udp' && selected && selected.udp.length > 0 ? { technique: 'udp' as const, ports: selected.udp } : undefined;
  if (udpScan) {
    const alone = [['--shard', args.shard], ['--resume', args['start-position']], ['--dry-run', args['dry-run'] || undefined], ['--pcap', args.pcap]].find(([, v]) => v !== undefined);
    if (alone) throw new UsageError(`${alone[0]} works with one scan type at a time; run the TCP and the UDP scan (-sU) separately`);
  }
  // -sn scans no ports; prepareScan wants one, which is dropped below.
  const ports = selected ? selected[protocol] : [0];
  const statsEvery = args['stats-every'] === undefined ? undefined : parseTimeSpec(args['stats-every']);
  const seed = parseSeed(args.seed) ?? randomSeed();
  const shard = args.shard === undefined ? undefined : parseShard(args.shard);
  const startPosition = parseNumber('--start-position', args['start-position'], (n) => Number.isSafeInteger(n) && n >= 0);
  const os = osPlan(args, pingScan);
  const osHints = hintsPlan(args, pingScan, technique);
  const versionScan = versionOptions(args, pingScan);
  const cluster = parseClusterOptions(args, { pingScan, udpScan });
  return { ...kind, ...targets, technique, argv, args, outputTargets, pingScan, discoveryPlan, dnsServers, udpScan, ports, statsEvery, seed, shard, startPosition, versionScan, cluster, unroutable: [], os, osHints };
}

/** The -sV options, or undefined without -sV; a missing probe database is a one-line error now, before any packet. */
export function versionOptions(args: CliArgs, pingScan: boolean): DetectOptions | undefined {
  if (!args['service-version'] || pingScan) return undefined;
  let intensity = parseNumber('--version-intensity', args['version-intensity'], (n) => Number.isInteger(n) && n >= 0 && n <= 9) ?? 7;
  if (args['version-light']) intensity = 2;
  if (args['version-all']) intensity = 9;
  const versionDb = args.versiondb ?? DEFAULT_VERSION_DB;
  if (!existsSync(versionDb)) throw new UsageError(missingDbMessage(versionDb));
  const parallelism = parseNumber('--version-parallelism', args['version-parallelism'], (n) => Number.isInteger(n) && n >= 1 && n <= 65536);
  return { versionDb, intensity, allPorts: args.allports, trace: args['version-trace'], ...(parallelism !== undefined && { parallelism }) };
}

/** Step 2 of main(): the plan as the engine's options, targets resolved (nothing is sent yet). */
export async function prepare(plan: ScanPlan): Promise<PreparedScan> {
  const { args, timing } = plan;
  const prepared = await prepareScan({
    targets: plan.specs.length || args.iL !== undefined ? plan.specs : [args.ipv6 ? '::1' : '127.0.0.1'],
    // as nmap: IPv6 with -6 only, and then IPv6 only
    ipv6: args.ipv6,
    ports: plan.ports,
    technique: plan.technique,
    tcpFlags: plan.tcpFlags,
    ...plan.rates,
    seed: plan.seed,
    maxRetries: plan.maxRetries,
    initialRttTimeoutMs: timing.initialRttTimeoutMs,
    minRttTimeoutMs: timing.minRttTimeoutMs,
    maxRttTimeoutMs: timing.maxRttTimeoutMs,
    interface: args.e,
    sourceAddress: args.S,
    rstPolicy: parseRstPolicy(args['rst-policy']),
    trace: args['packet-trace'],
    ...plan.targetOptions,
    onUnresolved: skipUnresolved,
    sequential: args.r,
  });
  if (sendsRaw(plan)) await skipUnroutable(plan, prepared);
  // Run as root: root goes once the first engine has its sockets (and the pcap file) open. A
  // dry run opens no socket and sends nothing: it keeps the user it was started as.
  let account = args['drop-privileges'] && !args['dry-run'] ? dropAccount() : undefined;
  // Output files are renamed into place at the end, after the drop: where that account may
  // not do it, the run keeps root rather than lose a file, as nmap runs (-v says so).
  const blocked = account && plan.outputTargets.map((o) => (o.path === '-' ? undefined : dirname(resolve(o.path)))).find((d) => d !== undefined && !writableBy(d, account!));
  if (account && blocked !== undefined) {
    const who = `uid ${account.uid}${account.name ? ` (${account.name})` : ''}`;
    if (args.v > 0) process.stderr.write(`${PRODUCT}: keeping root for this run: ${who} may not rename files in "${escapeText(blocked)}", where its output goes (write the outputs where that user can, or run under sudo; --no-drop-privileges keeps root without this notice)\n`);
    account = undefined;
  }
  if (account) {
    // -sV reads its probe database after the port scan, as that user: it must be able to.
    const db = plan.versionScan?.versionDb;
    if (db !== undefined && !readableBy(db, account)) {
      throw new UsageError(`--versiondb "${db}" cannot be read by uid ${account.uid} (${account.name ?? 'the sudo user'}), whom the scan runs as once its sockets are open: put it where that user can read it, or keep root with --no-drop-privileges`);
    }
    armDrop({ account, ambient: prepared.rstPolicy === 'suppress', ...(args.pcap !== undefined && { pcap: args.pcap }) });
  }
  if (plan.pingScan) prepared.ports = [];
  if (plan.shard) {
    prepared.native.shardIndex = plan.shard.index;
    prepared.native.shardCount = plan.shard.count;
  }
  if (plan.startPosition !== undefined) prepared.native.startPosition = plan.startPosition;
  if (args.pcap !== undefined) prepared.native.pcap = args.pcap;
  if (plan.osHints !== undefined) prepared.native.osHints = plan.osHints;
  return prepared;
}

/** nmap's "Failed to resolve": the name is reported and left out, the rest scanned. */
export function skipUnresolved(error: TargetError): void {
  process.stderr.write(`${PRODUCT}: ${escapeText(error.message)}; skipping it\n`);
}

/** Whether the run sends raw packets, which need a route (nmap checks it then; -sT -Pn leaves routing to connect()). */
function sendsRaw(plan: ScanPlan): boolean {
  return !plan.args['dry-run'] && !(plan.technique === 'connect' && plan.args.Pn && !plan.udpScan);
}

/** Targets with no route are reported per address or range and left out; the rest is scanned. */
async function skipUnroutable(plan: ScanPlan, prepared: PreparedScan): Promise<void> {
  // IPv6 targets: the engine's route lookup names the target it cannot reach
  if (isIPv6Set(prepared.targets)) return;
  const none = await unroutableRanges(prepared.targets.ranges, { interface: plan.args.e, sourceAddress: plan.args.S });
  if (none.length === 0) return;
  for (const r of none) process.stderr.write(`${PRODUCT}: no route to ${describeRange(r)}; skipping ${r.start === r.end ? 'it' : 'them'}\n`);
  prepared.targets = withoutRanges(prepared.targets, none);
  prepared.native.ranges = engineRanges(prepared.targets);
  plan.unroutable = none;
}

/** An interrupted dry run's resume file: the command line, the seed and the settled position (a scan's are ts/cli/checkpoint.ts). */
export function saveResume(plan: ScanPlan, summary: NativeSummary): void {
  const resumeFile = plan.args['resume-file'] ?? DEFAULT_RESUME_FILE;
  const state = { version: RESUME_VERSION, argv: resumableArgv(plan.argv), seed: plan.seed.toString(), startPosition: summary.resumePosition, phase: 'ports' as const, outputs: [], elapsedSeconds: summary.elapsedMs / 1000 };
  try {
    writeResumeFile(resumeFile, state);
  } catch (e) {
    // After root was given up the file is written as that user (ts/engine/privilege.ts), who
    // may not write here: nothing is lost, the command to continue is the file's content.
    const who = currentDrop();
    const why = `${(e as NodeJS.ErrnoException).code ?? 'error'}${who ? `, running as uid ${who.uid}` : ''}`;
    const command = continueCommand(PRODUCT, plan.argv, state.seed, state.startPosition);
    process.stderr.write(`${PRODUCT}: interrupted; cannot write the resume file "${escapeText(resumeFile)}" (${why}); to continue: ${escapeText(command)}\n`);
    return;
  }
  process.stderr.write(`${PRODUCT}: interrupted; to continue: ${PRODUCT} --resume ${escapeText(resumeFile)}\n`);
}
