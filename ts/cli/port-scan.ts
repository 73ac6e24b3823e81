// Step 4 of a scan run: the port scan of the hosts up — the TCP (or UDP) scan, falling back
// from SYN to connect without raw-socket rights as nmap does, then the UDP scan of -sS -sU;
// with --temporal, the sweep on Temporal workers instead (cluster.ts).
import type { NativeSummary } from '../engine/native.js';
import { withTechnique } from '../engine/prepare.js';
import { runPrepared, type ScanReport } from '../engine/scan.js';
import { ScanError } from '../errors.js';
import { CombinedModel, ScanModel, type HostsModel } from '../hosts/model.js';
import { TECHNIQUES } from '../verdicts/classify.js';
import { PRODUCT } from '../version.js';
import { runClusterScan } from './cluster.js';
import type { ScanSession } from './session.js';

/** The hosts and ports found, and the last engine run's summary (none when no port was scanned). */
export interface ScanOutcome {
  model: HostsModel;
  summary: NativeSummary | undefined;
}

/** Runs the run's port scans (none with -sn, after an interrupt, or when no host is up). */
export async function scanPorts(session: ScanSession): Promise<ScanOutcome> {
  const { plan, prepared } = session;
  if (plan.pingScan || session.interrupted || session.discovered?.size === 0) {
    // -sn, or nothing left to port-scan.
    session.announce(new Date());
    const model = new ScanModel({ targets: prepared.targets, ports: prepared.ports, technique: session.technique, assumeUp: plan.args.Pn, discovered: session.discoveredStatus() });
    return { model, summary: undefined };
  }
  // The workers' engines start far away: the port scan is under way from here.
  if (plan.cluster) session.portScanStarted = true;
  const report = plan.cluster ? await runClusterScan(session, plan.cluster) : await firstScan(session);
  session.status?.stop();
  session.writer.scanCompleted(session.title, new Date(), report.elapsedSeconds, report.model.hostsUp * prepared.ports.length);
  // A distributed sweep's positions belong to its shards: it is not resumable as one run.
  if (plan.cluster) return { model: report.model, summary: undefined };
  if (!plan.udpScan) return { model: report.model, summary: report.summary };
  return udpScan(session, report, plan.udpScan.ports);
}

/** The first scan; as nmap, without raw-socket rights the SYN scan becomes a connect scan. */
async function firstScan(session: ScanSession): Promise<ScanReport> {
  const run = (): Promise<ScanReport> => runPrepared(session.prepared, session.runOptions(), session.hooks());
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof ScanError && e.code === 'EPERM' && session.technique === 'syn')) throw e;
    process.stderr.write(`${PRODUCT}: raw sockets are not permitted (root or CAP_NET_RAW needed for -sS): using the connect scan (-sT) instead\n`);
    session.technique = 'connect';
    session.phase = 'connect';
    session.prepared.native.technique = 'connect';
    session.title = TECHNIQUES.connect.title;
    return run();
  }
}

/** -sS -sU: the UDP scan follows the TCP one (as nmap's), and hosts carry the ports of both. */
async function udpScan(session: ScanSession, first: ScanReport, ports: readonly number[]): Promise<ScanOutcome> {
  const { outputs, prepared } = session;
  outputs.phase({ kind: 'end', technique: session.technique, at: new Date(), totalPorts: first.model.hostsUp * prepared.ports.length });
  const models = [first.model];
  let summary = first.summary;
  if (!session.interrupted && !session.timedOut) {
    const udp = withTechnique(prepared, 'udp', ports);
    session.title = TECHNIQUES.udp.title;
    session.phase = 'udp';
    session.phasePorts = udp.ports.length;
    const second = await runPrepared(udp, session.runOptions(), session.hooks());
    session.status?.stop();
    models.push(second.model);
    summary = second.summary;
    const total = second.model.hostsUp * udp.ports.length;
    session.writer.scanCompleted(session.title, new Date(), second.elapsedSeconds, total);
    outputs.phase({ kind: 'end', technique: 'udp', at: new Date(), totalPorts: total });
  }
  return { model: new CombinedModel(models), summary };
}
