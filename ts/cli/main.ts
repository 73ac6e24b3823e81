// ts/cli/ — the command line, stage by stage. Takes argv (nmap-style flags); gives the exit
// status, with nmap's normal output on `out` and any output files written. The steps:
//   parse    flags.ts     argv → a command (help, version, resume, or a scan's options)
//   prepare  plan.ts      options checked in nmap's order → the engine's prepared scan
//   discover discover.ts  hosts up (unless -Pn), reverse DNS beside the scan
//   scan     port-scan.ts the port scans (SYN → connect fallback, then -sU's UDP scan), or
//                         with --temporal the sweep on Temporal workers (cluster.ts)
//   services service-scan.ts  -sV: nmap's service probes on the open ports
//   os       os-scan.ts   -O: OS detection of the hosts up
//   report   report.ts    every host's report, the last lines, the resume file
// The list scan (-sL) and the dry run (dry-run.ts) end early. Every failure ends as one
// "ferroscan: ..." line on stderr and exit status 1 (run.ts), never a stack trace. Help,
// version and input errors never load the native engine; the help text, the list scan and
// the dry run are loaded only when asked for (what a scan loads stands between the process
// start and its first probe: benches/startup.mjs).
import type { PreparedScan } from '../engine/prepare.js';
import type { ResumeState } from '../engine/resume.js';
import type { OutputTarget } from '../output/outputs.js';
import { NormalWriter } from '../output/normal.js';
import { parsePortSpec } from '../targets/ports.js';
import { parseTargets } from '../targets/targets.js';
import { parseTargets6 } from '../targets/targets6.js';
import { UsageError } from '../errors.js';
import { PRODUCT, URL, VERSION } from '../version.js';
import { discoverHosts, lookUpNames } from './discover.js';
import { parseCommand, type CliArgs } from './flags.js';
import { gatherTargets, planScan, prepare, scanKind, skipUnresolved, type ScanKind, type ScanPlan, type TargetInputs } from './plan.js';
import { osDatabase } from '../os/detect.js';
import { osScan } from './os-scan.js';
import { scanPorts } from './port-scan.js';
import { report } from './report.js';
import { preloadServices, scanServices } from './service-scan.js';
import { ScanSession } from './session.js';
import { validateCommand } from './validate.js';

/** Runs the CLI; resolves with the exit status. `resumed`: the state of the run --resume continues, and its file. */
export async function main(argv: readonly string[], out = (s: string): void => void process.stdout.write(s), resumed?: { state: ResumeState; file: string }): Promise<number> {
  // A worker of distributed scans: its own options, loaded only for it (worker.ts).
  if (argv[0] === 'worker') return (await import('./worker.js')).workerMain(argv.slice(1), out);
  const command = parseCommand(argv);
  if (command.kind === 'help') {
    out((await import('./help.js')).HELP);
    return 0;
  }
  if (command.kind === 'version') {
    out(`${PRODUCT} version ${VERSION} ( ${URL} )\n`);
    return 0;
  }
  if (command.kind === 'resume') return main(command.argv, out, { state: command.state, file: command.file });
  const { args, outputs } = command;
  const kind = scanKind(args);
  validateCommand(argv, args, outputs, kind);
  const targets = await gatherTargets(args);
  if (args['list-scan']) return listTargets(argv, args, outputs, kind, targets, out);
  const plan = planScan(argv, args, outputs, kind, targets);
  if (resumed) {
    plan.resumed = resumed.state;
    plan.resumedFrom = resumed.file;
  }
  const prepared = await prepare(plan);
  if (args['dry-run'] && prepared.targets.count > 0) return (await import('./dry-run.js')).dryRun(plan, prepared, out);
  if (prepared.targets.count === 0) return noTargets(prepared, out);
  return scanRun(plan, prepared, out);
}

/** -sL: list the targets (on the terminal and in every output file) and send nothing; the engine is never loaded. */
async function listTargets(argv: readonly string[], args: CliArgs, outputs: OutputTarget[], kind: ScanKind, targets: TargetInputs, out: (s: string) => void): Promise<number> {
  if (args.technique !== undefined || kind.tcpFlags !== undefined) throw new UsageError('the list scan (-sL) cannot be combined with another scan type');
  if (args.ports !== undefined) parsePortSpec(args.ports, ['tcp']); // a bad -p is still an error
  const set = args.ipv6 ? await parseTargets6(targets.specs, undefined, targets.targetOptions) : await parseTargets(targets.specs, undefined, { ...targets.targetOptions, onUnresolved: skipUnresolved });
  if (set.count === 0) process.stderr.write('WARNING: No targets were specified, so 0 hosts scanned.\n');
  return (await import('./list-outputs.js')).listToOutputs(argv, args, outputs, set, out);
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
  // -O: the database is read on a thread of its own while the hosts are scanned (errors show at -O's turn)
  if (plan.os) osDatabase(plan.os.database);
  try {
    preloadServices(session);
    await discoverHosts(session);
    const names = lookUpNames(session);
    // Complete hosts wait for their names; once reverse DNS is done they stream as they complete.
    void names.then((found) => {
      session.facts.names = found;
      session.stream.namesArrived();
    }, () => undefined);
    const outcome = await scanPorts(session);
    const services = await scanServices(session, outcome);
    await osScan(session, outcome);
    await report(session, outcome, names, services);
  } catch (e) {
    session.failed(e);
    throw e;
  } finally {
    session.close();
  }
  return session.exitCode();
}
