// Step 5 of a scan run with -sV: the service scan. The open (then open|filtered) ports of the
// hosts up go through nmap's service probes (ts/service/, the engine's crates/core/src/service);
// --version-trace lines are printed as each port finishes. Nothing runs after an interrupt or
// a --host-timeout, as nmap skips the service scan of a timed-out host.
import { ServiceBook, serviceTargets } from '../service/attach.js';
import { detectServices, preloadVersionDb } from '../service/detect.js';
import type { ScanOutcome } from './port-scan.js';
import type { ScanSession } from './session.js';

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
  const found = await detectServices(targets, {
    ...options,
    signal: session.controller.signal,
    onTrace: (lines) => session.traceOut(lines.map((l) => `${l}\n`).join('')),
  });
  return new ServiceBook(found);
}
