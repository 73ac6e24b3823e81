// Step 5 of a scan run: every host's report, in the normal output and every output document,
// with its MAC, vendor and name added; then the run's last lines, and the resume file of an
// interrupted run.
import { answeredCount, answeredOnly, type HostReport } from '../hosts/model.js';
import { withFacts } from '../hosts/host-facts.js';
import type { ServiceBook } from '../service/attach.js';
import { PRODUCT } from '../version.js';
import { saveResume } from './plan.js';
import type { ScanOutcome } from './port-scan.js';
import { stopped, type ScanSession } from './session.js';

/** Writes the hosts and closes the outputs; `names` is reverse DNS, still running. */
export async function report(session: ScanSession, outcome: ScanOutcome, names: Promise<Map<string, string>>, services?: ServiceBook): Promise<void> {
  const { outputs, writer, plan, addresses, dataSource } = session;
  const { model, summary } = outcome;
  const finishedAt = new Date();
  outputs.scanEnded(finishedAt);
  session.facts.names = await names;
  const { interrupted, timedOut } = session;
  // Without -v only up hosts are printed: walk the stored ones rather than every target.
  // An interrupted scan reports only what answered: unprobed ports and hosts are not "filtered" or "down".
  const hosts = interrupted ? model.upReports() : plan.args.v ? model.reports() : model.upReports();
  for (const host of hosts) writeHost(session, host, interrupted !== undefined, timedOut, services);
  const seconds = session.elapsed();
  writer.end({ addresses, up: model.hostsUp, elapsedSeconds: seconds, dataSource });
  if (interrupted && summary) saveResume(plan, summary);
  else if (interrupted && plan.udpScan) process.stderr.write(`${PRODUCT}: interrupted; a run of several scan types cannot be resumed\n`);
  outputs.end({ finishedAt, elapsedSeconds: seconds, addresses, up: model.hostsUp, dataSource, ...(interrupted && { error: stopped(interrupted) }) });
}

function writeHost(session: ScanSession, host: HostReport, interrupted: boolean, timedOut: boolean, services?: ServiceBook): void {
  const { writer, outputs, facts } = session;
  if (timedOut && !interrupted && host.status.state !== 'down') {
    // Machine-readable outputs leave timed-out hosts out for now (nmap marks them timedout="true").
    writer.hostTimedOut(withFacts(host, facts));
    return;
  }
  const withNames = withFacts(interrupted ? answeredOnly(host) : host, facts);
  // -sV: the host's services, and its answered open|filtered ports made open
  const h = services ? services.apply(withNames) : withNames;
  if (interrupted && answeredCount(h) === 0 && h.status.reason === 'user-set') return;
  writer.host(h);
  outputs.host(h);
}
