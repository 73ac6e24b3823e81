// The ferroscan command line: nmap-style flags in, normal output out. Every failure ends
// as one "ferroscan: ..." line on stderr and exit status 1, never a stack trace. Help,
// version and input errors never load the native engine.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import yargs from 'yargs';
import { FerroscanError, ScanError, UsageError } from './errors.js';
import { TECHNIQUES, type Technique } from './classify.js';
import { NormalWriter } from './output/normal.js';
import { extractOutputOptions, Outputs } from './output/outputs.js';
import { parsePortSpec, selectPorts } from './ports.js';
import { drainingSink, listScan } from './listscan.js';
import { blocklistNotice } from './blocklist.js';
import { ProgressMeter } from './progress.js';
import { DEFAULT_MAX_RETRIES, DEFAULT_RATE, prepareScan, runPrepared, withTechnique, type PreparedScan, type RunHooks, type ScanReport } from './scan.js';
import { DEFAULT_STATS_EVERY_S, loadLiveLine, parseTimeSpec, StatusReporter } from './status.js';
import { PacketTracer } from './trace.js';
import { RST_POLICIES, type RstPolicy } from './rst-policy.js';
import { engineRate, resolveTiming } from './timing.js';
import { serviceTable, topPorts } from './services.js';
import { formatIPv4, gatherTargetSpecs, parseTargets, targetEntries } from './targets.js';
import { DEFAULT_RESUME_FILE, parseShard, randomSeed, readResumeFile, resumableArgv, RESUME_VERSION, writeResumeFile } from './resume.js';
import type { NativeSummary } from './native.js';
import { PRODUCT, URL, VERSION } from './version.js';
import { discover, parseDiscoveryFlags, upRanges, type DiscoveredHost } from './discovery.js';
import { MacBook, withFacts, type HostFacts } from './host-facts.js';
import { answeredCount, answeredOnly, CombinedModel, ScanModel, type HostsModel } from './model.js';
import { parseDnsServers, reverseLookup } from './rdns.js';
import { ServiceBook, serviceTargets } from './service/attach.js';
import { DEFAULT_VERSION_DB, detectServices, missingDbMessage, type DetectOptions } from './service/detect.js';

const HELP = `${PRODUCT} ${VERSION} ( ${URL} )
Usage: ${PRODUCT} [Scan Type(s)] [Options] [targets...]
TARGET SPECIFICATION:
  Addresses, CIDR blocks, octet ranges and lists, ranges and host names:
  Ex: 198.18.0.1, 198.18.0.0/24, 198.18.0-255.1-254, 198.18.0,2.1-3, 198.18.0.1-198.18.1.9, example.com
  -iL <inputfilename>: Input from list of hosts/networks ("-" for standard input)
  --exclude <host1[,host2][,host3],...>: Exclude hosts/networks
  --excludefile <exclude_file>: Exclude list from file
  --resolve-all: Scan every address a host name resolves to, not only the first
  --no-default-blocklist: Scan IANA special-purpose ranges in sets larger than a /8
  Default: 127.0.0.1
HOST DISCOVERY:
  -sn: Ping Scan - disable port scan
  -Pn: Treat all hosts as online -- skip host discovery
  -PS/PA/PU[portlist]: TCP SYN/ACK or UDP discovery to given ports
  -PE/PP/PM: ICMP echo, timestamp, and netmask request discovery probes
  -PR: ARP ping for targets on the local link (the default there)
  --disable-arp-ping: Use the IP probes on the local link too
  -n/-R: Never do reverse DNS resolution/Always resolve [default: for hosts up]
    (-n: targets given by name are still looked up)
  --dns-servers <serv1[,serv2],...>: Specify custom DNS servers
SCAN TECHNIQUES:
  -sS/sT/sA/sW/sM: TCP SYN/Connect()/ACK/Window/Maimon scans
    (-sS is the default; it needs root or CAP_NET_RAW and falls back to -sT without)
  -sU: UDP Scan (may be combined with one TCP scan type)
  -sN/sF/sX: TCP Null, FIN, and Xmas scans
  --scanflags <flags>: Customize TCP scan flags (e.g. SYNFIN, URGPSH, or a number)
  -sL: List Scan - simply list targets to scan (sends nothing)
SERVICE/VERSION DETECTION:
  -sV: Probe open ports to determine service/version info (nmap's probes, read at run time
    from /usr/share/nmap/nmap-service-probes: Debian's nmap-common package)
  --version-intensity <level>: Set from 0 (light) to 9 (try all probes) (default: 7)
  --version-light: Limit to most likely probes (intensity 2)
  --version-all: Try every single probe (intensity 9)
  --version-trace: Show detailed version scan activity (for debugging)
  --versiondb <file>: Read the service probes from <file> instead
  --allports: Also probe the ports the probe file excludes (9100-9107, printers)
  --version-parallelism <number>: Connections open at once for -sV (default: 1024);
    a port's probes run in parallel connections, resolved in nmap's order
  -A: Enable service/version detection (-sV; OS detection and scripts are not there yet)
PORT SPECIFICATION AND SCAN ORDER:
  -p <port ranges>: Only scan specified ports
    Ex: -p22; -p1-65535; -p-; -p 22,80,1024-; -p http,ssh; -p U:53,T:21-25,80
  --exclude-ports <port ranges>: Exclude the specified ports from scanning
  -F: Fast mode - Scan fewer ports than the default scan (top 100)
  -r: Scan ports sequentially - don't randomize
  --top-ports <number>: Scan <number> most common ports (default: 1000)
  --seed <number>: Seed of the probe order (same seed, same order)
TIMING AND PERFORMANCE:
  Options which take <time> are in seconds, or append 'ms' (milliseconds),
  's' (seconds), 'm' (minutes), or 'h' (hours) to the value (e.g. 30m).
  -T<0-5>: Set timing template (higher is faster); or -T paranoid|sneaky|polite|normal|aggressive|insane
    nmap's values: -T4 = --initial-rtt-timeout 500ms --min-rtt-timeout 100ms --max-rtt-timeout 1250ms
    --max-retries 6; -T5 = 250ms/50ms/300ms, --max-retries 2, --host-timeout 15m;
    -T0/-T1/-T2 = --scan-delay 5m/15s/400ms. Explicit options override the template.
  --max-rate <number>, --rate <number>: Packets per second, retransmissions included (default: ${DEFAULT_RATE})
  --min-rate <number>: The adaptive rate never falls below <number> packets per second
  --min-rtt-timeout/max-rtt-timeout/initial-rtt-timeout <time>: Bounds and start of the
    retransmission timeout (default: 100ms/10s/1s)
  --max-retries <tries>: Retransmissions of an unanswered probe (default: ${DEFAULT_MAX_RETRIES})
  --scan-delay <time>: At least <time> between probes: caps the rate at 1/<time>
    for the whole scan (nmap's delay is per host)
  --host-timeout <time>: Give up after <time>. Hosts are scanned interleaved, so this
    bounds the whole scan: when it passes, every host still up is reported as timed out
FIREWALL/IDS EVASION AND SPOOFING:
  -S <IP_Address>: Source address
  -e <iface>: Use specified interface
  --rst-policy <kernel|suppress>: This host's RSTs to the SYN/ACKs a SYN scan draws:
    kernel (default) lets the kernel send them, as nmap does; suppress drops those SYN/ACKs
    in this namespace's raw table while the scan runs (iptables; the rule is always removed),
    leaving targets with half-open connections until their SYN/ACK retries meet a RST after it
OUTPUT:
  -oN/-oX/-oG <file>: Output scan in normal, XML and grepable format to the given file
  -oJ <file>: One JSON document; --ndjson <file>: one JSON object per line as results arrive
  --csv <file>: One CSV row per listed port; -oL <file>: masscan's list format
  -oA <basename>: Output in the three major formats at once
  A file name of "-" writes that format to stdout instead of the report
  -v: Increase verbosity level (use -vv or more for greater effect)
  --reason: Display the reason a port is in a particular state
  --open: Only show open (or possibly open) ports
  --packet-trace: Show all packets sent and received
  --stats-every <time>: Print status lines every <time> (e.g. 10s, 500ms, 2m)
    On a terminal a live progress line is shown on stderr; otherwise status lines
    come every ${DEFAULT_STATS_EVERY_S}s. Press any key during a scan for the status.
LARGE SWEEPS:
  --shard <i/N>: Scan only shard i of N (same --seed on every shard; together they cover the scan once)
  --resume <file>: Continue a scan interrupted with Ctrl-C from its resume file
  --resume-file <file>: Where an interrupted scan saves its resume file (default: ferroscan.resume)
  --dry-run: Build every packet and send none; reports packets per second
  --pcap <file>: Write every packet sent (or built, with --dry-run) to a pcap file
MISC:
  -V, --version: Print version number
  -h, --help: Print this help summary page.
EXAMPLES:
  ${PRODUCT} -v -sS 198.18.0.0/24
  ${PRODUCT} -Pn -p80,443 --rate 50000 198.18.0.0/16
  ${PRODUCT} -p22,80 --packet-trace 198.18.0.2
  ${PRODUCT} -p- --open -oX scan.xml --ndjson scan.ndjson 198.18.0.2
`;

/** nmap's scan type flags and the engine technique each selects. */
const SCAN_TYPES: Record<string, Technique> = {
  '-sS': 'syn',
  '-sA': 'ack',
  '-sW': 'window',
  '-sF': 'fin',
  '-sN': 'null',
  '-sX': 'xmas',
  '-sM': 'maimon',
  '-sU': 'udp',
  '-sT': 'connect',
};

/** The TCP scan types, as nmap's "more than one type of TCP scan" error lists them. */
const TCP_SCAN_FLAGS = '-sA, -sF, -sM, -sN, -sS, -sT, -sW and -sX';

/** TCP flag names accepted by --scanflags, as nmap spells them. */
const FLAG_BITS: Record<string, number> = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 };

/** --scanflags: a number (decimal or 0x hex) or flag names run together ("URGACKPSHRSTSYNFIN"). */
export function parseScanflags(text: string): number {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
    const n = Number(text);
    if (n <= 0xff) return n;
  } else {
    let rest = text.toUpperCase();
    let bits = 0;
    while (rest.length) {
      const name = Object.keys(FLAG_BITS).find((f) => rest.startsWith(f));
      if (!name) break;
      bits |= FLAG_BITS[name];
      rest = rest.slice(name.length);
    }
    if (rest.length === 0 && text.length) return bits;
  }
  throw new UsageError(`invalid --scanflags "${text}" (a number up to 255, or flag names such as SYNFIN)`);
}

/**
 * Rewrites nmap's single-dash multi-letter flags, which yargs would split into letters
 * (-sS → -s -S), into long options; and attaches -p's value so "-p-" and "-p80" work.
 */
export function preprocessArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  const pings: string[] = [];
  let pingAt = -1;
  // nmap's rule: one TCP technique, plus -sU if wanted. -sU is written where it stands and
  // becomes --udp-scan once a TCP technique joins it.
  let chosen: Technique | undefined;
  let chosenFlag = '';
  let udpAt = -1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg === '-sL') out.push('--list-scan');
    else if (arg === '-iL') {
      if (i + 1 >= argv.length) throw new UsageError('option -iL needs a file name ("-" for standard input)');
      out.push(`--iL=${argv[++i]}`);
    } else if (arg === '-sU') {
      if (udpAt < 0) {
        udpAt = out.length;
        out.push('--technique=udp');
      }
    } else if (arg in SCAN_TYPES) {
      const technique = SCAN_TYPES[arg];
      if (chosen !== undefined && chosen !== technique) throw new UsageError(`more than one type of TCP scan (${chosenFlag} and ${arg}): choose only one of ${TCP_SCAN_FLAGS}, plus -sU if wanted`);
      if (chosen === undefined) out.push(`--technique=${technique}`);
      chosen = technique;
      chosenFlag = arg;
    } else if (arg === '-sn') out.push('--ping-scan');
    else if (arg === '-sV' || arg === '-A') out.push('--service-version');
    else if (/^-s[A-Za-z]+$/.test(arg)) throw new UsageError(`scan type "${arg}" is not supported yet`);
    else if (arg === '-T') {
      if (i + 1 >= argv.length) throw new UsageError('option -T needs a timing template (0-5 or a name such as aggressive)');
      out.push(`--timing=${argv[++i]}`);
    } else if (/^-T.+$/.test(arg)) out.push(`--timing=${arg.slice(2)}`);
    else if (arg === '-Pn') out.push('--Pn');
    else if (/^-P[A-Za-z]/.test(arg)) {
      // nmap's -PE, -PS80,443, ...: checked now, handed on together (ts/discovery.ts parses them).
      parseDiscoveryFlags([arg]);
      pings.push(arg.slice(1));
      if (pings.length === 1) pingAt = out.length;
    } else if (arg === '-p') {
      if (i + 1 >= argv.length) throw new UsageError('option -p needs a port specification');
      out.push(`--ports=${argv[++i]}`);
    } else if (arg.startsWith('-p') && !arg.startsWith('--')) out.push(`--ports=${arg.slice(2)}`);
    else out.push(arg);
  }
  if (chosen !== undefined && udpAt >= 0) out[udpAt] = '--udp-scan';
  if (pings.length) out.splice(pingAt, 0, `--ping=${pings.join(' ')}`);
  return out;
}

interface CliArgs {
  technique?: Technique;
  /** -sU beside a TCP technique (-sS -sU). */
  'udp-scan': boolean;
  scanflags?: string;
  Pn: boolean;
  'ping-scan': boolean;
  /** The -P discovery options, space-separated without their dash ("PE PS80,443"). */
  ping?: string;
  'disable-arp-ping': boolean;
  R: boolean;
  'dns-servers'?: string;
  ports?: string;
  'top-ports'?: string;
  F: boolean;
  r: boolean;
  'exclude-ports'?: string;
  'list-scan': boolean;
  'service-version': boolean;
  'version-intensity'?: string;
  'version-light': boolean;
  'version-all': boolean;
  'version-trace': boolean;
  versiondb?: string;
  allports: boolean;
  'version-parallelism'?: string;
  iL?: string;
  exclude?: string;
  excludefile?: string;
  'resolve-all': boolean;
  'default-blocklist': boolean;
  rate?: string;
  seed?: string;
  'max-retries'?: string;
  timing?: string;
  'min-rate'?: string;
  'max-rate'?: string;
  'initial-rtt-timeout'?: string;
  'min-rtt-timeout'?: string;
  'max-rtt-timeout'?: string;
  'scan-delay'?: string;
  'host-timeout'?: string;
  'rst-policy'?: string;
  open: boolean;
  reason: boolean;
  'packet-trace': boolean;
  'stats-every'?: string;
  shard?: string;
  resume?: string;
  'resume-file'?: string;
  'start-position'?: string;
  'dry-run': boolean;
  pcap?: string;
  n: boolean;
  v: number;
  e?: string;
  S?: string;
  help: boolean;
  version: boolean;
  _: (string | number)[];
}

const dashed = (name: string): string => (name.length === 1 ? `-${name}` : `--${name}`);

/** Rewords yargs' messages into ours, naming the offending option as typed. */
function usageMessage(msg: string): string {
  const line = msg.replace(/\s+/g, ' ').trim();
  const unknown = /^Unknown arguments?: (.*)$/.exec(line);
  if (unknown) return `unknown option "${dashed(unknown[1].split(', ')[0])}"`;
  const missing = /^Not enough arguments following: (.*)$/.exec(line);
  if (missing) return `option "${dashed(missing[1])}" needs a value`;
  return line;
}

function parseArgs(argv: readonly string[]): CliArgs {
  const parser = yargs(preprocessArgv(argv))
    .scriptName(PRODUCT)
    // yargs' own help and version would claim --help/--version before ours are defined.
    .help(false)
    .version(false)
    .parserConfiguration({ 'camel-case-expansion': false, 'duplicate-arguments-array': false, 'strip-aliased': true })
    .option('technique', { type: 'string', choices: Object.values(SCAN_TYPES) })
    .option('udp-scan', { type: 'boolean', default: false, hidden: true })
    .option('scanflags', { type: 'string', requiresArg: true })
    .option('shard', { type: 'string', requiresArg: true })
    .option('resume', { type: 'string', requiresArg: true })
    .option('resume-file', { type: 'string', requiresArg: true })
    .option('start-position', { type: 'string', requiresArg: true, hidden: true })
    .option('dry-run', { type: 'boolean', default: false })
    .option('pcap', { type: 'string', requiresArg: true })
    .option('Pn', { type: 'boolean', default: false })
    .option('ping-scan', { type: 'boolean', default: false })
    .option('ping', { type: 'string', hidden: true })
    .option('disable-arp-ping', { type: 'boolean', default: false })
    .option('R', { type: 'boolean', default: false })
    .option('dns-servers', { type: 'string', requiresArg: true })
    .option('ports', { type: 'string' })
    .option('top-ports', { type: 'string' })
    .option('F', { type: 'boolean', default: false })
    .option('r', { type: 'boolean', default: false })
    .option('exclude-ports', { type: 'string', requiresArg: true })
    .option('list-scan', { type: 'boolean', default: false })
    .option('service-version', { type: 'boolean', default: false, hidden: true })
    .option('version-intensity', { type: 'string', requiresArg: true })
    .option('version-light', { type: 'boolean', default: false })
    .option('version-all', { type: 'boolean', default: false })
    .option('version-trace', { type: 'boolean', default: false })
    .option('versiondb', { type: 'string', requiresArg: true })
    .option('allports', { type: 'boolean', default: false })
    .option('version-parallelism', { type: 'string', requiresArg: true })
    .option('iL', { type: 'string', requiresArg: true })
    .option('exclude', { type: 'string', requiresArg: true })
    .option('excludefile', { type: 'string', requiresArg: true })
    .option('resolve-all', { type: 'boolean', default: false })
    .option('default-blocklist', { type: 'boolean', default: true })
    .option('rate', { type: 'string' })
    .option('seed', { type: 'string' })
    .option('max-retries', { type: 'string' })
    .option('timing', { type: 'string', requiresArg: true })
    .option('min-rate', { type: 'string', requiresArg: true })
    .option('max-rate', { type: 'string', requiresArg: true })
    .option('initial-rtt-timeout', { type: 'string', requiresArg: true })
    .option('min-rtt-timeout', { type: 'string', requiresArg: true })
    .option('max-rtt-timeout', { type: 'string', requiresArg: true })
    .option('scan-delay', { type: 'string', requiresArg: true })
    .option('host-timeout', { type: 'string', requiresArg: true })
    .option('open', { type: 'boolean', default: false })
    .option('reason', { type: 'boolean', default: false })
    .option('packet-trace', { type: 'boolean', default: false })
    .option('stats-every', { type: 'string', requiresArg: true })
    .option('n', { type: 'boolean', default: false })
    .option('v', { type: 'count' })
    .option('e', { type: 'string', requiresArg: true })
    .option('S', { type: 'string', requiresArg: true })
    .option('rst-policy', { type: 'string', requiresArg: true })
    .option('help', { alias: 'h', type: 'boolean', default: false })
    .option('version', { alias: 'V', type: 'boolean', default: false })
    // Unknown options are errors; positionals are targets.
    .strictOptions()
    .exitProcess(false)
    .fail((msg, err) => {
      throw new UsageError(usageMessage(msg || err?.message || 'bad arguments'));
    });
  return parser.parseSync() as unknown as CliArgs;
}

function number(name: string, text: string | undefined, check: (n: number) => boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !check(n)) throw new UsageError(`invalid ${name} "${text}"`);
  return n;
}

function seed(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  try {
    const value = BigInt(text);
    if (value >= 0n && value < 2n ** 64n) return value;
  } catch {
    // fall through to the one-line error
  }
  throw new UsageError(`invalid --seed "${text}" (0 to 2^64-1)`);
}

/** Runs the CLI; resolves with the exit status. */
export async function main(argv: readonly string[], out = (s: string): void => void process.stdout.write(s)): Promise<number> {
  const { rest, outputs: outputTargets } = extractOutputOptions(argv);
  const args = parseArgs(rest);
  if (args.help) {
    out(HELP);
    return 0;
  }
  if (args.version) {
    out(`${PRODUCT} version ${VERSION} ( ${URL} )\n`);
    return 0;
  }
  if (args.resume !== undefined) {
    // --resume FILE continues an interrupted run: the file holds everything else
    if (argv.length !== 2 && !(argv.length === 1 && argv[0].startsWith('--resume='))) throw new UsageError('--resume takes the resume file and no other option or target');
    const saved = readResumeFile(args.resume);
    return main([...saved.argv, '--seed', saved.seed, '--start-position', String(saved.startPosition)], out);
  }
  // -T templates and the explicit timing options over them (ts/timing.ts).
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
  const topN = number('--top-ports', args['top-ports'], (n) => Number.isInteger(n) && n > 0);
  const tcpFlags = args.scanflags === undefined ? undefined : parseScanflags(args.scanflags);
  // -sU beside a TCP technique (or beside --scanflags, a TCP scan of its own): a UDP scan runs after the TCP one.
  const udpToo = args['udp-scan'] || (tcpFlags !== undefined && args.technique === 'udp');
  if (tcpFlags !== undefined && args.technique !== undefined && args.technique !== 'syn' && args.technique !== 'udp') {
    throw new UsageError('--scanflags sets the probe flags itself; combine it with -sS, -sU or nothing');
  }
  let technique: Technique = tcpFlags !== undefined ? 'flags' : (args.technique ?? 'syn');
  const targetInputs = await gatherTargetSpecs({ specs: args._.map(String), inputList: args.iL, exclude: args.exclude, excludeFile: args.excludefile });
  const targetOptions = { resolveAll: args['resolve-all'], exclude: targetInputs.exclude, defaultBlocklist: args['default-blocklist'] };
  const specs = targetInputs.specs;
  if (args['list-scan']) {
    // -sL: list the targets and send nothing; the engine is never loaded.
    if (args.technique !== undefined || tcpFlags !== undefined) throw new UsageError('the list scan (-sL) cannot be combined with another scan type');
    if (args.ports !== undefined) parsePortSpec(args.ports, ['tcp']); // a bad -p is still an error
    const set = await parseTargets(specs, undefined, targetOptions);
    if (set.count === 0) process.stderr.write('WARNING: No targets were specified, so 0 hosts scanned.\n');
    await listScan(set, drainingSink(out));
    return 0;
  }
  const pingScan = args['ping-scan'];
  if (pingScan && (args.technique !== undefined || tcpFlags !== undefined)) throw new UsageError('-sn (no port scan) cannot be combined with a port scan type');
  const discoveryPlan = parseDiscoveryFlags(args.ping ? args.ping.split(' ') : [], args['disable-arp-ping']);
  if (args.n && args.R) throw new UsageError('-n (no reverse DNS) and -R (reverse DNS for all targets) exclude each other');
  const dnsServers = args['dns-servers'] === undefined ? undefined : parseDnsServers(args['dns-servers']);
  // Unprefixed -p items go to the technique's protocol (to both with -sS -sU); UDP ranks ports by its own frequencies.
  const selected = pingScan ? undefined : selectPorts({ ports: args.ports, topPorts: topN, fast: args.F, excludePorts: args['exclude-ports'], protocols: udpToo ? ['tcp', 'udp'] : [technique === 'udp' ? 'udp' : 'tcp'] });
  // With -sS -sU, a protocol left without ports is not scanned (-sS -sU -p U:53 is a UDP scan, as in nmap).
  if (udpToo && selected?.tcp.length === 0) technique = 'udp';
  const protocol = technique === 'udp' ? 'udp' : 'tcp';
  const udpScan = udpToo && technique !== 'udp' && selected && selected.udp.length > 0 ? { technique: 'udp' as const, ports: selected.udp } : undefined;
  if (udpScan) {
    const alone = [['--shard', args.shard], ['--resume', args['start-position']], ['--dry-run', args['dry-run'] || undefined], ['--pcap', args.pcap]].find(([, v]) => v !== undefined);
    if (alone) throw new UsageError(`${alone[0]} works with one scan type at a time; run the TCP and the UDP scan (-sU) separately`);
  }
  // -sn scans no ports; prepareScan wants one, which is dropped below.
  const ports = selected ? selected[protocol] : [0];
  const statsEvery = args['stats-every'] === undefined ? undefined : parseTimeSpec(args['stats-every']);
  const versionScan = versionOptions(args, pingScan);

  const scanSeed = seed(args.seed) ?? randomSeed();
  const shard = args.shard === undefined ? undefined : parseShard(args.shard);
  const startPosition = number('--start-position', args['start-position'], (n) => Number.isSafeInteger(n) && n >= 0);
  const prepared = await prepareScan({
    targets: specs.length || args.iL !== undefined ? specs : ['127.0.0.1'],
    ports,
    technique,
    tcpFlags,
    rate,
    seed: scanSeed,
    maxRetries,
    minRate: timing.minRate,
    initialRttTimeoutMs: timing.initialRttTimeoutMs,
    minRttTimeoutMs: timing.minRttTimeoutMs,
    maxRttTimeoutMs: timing.maxRttTimeoutMs,
    interface: args.e,
    sourceAddress: args.S,
    rstPolicy: rstPolicy(args['rst-policy']),
    trace: args['packet-trace'],
    ...targetOptions,
    sequential: args.r,
  });
  if (pingScan) prepared.ports = [];
  if (shard) {
    prepared.native.shardIndex = shard.index;
    prepared.native.shardCount = shard.count;
  }
  if (startPosition !== undefined) prepared.native.startPosition = startPosition;
  if (args.pcap !== undefined) prepared.native.pcap = args.pcap;
  const resumeFile = args['resume-file'] ?? DEFAULT_RESUME_FILE;
  const saveResume = (summary: NativeSummary): void => {
    writeResumeFile(resumeFile, { version: RESUME_VERSION, argv: resumableArgv(argv), seed: scanSeed.toString(), startPosition: summary.resumePosition });
    process.stderr.write(`${PRODUCT}: interrupted; to continue: ${PRODUCT} --resume ${resumeFile}\n`);
  };
  if (args['dry-run'] && prepared.targets.count > 0) {
    // build every packet, send none: no sockets, no privileges, nothing on the wire
    prepared.native.dryRun = true;
    if (rate === undefined) prepared.native.rate = Infinity;
    const notice = blocklistNotice(prepared.targets.blocklist ?? []);
    if (notice) out(`${notice}\n`);
    return dryRun(prepared, out, saveResume);
  }
  if (prepared.targets.count === 0) {
    // Everything was excluded (or -iL was empty): nothing to send, as nmap says it.
    process.stderr.write('WARNING: No targets were specified, so 0 hosts scanned.\n');
    const empty = new NormalWriter(out, prepared.ports);
    empty.start(new Date());
    empty.end({ addresses: 0, up: 0, elapsedSeconds: 0 });
    return 0;
  }

  // Output files are opened before any packet is sent; a format on stdout replaces the report.
  const outputs = Outputs.open(outputTargets, out);
  const screen = outputs.toStdout ? (): void => {} : out;
  const writer = new NormalWriter(screen, prepared.ports, { reason: args.reason, open: args.open, verbose: args.v, pingScan, versionScan: versionScan !== undefined });
  let title = TECHNIQUES[technique].title;
  // The technique running now and its port count (-sS -sU runs two, one after the other).
  let phase: Technique = technique;
  let phasePorts = prepared.ports.length;
  const dataSource = dirname(serviceTable().source);
  const addresses = prepared.targets.count;
  let startedAt = new Date();
  const elapsed = (): number => (Date.now() - startedAt.getTime()) / 1000;
  // The start lines and the output documents' heads: once, when discovery or the port scan begins.
  let announced = false;
  const announce = (at: Date): void => {
    if (announced) return;
    announced = true;
    startedAt = at;
    writer.start(at);
    const notice = blocklistNotice(prepared.targets.blocklist ?? []);
    if (notice) screen(`${notice}\n`);
    outputs.begin({ startedAt: at, args: [PRODUCT, ...argv], technique, ports: prepared.ports, ...(udpScan && { scans: [{ technique, ports: prepared.ports }, udpScan] }), addresses, verbose: args.v, open: args.open, reason: args.reason, pingScan, versionScan: versionScan !== undefined });
  };
  let discovered: Map<number, DiscoveredHost> | undefined;
  // The first SIGINT or SIGTERM stops the engine; what was found is reported and every
  // output document is closed as an interrupted run. A second one closes them at once and quits.
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const stopped = (signal: NodeJS.Signals): string => `caught ${signal} signal, cleaning up`;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      outputs.end({ finishedAt: new Date(), elapsedSeconds: elapsed(), addresses, up: 0, error: stopped(signal), dataSource });
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    }
    interrupted = signal;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // --host-timeout: the hosts are scanned interleaved, not one after another, so the timeout
  // runs for the whole run: when it passes, the scan stops and every host still up is
  // reported as nmap reports a timed-out host ("Skipping host X due to host timeout"), its
  // partial results dropped.
  let timedOut = false;
  const hostTimer = timing.hostTimeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timing.hostTimeoutMs);
  hostTimer?.unref();
  // Live progress or Stats lines on stderr and keypress status (ts/status.ts); the live line
  // is lifted around every stdout write.
  let status: StatusReporter | undefined;
  if (process.stderr.isTTY) await loadLiveLine();
  let tracer: PacketTracer | undefined;
  // Open ports of the phases done (-sS -sU) and the model of the running one, for the progress line.
  let openBefore = 0;
  let running: ScanModel | undefined;
  let engineElapsedUs = (): number => 0;
  const traceOut = outputs.toStdout ? (s: string): void => void process.stderr.write(s) : screen;
  const facts: HostFacts = { macs: new MacBook(prepared.targets, { interface: args.e }) };
  try {
    const hooks: RunHooks = {
      onStart: (engine, at, model) => {
        openBefore += running?.openPorts ?? 0;
        running = model;
        announce(at);
        status?.stop();
        const meter = new ProgressMeter();
        status = new StatusReporter({
          progress: () => meter.sample(engine.summary(), openBefore + model.openPorts),
          context: () => ({ title, hosts: addresses, up: args.Pn ? addresses : (discovered?.size ?? model.hostsUp) }),
          statsEvery,
          onInterrupt: () => onSignal('SIGINT'),
        });
        if (args['packet-trace']) {
          engineElapsedUs = () => engine.summary().elapsedMs * 1000;
          const { sourceAddress, sourcePort } = engine.summary();
          tracer = new PacketTracer({ sourceAddress, sourcePort });
        }
        const first = targetEntries(prepared.targets).next().value;
        if (first) writer.scanStarted(title, at, addresses, first, phasePorts);
        if (udpScan) outputs.phase({ kind: 'begin', technique: phase, at });
        // Last, so the start lines above are printed before the live line appears below them.
        status.start();
      },
      onRecords: (records) => {
        facts.macs?.note(records);
        if (!tracer) return;
        const lines = tracer.batch(records, engineElapsedUs());
        if (lines.length) status?.around(() => traceOut(lines.map((l) => `${l.text}\n`).join('')));
      },
      onResult: (r) => {
        if (status) status.around(() => writer.discovered(r));
        else writer.discovered(r);
        outputs.result(r, new Date());
      },
    };
    // Host discovery first (ts/discovery.ts), unless -Pn: only hosts found up are port-scanned.
    if (!args.Pn) {
      announce(new Date());
      const found = await discover({ targets: prepared.targets, plan: discoveryPlan, rate, maxRetries, seed: scanSeed, interface: args.e, sourceAddress: args.S, signal: controller.signal });
      discovered = found.up;
      facts.discovered = found.up;
      prepared.native.ranges = upRanges(found.up).flatMap((r) => [r.start, r.end]);
    }
    // Reverse DNS runs beside the port scan: for hosts up (every target with -Pn), all with -R, none with -n.
    const upAddresses = discovered;
    const toName: Iterable<string> = args.R || !upAddresses ? mapIter(targetEntries(prepared.targets), (e) => e.address) : mapIter(upAddresses.keys(), formatIPv4);
    const names = args.n ? Promise.resolve(new Map<string, string>()) : reverseLookup(toName, { servers: dnsServers, signal: controller.signal });
    const discoveredStatus = discovered && new Map([...discovered].map(([v, h]) => [v, h.status] as const));
    let model: HostsModel;
    let summary: NativeSummary | undefined;
    if (pingScan || interrupted || discovered?.size === 0) {
      // -sn, or nothing left to port-scan.
      announce(new Date());
      model = new ScanModel({ targets: prepared.targets, ports: prepared.ports, technique, assumeUp: args.Pn, discovered: discoveredStatus });
    } else {
      const run = (): Promise<ScanReport> => runPrepared(prepared, { assumeUp: args.Pn, discovered: discoveredStatus, signal: controller.signal }, hooks);
      let report: ScanReport;
      try {
        report = await run();
      } catch (e) {
        // as nmap: without raw-socket rights the SYN scan becomes a connect scan
        if (!(e instanceof ScanError && e.code === 'EPERM' && technique === 'syn')) throw e;
        process.stderr.write(`${PRODUCT}: raw sockets are not permitted (root or CAP_NET_RAW needed for -sS): using the connect scan (-sT) instead\n`);
        technique = 'connect';
        phase = 'connect';
        prepared.native.technique = 'connect';
        title = TECHNIQUES.connect.title;
        report = await run();
      }
      status?.stop();
      model = report.model;
      summary = report.summary;
      writer.scanCompleted(title, new Date(), report.elapsedSeconds, model.hostsUp * prepared.ports.length);
      if (udpScan) {
        // -sS -sU: the UDP scan follows the TCP one (as nmap's), and hosts carry the ports of both.
        outputs.phase({ kind: 'end', technique, at: new Date(), totalPorts: report.model.hostsUp * prepared.ports.length });
        const models = [report.model];
        if (!interrupted && !timedOut) {
          const udp = withTechnique(prepared, 'udp', udpScan.ports);
          title = TECHNIQUES.udp.title;
          phase = 'udp';
          phasePorts = udp.ports.length;
          const second = await runPrepared(udp, { assumeUp: args.Pn, discovered: discoveredStatus, signal: controller.signal }, hooks);
          status?.stop();
          models.push(second.model);
          const total = second.model.hostsUp * udp.ports.length;
          writer.scanCompleted(title, new Date(), second.elapsedSeconds, total);
          outputs.phase({ kind: 'end', technique: 'udp', at: new Date(), totalPorts: total });
        }
        model = new CombinedModel(models);
        // Resume positions belong to one engine permutation: a run of two scans is not resumable.
        summary = undefined;
      }
    }
    // -sV: the open ports of the hosts up go through the service probes (ts/service/).
    let services: ServiceBook | undefined;
    if (versionScan && !interrupted && !timedOut) {
      const found = await detectServices(serviceTargets(model.upReports()), { ...versionScan, signal: controller.signal, onTrace: (lines) => traceOut(lines.map((l) => `${l}\n`).join('')) });
      services = new ServiceBook(found);
    }
    const finishedAt = new Date();
    outputs.scanEnded(finishedAt);
    facts.names = await names;
    // Without -v only up hosts are printed: walk the stored ones rather than every target.
    // An interrupted scan reports only what answered: unprobed ports and hosts are not "filtered" or "down".
    const hosts = interrupted ? model.upReports() : args.v ? model.reports() : model.upReports();
    for (const host of hosts) {
      if (timedOut && !interrupted && host.status.state !== 'down') {
        // Machine-readable outputs leave timed-out hosts out for now (nmap marks them timedout="true").
        writer.hostTimedOut(withFacts(host, facts));
        continue;
      }
      const reported = withFacts(interrupted ? answeredOnly(host) : host, facts);
      const h = services ? services.apply(reported) : reported;
      if (interrupted && answeredCount(h) === 0 && h.status.reason === 'user-set') continue;
      writer.host(h);
      outputs.host(h);
    }
    const seconds = elapsed();
    writer.end({ addresses, up: model.hostsUp, elapsedSeconds: seconds, dataSource });
    if (interrupted && summary) saveResume(summary);
    else if (interrupted && udpScan) process.stderr.write(`${PRODUCT}: interrupted; a run of several scan types cannot be resumed\n`);
    outputs.end({ finishedAt, elapsedSeconds: seconds, addresses, up: model.hostsUp, dataSource, ...(interrupted && { error: stopped(interrupted) }) });
  } catch (e) {
    outputs.end({ finishedAt: new Date(), elapsedSeconds: elapsed(), addresses, up: 0, error: errorLine(e), dataSource });
    throw e;
  } finally {
    if (hostTimer) clearTimeout(hostTimer);
    status?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return interrupted === 'SIGTERM' ? 143 : interrupted ? 130 : 0;
}

function* mapIter<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

/** --dry-run: runs the engine without sockets and reports how fast it built the packets. */
async function dryRun(prepared: PreparedScan, out: (s: string) => void, saveResume: (s: NativeSummary) => void): Promise<number> {
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await runPrepared(prepared, { signal: controller.signal });
    const sum = report.summary;
    const seconds = sum.elapsedMs / 1000;
    const pps = seconds > 0 ? Math.round(sum.sent / seconds) : 0;
    const covered = sum.endPosition - sum.firstPosition;
    out(`${PRODUCT} dry run: ${sum.sent} of ${covered} packets built, none sent, in ${seconds.toFixed(2)} s (${pps} packets/s)${prepared.native.pcap ? `; written to ${prepared.native.pcap}` : ''}\n`);
    if (interrupted) {
      saveResume(sum);
      return interrupted === 'SIGTERM' ? 143 : 130;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The one line printed for an error: ours as is, the engine's EPERM explained. */
export function errorLine(e: unknown): string {
  if (e instanceof ScanError && e.code === 'EPERM') {
    return 'raw sockets are not permitted: this scan type needs root or CAP_NET_RAW (the connect scan, -sT, does not)';
  }
  if (e instanceof FerroscanError) return e.message;
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0];
}

/** The -sV options, or undefined without -sV; a missing probe database is a one-line error now, before any packet. */
function versionOptions(args: CliArgs, pingScan: boolean): DetectOptions | undefined {
  if (!args['service-version'] || pingScan) return undefined;
  let intensity = number('--version-intensity', args['version-intensity'], (n) => Number.isInteger(n) && n >= 0 && n <= 9) ?? 7;
  if (args['version-light']) intensity = 2;
  if (args['version-all']) intensity = 9;
  const versionDb = args.versiondb ?? DEFAULT_VERSION_DB;
  if (!existsSync(versionDb)) throw new UsageError(missingDbMessage(versionDb));
  const parallelism = number('--version-parallelism', args['version-parallelism'], (n) => Number.isInteger(n) && n >= 1 && n <= 65536);
  return { versionDb, intensity, allPorts: args.allports, trace: args['version-trace'], ...(parallelism !== undefined && { parallelism }) };
}

function rstPolicy(value: string | undefined): RstPolicy | undefined {
  if (value === undefined) return undefined;
  if (!(RST_POLICIES as readonly string[]).includes(value)) throw new UsageError(`invalid --rst-policy "${value}" (one of ${RST_POLICIES.join(', ')})`);
  return value as RstPolicy;
}

/**
 * Standard output as C's stdio has it, and as nmap's output reaches a pipe or a file:
 * line by line on a terminal, in blocks otherwise (a /16 sweep prints 65,536 host reports;
 * one write each was a fifth of the run). A block waits at most 200 ms, and whatever is
 * pending goes out at exit, also on process.exit.
 */
function stdoutWriter(): { write: (s: string) => void; flush: () => void } {
  if (process.stdout.isTTY) return { write: (s) => void process.stdout.write(s), flush: () => {} };
  let chunks: string[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (size === 0) return;
    const text = chunks.join('');
    chunks = [];
    size = 0;
    process.stdout.write(text);
  };
  process.once('exit', flush);
  return {
    write: (s: string): void => {
      chunks.push(s);
      size += s.length;
      if (size >= 1 << 16) flush();
      else timer ??= setTimeout(flush, 200).unref();
    },
    flush,
  };
}

/** Entry point for bin/ferroscan.js. */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // A closed pipe (ferroscan ... | head) is not an error worth a trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const stdout = stdoutWriter();
  try {
    process.exitCode = await main(argv, stdout.write);
  } catch (e) {
    stdout.flush();
    process.stderr.write(`${PRODUCT}: ${errorLine(e)}\n`);
    process.exitCode = 1;
  } finally {
    stdout.flush();
  }
}
