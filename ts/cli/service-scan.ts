// Step 5 of a scan run with -sV: the service scan. The open (then open|filtered) ports of the
// hosts up go through nmap's service probes (ts/service/, the engine's crates/core/src/service);
// --version-trace lines are printed as each port finishes. Nothing runs after an interrupt or
// a --host-timeout, as nmap skips the service scan of a timed-out host.
import { ServiceBook, serviceTargets } from '../service/attach.js';
import { detectServices, preloadVersionDb } from '../service/detect.js';
import type { ScanOutcome } from './port-scan.js';
import type { ScanSession } from './session.js';

const clock = (d: Date): string => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;

/** With -sV, parses nmap's probe database while discovery and the port scan run. */
export function preloadServices(session: ScanSession): void {
  const options = session.plan.versionScan;
  if (options) preloadVersionDb(options.versionDb);
}

/** The services found, or undefined without -sV (or when the run was cut short). */
export async function scanServices(session: ScanSession, outcome: ScanOutcome): Promise<ServiceBook | undefined> {
  const options = session.plan.versionScan;
  if (!options || session.interrupted || session.timedOut) return undefined;
  const targets = serviceTargets(outcome.model.upReports());
  const verbose = session.plan.args.v > 0 && targets.length > 0;
  const started = new Date();
  const hosts = new Set(targets.map((t) => t.address));
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  if (verbose) {
    // nmap's -v lines around its service scan
    const on = hosts.size === 1 ? [...hosts][0] : count(hosts.size, 'host', 'hosts');
    session.screen(`Initiating Service scan at ${clock(started)}\nScanning ${count(targets.length, 'service', 'services')} on ${on}\n`);
  }
  const found = await detectServices(targets, {
    ...options,
    signal: session.controller.signal,
    onTrace: (lines) => session.traceOut(lines.map((l) => `${l}\n`).join('')),
  });
  if (verbose) {
    const at = new Date();
    const secs = ((at.getTime() - started.getTime()) / 1000).toFixed(2);
    session.screen(`Completed Service scan at ${clock(at)}, ${secs}s elapsed (${count(found.length, 'service', 'services')} on ${count(hosts.size, 'host', 'hosts')})\n`);
  }
  return new ServiceBook(found);
}
