// ts/cli/ — the command line, stage by stage. Takes argv (nmap-style flags); gives the exit
// status, with nmap's normal output on `out` and any output files written. The steps:
//   parse    flags.ts     argv → a command (help, version, resume, or a scan's options)
//   prepare  plan.ts      options checked in nmap's order → the engine's prepared scan
//   discover discover.ts  hosts up (unless -Pn), reverse DNS beside the scan
//   scan     port-scan.ts the port scans (SYN → connect fallback, then -sU's UDP scan)
//   services service-scan.ts  -sV: nmap's service probes on the open ports
//   report   report.ts    every host's report, the last lines, the resume file
// The list scan (-sL) and the dry run (dry-run.ts) end early. Every failure ends as one
// "ferroscan: ..." line on stderr and exit status 1 (run.ts), never a stack trace. Help,
// version and input errors never load the native engine.
import type { PreparedScan } from '../engine/prepare.js';
import { NormalWriter } from '../output/normal.js';
import { drainingSink, listScan } from '../targets/list-scan.js';
import { parsePortSpec } from '../targets/ports.js';
import { parseTargets } from '../targets/targets.js';
import { parseTargets6 } from '../targets/targets6.js';
import { UsageError } from '../errors.js';
import { PRODUCT, URL, VERSION } from '../version.js';
import { discoverHosts, lookUpNames } from './discover.js';
import { dryRun } from './dry-run.js';
import { parseCommand, type CliArgs } from './flags.js';
import { HELP } from './help.js';
import { gatherTargets, planScan, prepare, scanKind, type ScanKind, type ScanPlan, type TargetInputs } from './plan.js';
import { scanPorts } from './port-scan.js';
import { report } from './report.js';
import { preloadServices, scanServices } from './service-scan.js';
import { ScanSession } from './session.js';

/** Runs the CLI; resolves with the exit status. */
export async function main(argv: readonly string[], out = (s: string): void => void process.stdout.write(s)): Promise<number> {
  const command = parseCommand(argv);
  if (command.kind === 'help') {
    out(HELP);
    return 0;
  }
  if (command.kind === 'version') {
    out(`${PRODUCT} version ${VERSION} ( ${URL} )\n`);
    return 0;
  }
  if (command.kind === 'resume') return main(command.argv, out);
  const { args, outputs } = command;
  const kind = scanKind(args);
  const targets = await gatherTargets(args);
  if (args['list-scan']) return listTargets(args, kind, targets, out);
  const plan = planScan(argv, args, outputs, kind, targets);
  const prepared = await prepare(plan);
  if (args['dry-run'] && prepared.targets.count > 0) return dryRun(plan, prepared, out);
  if (prepared.targets.count === 0) return noTargets(prepared, out);
  return scanRun(plan, prepared, out);
}

/** -sL: list the targets and send nothing; the engine is never loaded. */
async function listTargets(args: CliArgs, kind: ScanKind, targets: TargetInputs, out: (s: string) => void): Promise<number> {
  if (args.technique !== undefined || kind.tcpFlags !== undefined) throw new UsageError('the list scan (-sL) cannot be combined with another scan type');
  if (args.ports !== undefined) parsePortSpec(args.ports, ['tcp']); // a bad -p is still an error
  const set = args.ipv6 ? await parseTargets6(targets.specs, undefined, targets.targetOptions) : await parseTargets(targets.specs, undefined, targets.targetOptions);
  if (set.count === 0) process.stderr.write('WARNING: No targets were specified, so 0 hosts scanned.\n');
  await listScan(set, drainingSink(out));
  return 0;
}

/** Everything was excluded (or -iL was empty): nothing to send, as nmap says it. */
function noTargets(prepared: PreparedScan, out: (s: string) => void): number {
  process.stderr.write('WARNING: No targets were specified, so 0 hosts scanned.\n');
  const empty = new NormalWriter(out, prepared.ports);
  empty.start(new Date());
  empty.end({ addresses: 0, up: 0, elapsedSeconds: 0 });
  return 0;
}

/** A scan run: discover → scan → report, with every output closed however it ends. */
async function scanRun(plan: ScanPlan, prepared: PreparedScan, out: (s: string) => void): Promise<number> {
  const session = await ScanSession.open(plan, prepared, out);
  try {
    preloadServices(session);
    await discoverHosts(session);
    const names = lookUpNames(session);
    const outcome = await scanPorts(session);
    const services = await scanServices(session, outcome);
    await report(session, outcome, names, services);
  } catch (e) {
    session.failed(e);
    throw e;
  } finally {
    session.close();
  }
  return session.exitCode();
}
