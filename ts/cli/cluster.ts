// The CLI's distributed scan, `--temporal ADDRESS --shards N ...`: its options, checked in
// planning, and its run in place of the local port scan: the scan is submitted as one sweep
// (ts/cluster/submit.ts, loaded with the SDK only here), its progress shown as a local scan's
// (live line or Stats lines), and the merged model handed back to the report step, so every
// output format is written once, whole, as from a local run.
import type { NativeSummary } from '../engine/native.js';
import type { ScanProgress } from '../engine/progress.js';
import type { ScanReport } from '../engine/scan.js';
import { AbortError, UsageError } from '../errors.js';
import { ScanModel } from '../hosts/model.js';
import { targetEntries } from '../targets/targets.js';
import { PRODUCT } from '../version.js';
import type { SweepProgress } from '../cluster/submit.js';
import type { CliArgs } from './flags.js';
import type { ScanSession } from './session.js';
import { parseTimeSpec, StatusReporter } from './status.js';

/** What the --temporal options ask of the submitter. */
export interface ClusterCli {
  address: string;
  shards: number;
  namespace?: string;
  taskQueue?: string;
  heartbeatTimeoutMs?: number;
  maxAttempts?: number;
}

const CLUSTER_OPTIONS = ['shards', 'temporal-namespace', 'task-queue', 'heartbeat-timeout', 'max-attempts'] as const;

/**
 * The --temporal group, checked; undefined when --temporal is absent. A distributed scan scans
 * ports only (-Pn) with one technique; the options that steer one local engine do not apply.
 */
export function parseClusterOptions(args: CliArgs, scan: { pingScan: boolean; udpScan: unknown }): ClusterCli | undefined {
  if (args.temporal === undefined) {
    const given = CLUSTER_OPTIONS.find((k) => args[k] !== undefined);
    if (given) throw new UsageError(`--${given} needs --temporal <host:port>`);
    return undefined;
  }
  if (args.shards === undefined) throw new UsageError('--temporal needs --shards <N> (how many pieces to split the scan in)');
  const shards = Number(args.shards);
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > 100_000) throw new UsageError(`invalid --shards "${args.shards}" (1 to 100000)`);
  const maxAttempts = args['max-attempts'] === undefined ? undefined : Number(args['max-attempts']);
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1)) throw new UsageError(`invalid --max-attempts "${args['max-attempts']}"`);
  const heartbeat = args['heartbeat-timeout'] === undefined ? undefined : parseTimeSpec(args['heartbeat-timeout'], '--heartbeat-timeout');
  if (heartbeat !== undefined && heartbeat < 1) throw new UsageError(`invalid --heartbeat-timeout "${args['heartbeat-timeout']}" (at least 1s)`);
  const alone = [
    ['--shard', args.shard],
    ['--resume', args['start-position']],
    ['--dry-run', args['dry-run'] || undefined],
    ['--pcap', args.pcap],
    ['--packet-trace', args['packet-trace'] || undefined],
    ['-sn', scan.pingScan || undefined],
    ['-sS -sU', scan.udpScan],
    ['-sV', args['service-version'] || undefined],
  ].find(([, v]) => v !== undefined);
  if (alone) throw new UsageError(`--temporal cannot be combined with ${alone[0]}`);
  if (!args.Pn) throw new UsageError('--temporal scans ports only: add -Pn (host discovery is not distributed)');
  return {
    address: args.temporal,
    shards,
    namespace: args['temporal-namespace'],
    taskQueue: args['task-queue'],
    heartbeatTimeoutMs: heartbeat === undefined ? undefined : Math.round(heartbeat * 1000),
    maxAttempts,
  };
}

/** The sweep's progress in the shape of a local scan's, for the live line and Stats lines. */
function asScanProgress(p: SweepProgress | undefined, total: number, elapsedSeconds: number): ScanProgress {
  const settled = p?.settled ?? 0;
  const rate = elapsedSeconds > 0 ? settled / elapsedSeconds : 0;
  return {
    sent: settled,
    retransmits: 0,
    received: 0,
    total,
    percent: p?.percent ?? 0,
    rate,
    elapsedSeconds,
    etaSeconds: rate > 0 && settled > 0 ? (total - settled) / rate : undefined,
    found: p?.found ?? 0,
    finished: false,
  };
}

/**
 * The port scan of a --temporal run: the merged report, as from a local run. Interrupted
 * (Ctrl-C), the sweep is cancelled and the report is empty: its shards' findings stay with
 * the cancelled workflow.
 */
export async function runClusterScan(session: ScanSession, cluster: ClusterCli): Promise<ScanReport> {
  const { prepared, plan } = session;
  const { runSweep, DEFAULT_HEARTBEAT_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS } = await import('../cluster/submit.js');
  const total = prepared.targets.count * prepared.ports.length;
  const t0 = performance.now();
  const startedAt = new Date();
  let last: SweepProgress | undefined;
  const { onResult } = session.hooks();
  const summaryOf = (sent: number, retransmits: number, received: number, records: number, finished: boolean): NativeSummary => ({
    sent,
    retransmits,
    received,
    records,
    discarded: 0,
    total,
    elapsedMs: performance.now() - t0,
    srttUs: 0,
    interface: `temporal:${cluster.address}`,
    sourceAddress: '',
    sourcePort: 0,
    unresolved: [],
    finished,
    firstPosition: 0,
    endPosition: total,
    resumePosition: finished ? total : 0,
    // the submitter sends nothing: each worker finds its own rate
    rate: 0,
    peakRate: 0,
    backoffs: 0,
    ringDrops: 0,
  });
  try {
    const report = await runSweep(
      prepared,
      {
        address: cluster.address,
        namespace: cluster.namespace,
        taskQueue: cluster.taskQueue,
        shards: cluster.shards,
        seed: plan.seed,
        heartbeatTimeoutMs: cluster.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
        maxAttempts: cluster.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        assumeUp: true,
        signal: session.controller.signal,
        onSubmitted: () => {
          const at = new Date();
          session.announce(at);
          const first = targetEntries(prepared.targets).next().value;
          if (first) session.writer.scanStarted(session.title, at, session.addresses, first, session.phasePorts);
          session.status = new StatusReporter({
            progress: () => asScanProgress(last, total, (performance.now() - t0) / 1000),
            context: () => ({ title: `${session.title} on ${cluster.shards} shards`, hosts: session.addresses, up: session.addresses }),
            statsEvery: plan.statsEvery,
            onInterrupt: () => session.onSignal('SIGINT'),
          });
          session.status.start();
        },
        onProgress: (p) => (last = p),
      },
      { onResult: (r) => onResult?.(r) },
    );
    session.status?.stop();
    const workers = new Set(report.shards.map((s) => s.worker)).size;
    const retries = report.shards.reduce((n, s) => n + s.startedAt.length - 1, 0);
    process.stderr.write(`${PRODUCT}: sweep ${report.workflowId}: ${report.shards.length} shards on ${workers} worker${workers === 1 ? '' : 's'}, ${retries} ${retries === 1 ? 'retry' : 'retries'}, ${report.sent} probes sent; ${report.elapsedSeconds.toFixed(2)} s from submission to merged results\n`);
    const retransmits = report.shards.reduce((n, s) => n + s.retransmits, 0);
    const received = report.shards.reduce((n, s) => n + s.received, 0);
    return { model: report.model, summary: summaryOf(report.sent, retransmits, received, report.records, true), startedAt: report.startedAt, elapsedSeconds: report.elapsedSeconds };
  } catch (e) {
    if (!(e instanceof AbortError)) throw e;
    const model = new ScanModel({ targets: prepared.targets, ports: prepared.ports, technique: session.technique, assumeUp: true });
    return { model, summary: summaryOf(0, 0, 0, 0, false), startedAt, elapsedSeconds: (performance.now() - t0) / 1000 };
  }
}
