// The ferroscan command line: nmap-style flags in, normal output out. Every failure ends
// as one "ferroscan: ..." line on stderr and exit status 1, never a stack trace. Help,
// version and input errors never load the native engine.
import { dirname } from 'node:path';
import yargs from 'yargs';
import { FerroscanError, ScanError, UsageError } from './errors.js';
import { TECHNIQUES } from './classify.js';
import { NormalWriter } from './output/normal.js';
import { parsePorts, parseTopPorts } from './ports.js';
import { DEFAULT_MAX_RETRIES, DEFAULT_RATE, prepareScan, runPrepared } from './scan.js';
import { serviceTable } from './services.js';
import { targetEntries } from './targets.js';
import { PRODUCT, URL, VERSION } from './version.js';

const HELP = `${PRODUCT} ${VERSION} ( ${URL} )
Usage: ${PRODUCT} [Scan Type(s)] [Options] [targets...]
TARGET SPECIFICATION:
  Addresses, CIDR blocks, ranges and host names:
  Ex: 198.18.0.1, 198.18.0.0/24, 198.18.0.1-20, 198.18.0.1-198.18.1.9, example.com
  Default: 127.0.0.1
HOST DISCOVERY:
  -Pn: Treat all hosts as online -- skip host discovery
  -n: Never do DNS resolution (targets given by name are still looked up)
SCAN TECHNIQUES:
  -sS: TCP SYN scan (default; needs root or CAP_NET_RAW)
PORT SPECIFICATION AND SCAN ORDER:
  -p <port ranges>: Only scan specified ports
    Ex: -p22; -p1-65535; -p-; -p 22,80,1024-; -p http,ssh
  --top-ports <number>: Scan <number> most common ports (default: 1000)
  --seed <number>: Seed of the probe order (same seed, same order)
TIMING AND PERFORMANCE:
  --rate <number>: Packets per second, retransmissions included (default: ${DEFAULT_RATE})
  --max-retries <tries>: Retransmissions of an unanswered probe (default: ${DEFAULT_MAX_RETRIES})
FIREWALL/IDS EVASION AND SPOOFING:
  -S <IP_Address>: Source address
  -e <iface>: Use specified interface
OUTPUT:
  -v: Increase verbosity level (use -vv or more for greater effect)
  --reason: Display the reason a port is in a particular state
  --open: Only show open (or possibly open) ports
MISC:
  -V, --version: Print version number
  -h, --help: Print this help summary page.
EXAMPLES:
  ${PRODUCT} -v -sS 198.18.0.0/24
  ${PRODUCT} -Pn -p80,443 --rate 50000 198.18.0.0/16
`;

/**
 * Rewrites nmap's single-dash multi-letter flags, which yargs would split into letters
 * (-sS → -s -S), into long options; and attaches -p's value so "-p-" and "-p80" work.
 */
export function preprocessArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg === '-sS') out.push('--technique=syn');
    else if (arg === '-sT') throw new UsageError('the connect scan (-sT) comes in a later release; use -sS');
    else if (/^-s[A-Za-z]+$/.test(arg)) throw new UsageError(`scan type "${arg}" is not supported yet (only -sS)`);
    else if (arg === '-Pn') out.push('--Pn');
    else if (/^-P[A-Za-z0-9]+$/.test(arg)) throw new UsageError(`host discovery option "${arg}" is not supported yet (only -Pn)`);
    else if (arg === '-p') {
      if (i + 1 >= argv.length) throw new UsageError('option -p needs a port specification');
      out.push(`--ports=${argv[++i]}`);
    } else if (arg.startsWith('-p') && !arg.startsWith('--')) out.push(`--ports=${arg.slice(2)}`);
    else out.push(arg);
  }
  return out;
}

interface CliArgs {
  technique?: string;
  Pn: boolean;
  ports?: string;
  'top-ports'?: string;
  rate?: string;
  seed?: string;
  'max-retries'?: string;
  open: boolean;
  reason: boolean;
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
    .option('technique', { type: 'string', choices: ['syn'] })
    .option('Pn', { type: 'boolean', default: false })
    .option('ports', { type: 'string' })
    .option('top-ports', { type: 'string' })
    .option('rate', { type: 'string' })
    .option('seed', { type: 'string' })
    .option('max-retries', { type: 'string' })
    .option('open', { type: 'boolean', default: false })
    .option('reason', { type: 'boolean', default: false })
    .option('n', { type: 'boolean', default: false })
    .option('v', { type: 'count' })
    .option('e', { type: 'string', requiresArg: true })
    .option('S', { type: 'string', requiresArg: true })
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
  const args = parseArgs(argv);
  if (args.help) {
    out(HELP);
    return 0;
  }
  if (args.version) {
    out(`${PRODUCT} version ${VERSION} ( ${URL} )\n`);
    return 0;
  }
  const rate = number('--rate', args.rate, (n) => Number.isFinite(n) && n > 0);
  const maxRetries = number('--max-retries', args['max-retries'], (n) => Number.isInteger(n) && n >= 0);
  const topN = number('--top-ports', args['top-ports'], (n) => Number.isInteger(n) && n > 0);
  if (args.ports !== undefined && topN !== undefined) throw new UsageError('-p and --top-ports cannot be used together');
  const ports = topN !== undefined ? parseTopPorts(topN) : parsePorts(args.ports);
  const specs = args._.map(String);

  const prepared = await prepareScan({
    targets: specs.length ? specs : ['127.0.0.1'],
    ports,
    technique: 'syn',
    rate,
    seed: seed(args.seed),
    maxRetries,
    interface: args.e,
    sourceAddress: args.S,
  });

  const writer = new NormalWriter(out, prepared.ports, { reason: args.reason, open: args.open, verbose: args.v });
  const title = TECHNIQUES.syn.title;
  // First Ctrl-C stops the engine and prints what was found; a second one quits at once.
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const report = await runPrepared(prepared, { assumeUp: args.Pn, signal: controller.signal }, {
      onStart: (_engine, startedAt) => {
        writer.start(startedAt);
        const first = targetEntries(prepared.targets).next().value;
        if (first) writer.scanStarted(title, startedAt, prepared.targets.count, first);
      },
      onResult: (r) => writer.discovered(r),
    });
    writer.scanCompleted(title, new Date(), report.elapsedSeconds, prepared.targets.count * prepared.ports.length);
    // Without -v only up hosts are printed: walk the stored ones rather than every target.
    for (const host of args.v ? report.model.reports() : report.model.upReports()) writer.host(host);
    writer.end({ addresses: prepared.targets.count, up: report.model.hostsUp, elapsedSeconds: report.elapsedSeconds, dataSource: dirname(serviceTable().source) });
  } finally {
    process.off('SIGINT', onSigint);
  }
  return 0;
}

/** The one line printed for an error: ours as is, the engine's EPERM explained. */
export function errorLine(e: unknown): string {
  if (e instanceof ScanError && e.code === 'EPERM') {
    return 'raw sockets are not permitted: the SYN scan needs root or CAP_NET_RAW (the connect scan, -sT, comes in a later release)';
  }
  if (e instanceof FerroscanError) return e.message;
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0];
}

/** Entry point for bin/ferroscan.js. */
export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // A closed pipe (ferroscan ... | head) is not an error worth a trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    process.stderr.write(`${PRODUCT}: ${errorLine(e)}\n`);
    process.exitCode = 1;
  }
}
