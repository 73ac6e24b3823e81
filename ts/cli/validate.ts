// The checks a command line passes before anything is touched: no file is created, no
// target resolved, no packet sent and the engine not loaded until every option is known to
// be good. Where nmap refuses a combination or a value, so does ferroscan (its rule, our
// words); where the engine has a limit (retransmissions, interface types), it is checked
// here, in words, rather than met as an engine code after the scan began. The option
// grammar itself and single values are checked by flags.ts and plan.ts's scanKind().
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MAX_RETRIES } from '../engine/prepare.js';
import { ownIPv4Addresses } from '../engine/routes.js';
import { UsageError } from '../errors.js';
import { extractOutputOptions, type OutputTarget } from '../output/outputs.js';
import { formatIPv4, parseIPv4 } from '../targets/address.js';
import { preprocessArgv, type CliArgs } from './flags.js';
import type { ScanKind } from './plan.js';

/** The most ports --top-ports may ask for (nmap: "Level argument to gettoppts is too large" above it). */
export const MAX_TOP_PORTS = 65536;
/** nmap's floor for --max-rtt-timeout ("must be at least 5ms"). */
const MIN_MAX_RTT_TIMEOUT_MS = 5;

/** Link types the raw engine sends on (/sys/class/net/IF/type): Ethernet and loopback. */
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

/** Options nmap takes once only ("Only 1 -p option allowed", "Only one input filename allowed"). */
function checkRepeats(argv: readonly string[]): void {
  const words = preprocessArgv(extractOutputOptions(argv).rest);
  const end = words.indexOf('--');
  const options = end < 0 ? words : words.slice(0, end);
  const count = (name: string): number => options.filter((w) => w === name || w.startsWith(`${name}=`)).length;
  if (count('--ports') > 1) throw new UsageError('-p given more than once: list every port in one -p, separated by commas (-p 22,80,443)');
  if (count('--iL') > 1) throw new UsageError('-iL given more than once: one input list per run (it may hold any number of targets)');
}

/** -p and -F choose ports: nmap refuses them without a port scan, and -F beside -p. */
function checkPortOptions(args: CliArgs): void {
  const chosen = args.ports !== undefined ? '-p' : args.F ? '-F' : undefined;
  if (chosen && args['list-scan']) throw new UsageError(`${chosen} selects ports to scan, but the list scan (-sL) scans none`);
  if (chosen && args['ping-scan']) throw new UsageError(`${chosen} selects ports to scan, but -sn (no port scan) scans none`);
  if (args.F && args.ports !== undefined) {
    throw new UsageError('-F (the 100 most common ports) and -p (these ports) exclude each other; --top-ports N -p LIST scans the N most common of LIST');
  }
}

/** --top-ports and --max-retries within what exists; --max-rtt-timeout at nmap's floor. */
function checkLimits(args: CliArgs, kind: ScanKind): void {
  if (kind.topN !== undefined && kind.topN > MAX_TOP_PORTS) throw new UsageError(`invalid --top-ports "${args['top-ports']}" (1 to ${MAX_TOP_PORTS})`);
  if (kind.maxRetries !== undefined && kind.maxRetries > MAX_RETRIES) {
    throw new UsageError(`invalid --max-retries "${args['max-retries']}" (0 to ${MAX_RETRIES}, the most the engine tells apart)`);
  }
  const maxRtt = kind.timing.maxRttTimeoutMs;
  if (args['max-rtt-timeout'] !== undefined && maxRtt !== undefined && maxRtt < MIN_MAX_RTT_TIMEOUT_MS) {
    throw new UsageError(`invalid --max-rtt-timeout "${args['max-rtt-timeout']}" (at least ${MIN_MAX_RTT_TIMEOUT_MS}ms)`);
  }
}

/** Interface names as Linux allows them (IFNAMSIZ, no slash): also keeps -e out of other /sys paths. */
const IFNAME = /^(?!\.{1,2}$)[^/\s]{1,15}$/;

/** -e: the interface exists, and the raw engine can send on its link type. */
function checkInterface(name: string, raw: boolean): void {
  if (!IFNAME.test(name) || !existsSync(`/sys/class/net/${name}`)) throw new UsageError(`no network interface "${name}" (-e)`);
  if (!raw) return;
  let type: number;
  try {
    type = Number(readFileSync(`/sys/class/net/${name}/type`, 'utf8').trim());
  } catch {
    throw new UsageError(`cannot read the link type of interface "${name}" (-e)`);
  }
  if (type !== ARPHRD_ETHER && type !== ARPHRD_LOOPBACK) throw new UsageError(`interface "${name}" is neither Ethernet nor loopback (link type ${type}): not supported yet (-e)`);
}

/**
 * -S: an IPv4 address a packet can come from. As nmap: without -e it must be one of this
 * host's addresses (nmap cannot tell which interface a foreign address would leave by);
 * with -e any unicast address goes (spoofing).
 */
function checkSource(text: string, args: CliArgs, sends: boolean): void {
  const value = parseIPv4(text.trim());
  if (value === undefined) throw new UsageError(`invalid -S "${text}" (an IPv4 address)`);
  if (!sends) return;
  const first = value >>> 24;
  if (value === 0 || value === 0xffffffff || first >= 224) throw new UsageError(`-S ${formatIPv4(value)} cannot be a source address (unspecified, broadcast or multicast)`);
  if (args.e === undefined && !ownIPv4Addresses().includes(formatIPv4(value))) {
    throw new UsageError(`-S ${formatIPv4(value)} is not an address of this host: to send from another address, name the interface too (-e)`);
  }
}

const OUTPUT_NAMES: Record<string, string> = {
  normal: 'normal output',
  xml: 'XML output',
  grepable: 'grepable output',
  json: 'JSON output',
  ndjson: 'NDJSON output',
  csv: 'CSV output',
  list: 'list output',
};

const REASONS: Record<string, string> = { EACCES: 'permission denied', EPERM: 'permission denied', ENOTDIR: 'not a directory', EROFS: 'read-only file system', ELOOP: 'too many symbolic links' };

/** Why `path` could not be created or rewritten, or undefined when it can be (checked, not opened). */
function unwritable(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return 'is a directory';
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code !== 'ENOENT') return REASONS[code] ?? code;
  }
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) return 'not a directory';
  } catch {
    return 'no such directory';
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return 'permission denied';
  }
  return undefined;
}

/** Every file the run may write (outputs, --pcap, the resume file): each must be creatable before any is opened. */
function checkFiles(outputs: readonly OutputTarget[], args: CliArgs): void {
  for (const o of outputs) {
    if (o.path === '-') continue;
    const why = unwritable(o.path);
    if (why) throw new UsageError(`cannot open ${OUTPUT_NAMES[o.format] ?? 'output'} file "${o.path}" for writing: ${why}`);
  }
  if (args.pcap !== undefined) {
    const why = unwritable(args.pcap);
    if (why) throw new UsageError(`cannot open pcap file "${args.pcap}" for writing: ${why}`);
  }
  if (args['resume-file'] !== undefined) {
    const why = unwritable(args['resume-file']);
    if (why) throw new UsageError(`cannot open resume file "${args['resume-file']}" for writing: ${why}`);
  }
}

/**
 * Checks what flags.ts and scanKind() cannot see alone: options given twice, options that
 * exclude each other, the engine's limits, -e and -S against this host, and every file the
 * run would write. Throws the UsageError of the first problem; touches nothing.
 */
export function validateCommand(argv: readonly string[], args: CliArgs, outputs: readonly OutputTarget[], kind: ScanKind): void {
  checkRepeats(argv);
  checkPortOptions(args);
  checkLimits(args, kind);
  const listOnly = args['list-scan'];
  // Whether packets leave at all, and raw ones (the connect scan leaves routing to the kernel).
  const sends = !listOnly && !args['dry-run'];
  if (args.e !== undefined) checkInterface(args.e, sends && kind.technique !== 'connect');
  if (args.S !== undefined) checkSource(args.S, args, sends);
  checkFiles(outputs, args);
}
