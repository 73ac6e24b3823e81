// Step 5 of a scan run: every host's report, in the normal output and every output document,
// with its MAC, vendor and name added; then the run's last lines, and the resume file of an
// interrupted run.
//
// Hosts complete during the scan are in the streaming formats already (ts/output/stream.ts);
// here the normal output gets every host, in target order (nmap's order: the terminal and -oN
// are sorted, the other formats follow completion), and the streaming formats get the rest.
// An interrupted scan reports only what answered — ports it never probed are not "filtered",
// hosts it never probed are neither up nor down — and says how far it got. Its files are
// marked for the resume checkpoint before the hosts it had not finished are written, so a
// resumed run cuts them there and writes those hosts whole, once.
import type { NativeSummary } from '../engine/native.js';
import { answeredCount, answeredOnly, type HostReport } from '../hosts/model.js';
import { withFacts } from '../hosts/host-facts.js';
import type { ServiceBook } from '../service/attach.js';
import type { RunEnd, RunProgress } from '../output/writer.js';
import { parseIPv4 } from '../targets/address.js';
import type { ScanOutcome } from './port-scan.js';
import { stopped, type ScanSession } from './session.js';

/** Writes the hosts and closes the outputs; `names` is reverse DNS, still running. */
export async function report(session: ScanSession, outcome: ScanOutcome, names: Promise<Map<string, string>>, services?: ServiceBook): Promise<void> {
  const { outputs, writer, plan, addresses, dataSource } = session;
  const { model, summary } = outcome;
  const finishedAt = new Date();
  outputs.scanEnded(finishedAt);
  session.facts.names = await names;
  // Hosts that completed while reverse DNS was running are written now, names and all.
  session.stream.namesArrived();
  const { interrupted, timedOut } = session;
  const marks = interrupted ? outputs.marks() : [];
  // Without -v only up hosts are printed: walk the stored ones rather than every target.
  const hosts = interrupted ? model.upReports() : plan.args.v ? model.reports() : model.upReports();
  let listedUp = 0;
  for (const host of hosts) if (writeHost(session, host, interrupted !== undefined, timedOut, services)) listedUp++;
  const seconds = session.elapsed();
  const end: RunEnd = interrupted
    ? { finishedAt, elapsedSeconds: seconds, addresses, up: listedUp, down: knownDown(session), dataSource, error: stopped(interrupted), progress: progressOf(session, summary) }
    : { finishedAt, elapsedSeconds: seconds, addresses, up: model.hostsUp, dataSource };
  writer.end(end);
  outputs.end(end);
  if (interrupted) session.checkpoints.interrupted(marks, summary);
  else session.checkpoints.finished();
}

/** Writes one host; true when it was listed as up. */
function writeHost(session: ScanSession, host: HostReport, interrupted: boolean, timedOut: boolean, services?: ServiceBook): boolean {
  const { writer, outputs, facts, stream } = session;
  if (timedOut && !interrupted && host.status.state !== 'down') {
    // Machine-readable outputs leave timed-out hosts out for now (nmap marks them timedout="true").
    writer.hostTimedOut(withFacts(host, facts));
    return true;
  }
  const value = parseIPv4(host.address);
  const streamed = value !== undefined && stream.has(value);
  const complete = streamed || !interrupted;
  const withNames = withFacts(complete ? host : answeredOnly(host), facts);
  // -sV: the host's services, and its answered open|filtered ports made open (no host streams with -sV)
  const h = services ? services.apply(withNames) : withNames;
  // An interrupted port scan lists the hosts that answered; the ping scan's are its result.
  if (!complete && !session.plan.pingScan && answeredCount(h) === 0) return false;
  writer.host(h);
  outputs.host(h, streamed);
  return h.status.state === 'up';
}

/** Hosts an interrupted run knows to be down: those host discovery, run to its end, did not find. */
function knownDown(session: ScanSession): number {
  return session.discoveryComplete && session.discovered ? session.addresses - session.discovered.size : 0;
}

/** How far an interrupted run got: the phase, and probes sent of the port scan. */
function progressOf(session: ScanSession, summary: NativeSummary | undefined): RunProgress {
  if (!session.portScanStarted) return { phase: 'discovery', probesSent: 0, probes: 0, found: session.discovered?.size ?? 0 };
  if (!summary) return { phase: 'ports', probesSent: 0, probes: 0 };
  const probes = summary.endPosition - summary.firstPosition;
  // Positions below the start were covered by the runs this one resumes.
  const before = Math.max(0, (session.plan.startPosition ?? summary.firstPosition) - summary.firstPosition);
  return { phase: 'ports', probesSent: Math.min(probes, before + summary.sent - summary.retransmits), probes };
}
