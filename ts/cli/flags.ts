// The command line's grammar: nmap's flags rewritten for yargs (preprocessArgv), the option
// table (parseArgs), the checked values of single options, and parseCommand, which tells a
// scan from --help, --version and --resume. Nothing here loads the native engine.
import yargs from './argv.js';
import { UsageError } from '../errors.js';
import { RST_POLICIES, type RstPolicy } from '../engine/rst-policy.js';
import { readResumeFile, type ResumeState } from '../engine/resume.js';
import { parseDiscoveryFlags } from '../hosts/discovery.js';
import { extractOutputOptions, type OutputTarget } from '../output/outputs.js';
import type { Technique } from '../verdicts/classify.js';
import { PRODUCT } from '../version.js';

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
    else if (arg === '-sV') out.push('--service-version');
    // -A: nmap's -sV -O (plus --traceroute and -sC once they exist)
    else if (arg === '-A') out.push('--service-version', '-O');
    else if (/^-s[A-Za-z]+$/.test(arg)) throw new UsageError(`scan type "${arg}" is not supported yet`);
    else if (arg === '-T') {
      if (i + 1 >= argv.length) throw new UsageError('option -T needs a timing template (0-5 or a name such as aggressive)');
      out.push(`--timing=${argv[++i]}`);
    } else if (/^-T.+$/.test(arg)) out.push(`--timing=${arg.slice(2)}`);
    else if (arg === '-Pn') out.push('--Pn');
    else if (arg === '-6') out.push('--ipv6');
    else if (/^-P[A-Za-z]/.test(arg)) {
      // nmap's -PE, -PS80,443, ...: checked now, handed on together (ts/hosts/discovery.ts parses them).
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

/** The parsed command line, option names as typed (no camel-case copies). */
export interface CliArgs {
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
  /** -sV (and -A). */
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
  /** -6: IPv6 targets (nmap's -6). */
  ipv6: boolean;
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
  /** Run as root: give root up once the raw sockets are open (--no-drop-privileges keeps it). */
  'drop-privileges': boolean;
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
  temporal?: string;
  shards?: string;
  'heartbeat-timeout'?: string;
  'max-attempts'?: string;
  'task-queue'?: string;
  'temporal-namespace'?: string;
  /** -O: OS detection (ts/os/); -A turns it on too. */
  O: boolean;
  'osscan-limit': boolean;
  'osscan-guess': boolean;
  fuzzy: boolean;
  'max-os-tries'?: string;
  osdb?: string;
  /** --os-hints: passive OS hints from the scan's own SYN+ACKs (p0f's signatures). */
  'os-hints': boolean;
  'p0f-db'?: string;
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

/** The command line (output options already taken out) parsed and checked by yargs' parser (argv.ts). */
export function parseArgs(argv: readonly string[]): CliArgs {
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
    .option('temporal', { type: 'string', requiresArg: true })
    .option('shards', { type: 'string', requiresArg: true })
    .option('heartbeat-timeout', { type: 'string', requiresArg: true })
    .option('max-attempts', { type: 'string', requiresArg: true })
    .option('task-queue', { type: 'string', requiresArg: true })
    .option('temporal-namespace', { type: 'string', requiresArg: true })
    .option('Pn', { type: 'boolean', default: false })
    .option('ping-scan', { type: 'boolean', default: false })
    .option('ping', { type: 'string', hidden: true })
    .option('disable-arp-ping', { type: 'boolean', default: false })
    .option('R', { type: 'boolean', default: false })
    .option('dns-servers', { type: 'string', requiresArg: true })
    .option('ports', { type: 'string', requiresArg: true })
    .option('top-ports', { type: 'string', requiresArg: true })
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
    .option('ipv6', { type: 'boolean', default: false, hidden: true })
    .option('default-blocklist', { type: 'boolean', default: true })
    .option('rate', { type: 'string', requiresArg: true })
    .option('seed', { type: 'string', requiresArg: true })
    .option('max-retries', { type: 'string', requiresArg: true })
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
    .option('drop-privileges', { type: 'boolean', default: true })
    .option('O', { type: 'boolean', default: false })
    .option('osscan-limit', { type: 'boolean', default: false })
    .option('osscan-guess', { type: 'boolean', default: false })
    .option('fuzzy', { type: 'boolean', default: false })
    .option('max-os-tries', { type: 'string', requiresArg: true })
    .option('osdb', { type: 'string', requiresArg: true })
    .option('os-hints', { type: 'boolean', default: false })
    .option('p0f-db', { type: 'string', requiresArg: true })
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

/** A numeric option's value, checked; undefined when the option was not given. */
export function parseNumber(name: string, text: string | undefined, check: (n: number) => boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !check(n)) throw new UsageError(`invalid ${name} "${text}"`);
  return n;
}

/** --seed: 0 to 2^64-1. */
export function parseSeed(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  try {
    // BigInt('') is 0n: an empty --seed= is no seed, not seed 0.
    if (text.trim() === '') throw new RangeError('empty');
    const value = BigInt(text);
    if (value >= 0n && value < 2n ** 64n) return value;
  } catch {
    // fall through to the one-line error
  }
  throw new UsageError(`invalid --seed "${text}" (0 to 2^64-1)`);
}

/** --rst-policy: one of RST_POLICIES. */
export function parseRstPolicy(value: string | undefined): RstPolicy | undefined {
  if (value === undefined) return undefined;
  if (!(RST_POLICIES as readonly string[]).includes(value)) throw new UsageError(`invalid --rst-policy "${value}" (one of ${RST_POLICIES.join(', ')})`);
  return value as RstPolicy;
}

/** What a command line asks for: a scan, or one of the answers that need no scan. */
export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  /** --resume FILE: the saved command line to run instead, and the interrupted run's state. */
  | { kind: 'resume'; argv: string[]; state: ResumeState; file: string }
  | { kind: 'scan'; args: CliArgs; outputs: OutputTarget[] };

/** Step 1 of main(): argv → the command, with the output options (-oX FILE, ...) taken apart. */
export function parseCommand(argv: readonly string[]): Command {
  const { rest, outputs } = extractOutputOptions(argv);
  const args = parseArgs(rest);
  if (args.help) return { kind: 'help' };
  if (args.version) return { kind: 'version' };
  if (args.resume !== undefined) {
    // --resume FILE continues an interrupted run: the file holds everything else
    if (argv.length !== 2 && !(argv.length === 1 && argv[0].startsWith('--resume='))) throw new UsageError('--resume takes the resume file and no other option or target');
    const saved = readResumeFile(args.resume);
    return { kind: 'resume', argv: [...saved.argv, '--seed', saved.seed, '--start-position', String(saved.startPosition)], state: saved, file: args.resume };
  }
  return { kind: 'scan', args, outputs };
}
