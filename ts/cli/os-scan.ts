// Step 4b of a scan run with -O (or -A): OS detection of the hosts the port scan found up,
// all at once, after the port scan as nmap's is. Each host's report goes into the run's facts,
// so report.ts writes it with the host.
import { ScanError } from '../errors.js';
import type { HostReport } from '../hosts/model.js';
import { detectOs, osTargetOf, unreliable, type OsReport, type OsTarget } from '../os/detect.js';
import { PRODUCT } from '../version.js';
import type { ScanOutcome } from './port-scan.js';
import type { ScanSession } from './session.js';

/** Runs OS detection when the plan asks for it; afterwards `session.facts.os` holds the reports. */
export async function osScan(session: ScanSession, outcome: ScanOutcome): Promise<void> {
  const { plan, prepared } = session;
  const os = plan.os;
  if (!os || session.interrupted || session.timedOut) return;
  const verbose = plan.args.v;
  const targets: OsTarget[] = [];
  for (const host of outcome.model.upReports() as Iterable<HostReport>) {
    const t = osTargetOf(host, prepared.ports);
    // nmap's --osscan-limit; without it such a host is probed and its report warns
    if (unreliable(t) && os.limit) {
      if (verbose) session.screen(`Skipping OS Scan against ${host.address} due to absence of open (or perhaps closed) ports\n`);
      continue;
    }
    targets.push(t);
  }
  if (targets.length === 0) return;
  if (verbose) {
    const what = targets.length === 1 ? targets[0].address : `${targets.length} hosts`;
    session.screen(`Initiating OS detection (try #1) against ${what}\n`);
  }
  const { timing, udpScan, technique } = plan;
  let reports: OsReport[];
  try {
    reports = await detectOs(targets, {
      database: os.database,
      maxTries: os.maxTries,
      interface: plan.args.e,
      sourceAddress: plan.args.S,
      initialRttTimeoutMs: timing.initialRttTimeoutMs,
      minRttTimeoutMs: timing.minRttTimeoutMs,
      maxRttTimeoutMs: timing.maxRttTimeoutMs,
      scanDelayMs: timing.scanDelayMs,
      timingLevel: timing.level,
      udpScan: udpScan !== undefined || technique === 'udp',
      signal: session.controller.signal,
    });
  } catch (e) {
    if (e instanceof ScanError && e.code === 'EPERM') throw new ScanError('TCP/IP fingerprinting (for OS scan) requires root privileges (or CAP_NET_RAW)', 'EPERM');
    if (session.interrupted || session.timedOut) return;
    throw e;
  }
  for (const r of reports) {
    for (const w of r.warnings) {
      // nmap prints the RST warning on stderr; the late-match note only with -v
      if (w.startsWith('WARNING: RST')) process.stderr.write(`${w}\n`);
      else if (verbose) session.screen(`${w}\n`);
    }
    if (r.error !== undefined) process.stderr.write(`${PRODUCT}: OS detection of ${r.address} skipped: ${r.error}\n`);
  }
  session.facts.os = new Map(reports.map((r) => [r.address, r]));
}
