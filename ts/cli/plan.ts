// From parsed flags to a prepared scan, in the order nmap checks them: the scan type and
// timing first, then the targets' inputs, then discovery, ports and the sweep options, and
// last the engine's options (targets resolved, ranges built). Each step throws the one-line
// error of the first bad value it meets, before any packet is sent.
import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { DEFAULT_VERSION_DB, missingDbMessage, type DetectOptions } from '../service/detect.js';
import type { NativeSummary } from '../engine/native.js';
import { DEFAULT_RESUME_FILE, parseShard, randomSeed, resumableArgv, RESUME_VERSION, writeResumeFile } from '../engine/resume.js';
import { DEFAULT_RATE, prepareScan, type PreparedScan } from '../engine/prepare.js';
import { engineRate, resolveTiming, type Timing } from '../engine/timing.js';
import { parseDiscoveryFlags, type DiscoveryPlan } from '../hosts/discovery.js';
import { ipv6Probes } from '../hosts/discovery6.js';
import { parseDnsServers } from '../hosts/rdns.js';
import type { OutputTarget } from '../output/outputs.js';
import { selectPorts } from '../targets/ports.js';
import { gatherTargetSpecs } from '../targets/targets.js';
import type { Technique } from '../verdicts/classify.js';
import { PRODUCT } from '../version.js';
import { parseNumber, parseRstPolicy, parseScanflags, parseSeed, type CliArgs } from './flags.js';
import { parseTimeSpec } from './status.js';

/** The scan type and timing the flags select. */
export interface ScanKind {
  timing: Timing;
  /** The engine's rate; undefined leaves the engine's default. */
  rate: number | undefined;
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
  /** -sV's options, undefined without -sV. */
  versionScan: DetectOptions | undefined;
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
  const rate = timing.rate !== undefined || timing.minRate !== undefined ? engineRate(timing, DEFAULT_RATE) : undefined;
  const maxRetries = timing.maxRetries;
  const topN = parseNumber('--top-ports', args['top-ports'], (n) => Number.isInteger(n) && n > 0);
  const tcpFlags = args.scanflags === undefined ? undefined : parseScanflags(args.scanflags);
  // -sU beside a TCP technique (or beside --scanflags, a TCP scan of its own): a UDP scan runs after the TCP one.
  const udpToo = args['udp-scan'] || (tcpFlags !== undefined && args.technique === 'udp');
  if (tcpFlags !== undefined && args.technique !== undefined && args.technique !== 'syn' && args.technique !== 'udp') {
    throw new UsageError('--scanflags sets the probe flags itself; combine it with -sS, -sU or nothing');
  }
  const technique: Technique = tcpFlags !== undefined ? 'flags' : (args.technique ?? 'syn');
  return { timing, rate, maxRetries, topN, tcpFlags, udpToo, technique };
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
  const versionScan = versionOptions(args, pingScan);
  return { ...kind, ...targets, technique, argv, args, outputTargets, pingScan, discoveryPlan, dnsServers, udpScan, ports, statsEvery, seed, shard, startPosition, versionScan };
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
    rate: plan.rate,
    seed: plan.seed,
    maxRetries: plan.maxRetries,
    minRate: timing.minRate,
    initialRttTimeoutMs: timing.initialRttTimeoutMs,
    minRttTimeoutMs: timing.minRttTimeoutMs,
    maxRttTimeoutMs: timing.maxRttTimeoutMs,
    interface: args.e,
    sourceAddress: args.S,
    rstPolicy: parseRstPolicy(args['rst-policy']),
    trace: args['packet-trace'],
    ...plan.targetOptions,
    sequential: args.r,
  });
  if (plan.pingScan) prepared.ports = [];
  if (plan.shard) {
    prepared.native.shardIndex = plan.shard.index;
    prepared.native.shardCount = plan.shard.count;
  }
  if (plan.startPosition !== undefined) prepared.native.startPosition = plan.startPosition;
  if (args.pcap !== undefined) prepared.native.pcap = args.pcap;
  return prepared;
}

/** An interrupted run's resume file: the command line, the seed and the settled position. */
export function saveResume(plan: ScanPlan, summary: NativeSummary): void {
  const resumeFile = plan.args['resume-file'] ?? DEFAULT_RESUME_FILE;
  writeResumeFile(resumeFile, { version: RESUME_VERSION, argv: resumableArgv(plan.argv), seed: plan.seed.toString(), startPosition: summary.resumePosition });
  process.stderr.write(`${PRODUCT}: interrupted; to continue: ${PRODUCT} --resume ${resumeFile}\n`);
}
