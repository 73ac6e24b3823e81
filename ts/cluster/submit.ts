// `ferroscan --temporal ADDRESS --shards N ...`: submits a prepared scan as one sweep workflow,
// reports progress from the shards' heartbeats while it runs, waits for it through server
// restarts, and folds every shard's records into one model, the same model a single-process
// run fills, so every output format is written once, whole, by the CLI's usual writers.
import { randomBytes } from 'node:crypto';
import { AbortError } from '../errors.js';
import { ScanModel, type PortResult } from '../hosts/model.js';
import type { PreparedScan } from '../engine/prepare.js';
import type { Technique } from '../verdicts/classify.js';
import { ClusterError, connectFailure, loadClientSdk, type ClientSdk } from './sdk.js';
import { decodeRecordLog } from './shard-records.js';
import { DEFAULT_TASK_QUEUE, SHARDS_DONE_QUERY, SWEEP_WORKFLOW, type ClusterScan, type ShardCheckpoint, type ShardDone, type ShardResult, type SweepInput, type SweepResult } from './types.js';

/** A shard's worker that is silent this long is presumed dead and its shard retried elsewhere. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 20_000;
export const DEFAULT_MAX_ATTEMPTS = 10;
/** One attempt of one shard may take up to a day. */
export const DEFAULT_SHARD_TIMEOUT_MS = 24 * 3600 * 1000;
/** How long the submitter keeps trying while the Temporal server cannot be reached. */
const UNREACHABLE_FOR_MS = 120_000;

export interface SweepOptions {
  /** The Temporal frontend, host:port. */
  address: string;
  namespace?: string;
  taskQueue?: string;
  /** N: the sweep is split in this many shards of the seeded permutation. */
  shards: number;
  /** The permutation's seed, the same for every shard. */
  seed: bigint;
  heartbeatTimeoutMs?: number;
  maxAttempts?: number;
  shardTimeoutMs?: number;
  workflowId?: string;
  /** -Pn: every target is reported up. */
  assumeUp?: boolean;
  /** Cancels the workflow (its shards stop on their workers). */
  signal?: AbortSignal;
  /** Milliseconds between progress reports; 1000 when absent. */
  progressInterval?: number;
  onProgress?(progress: SweepProgress): void;
  /** Called once the workflow is started. */
  onSubmitted?(workflowId: string): void;
}

export interface SweepProgress {
  shards: number;
  /** Shards finished, and shards a worker is scanning now. */
  done: number;
  running: number;
  /** Probes in the sweep, and those settled (below a shard's cursor, or in a finished shard). */
  probes: number;
  settled: number;
  percent: number;
  /** Open ports found so far (finished shards and running shards' heartbeats). */
  found: number;
  /** Shard attempts beyond the first (killed or lost workers). */
  retries: number;
  elapsedSeconds: number;
}

export interface SweepReport {
  model: ScanModel;
  startedAt: Date;
  elapsedSeconds: number;
  workflowId: string;
  shards: ShardResult[];
  /** Probes sent by every attempt of every shard, retransmissions included. */
  sent: number;
  /** Records merged (duplicates after a resume included). */
  records: number;
}

/** The part of a prepared scan that travels to the workers: already resolved, JSON only. */
export function clusterScanOf(prepared: PreparedScan): ClusterScan {
  const n = prepared.native;
  const scan: ClusterScan = {
    ranges: [...n.ranges],
    ports: [...prepared.ports],
    technique: n.technique as Technique,
    rate: Number.isFinite(n.rate) ? n.rate : null,
    maxRetries: n.maxRetries,
  };
  if (n.tcpFlags != null) scan.tcpFlags = n.tcpFlags;
  if (n.initialRttTimeoutMs != null) scan.initialRttTimeoutMs = n.initialRttTimeoutMs;
  if (n.minRttTimeoutMs != null) scan.minRttTimeoutMs = n.minRttTimeoutMs;
  if (n.maxRttTimeoutMs != null) scan.maxRttTimeoutMs = n.maxRttTimeoutMs;
  if (n.minRate != null) scan.minRate = n.minRate;
  if (n.adaptive != null) scan.adaptive = n.adaptive;
  if (n.sequential) scan.sequential = true;
  if (prepared.rstPolicy) scan.rstPolicy = prepared.rstPolicy;
  return scan;
}

/** Shard i's positions [first, end) of a space of `total` probes in N shards, as the engine cuts them. */
export function shardBounds(total: number, shards: number, shard: number): [number, number] {
  const at = (k: number): number => Number((BigInt(total) * BigInt(k)) / BigInt(shards));
  return [at(shard - 1), at(shard)];
}

/** A gRPC failure that a restarted or reachable-again server will cure. */
function transient(e: unknown): boolean {
  const err = e as { code?: number; cause?: { code?: number }; name?: string } | undefined;
  const code = err?.code ?? err?.cause?.code;
  // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNKNOWN (a connection reset mid-call)
  return code === 14 || code === 4 || code === 8 || code === 2;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new ClusterError(`invalid ${name} "${value}"`);
  return value;
}

/**
 * Runs the prepared scan as a sweep on the Temporal cluster at `options.address`, and returns
 * the merged model. Results reach `onResult` once the sweep is done, each port once (records
 * from a shard's re-sent probes fold into the verdict already there).
 */
export async function runSweep(prepared: PreparedScan, options: SweepOptions, hooks: { onResult?(result: PortResult): void } = {}): Promise<SweepReport> {
  const shards = positiveInteger('shard count', options.shards);
  const heartbeatTimeoutMs = positiveInteger('heartbeat timeout', options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS);
  const input: SweepInput = {
    scan: clusterScanOf(prepared),
    seed: options.seed.toString(),
    shards,
    policy: {
      heartbeatTimeoutMs,
      maxAttempts: positiveInteger('attempt count', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
      shardTimeoutMs: positiveInteger('shard timeout', options.shardTimeoutMs ?? DEFAULT_SHARD_TIMEOUT_MS),
    },
  };
  const sdk = await loadClientSdk();
  let connection: Awaited<ReturnType<ClientSdk['Connection']['connect']>>;
  try {
    connection = await sdk.Connection.connect({ address: options.address, connectTimeout: 10_000 });
  } catch (e) {
    throw new ClusterError(`cannot reach the Temporal server at ${options.address}: ${connectFailure(e)}`);
  }
  const startedAt = new Date();
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  // the progress call in flight, if any: the connection is closed only once it has settled
  // (a call the SDK is retrying after a server restart would otherwise fire on a closed
  // channel, and throw from its timer)
  let inflight: Promise<unknown> | undefined;
  try {
    const client = new sdk.Client({ connection, namespace: options.namespace ?? 'default' });
    const workflowId = options.workflowId ?? `ferroscan-${startedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    const handle = await client.workflow.start(SWEEP_WORKFLOW, { taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE, workflowId, args: [input] });
    options.onSubmitted?.(workflowId);
    const onAbort = (): void => void handle.cancel().catch(() => undefined);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const total = prepared.targets.count * prepared.ports.length;
    if (options.onProgress) {
      const report = options.onProgress.bind(options);
      let busy = false;
      timer = setInterval(() => {
        if (busy) return;
        busy = true;
        inflight = sweepProgress(sdk, handle, total, shards, t0)
          .then(report, () => undefined)
          .finally(() => (busy = false));
      }, options.progressInterval ?? 1000);
      timer.unref();
    }
    let result: SweepResult;
    try {
      result = await waitFor(() => handle.result() as Promise<SweepResult>);
    } catch (e) {
      if (options.signal?.aborted) throw new AbortError('the sweep was cancelled', { cause: options.signal.reason });
      throw new ClusterError(`the sweep ${workflowId} failed: ${failureText(e)}`);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (timer) clearInterval(timer);
    }
    const found = await shardRecords(sdk, handle, result, workflowId);
    const model = new ScanModel({ targets: prepared.targets, ports: prepared.ports, technique: prepared.native.technique as Technique, assumeUp: options.assumeUp ?? false });
    let records = 0;
    let sent = 0;
    for (const shard of found) {
      sent += shard.sent;
      for (const record of decodeRecordLog(shard.records)) {
        records++;
        const r = model.add(record);
        if (r) hooks.onResult?.(r);
      }
    }
    if (options.onProgress) options.onProgress(finalProgress(result, total, shards, model.openPorts, t0));
    return { model, startedAt, elapsedSeconds: (performance.now() - t0) / 1000, workflowId, shards: found, sent, records };
  } finally {
    if (timer) clearInterval(timer);
    if (inflight) await Promise.race([inflight.catch(() => undefined), new Promise((r) => setTimeout(r, 15_000).unref())]);
    await connection.close().catch(() => undefined);
  }
}

/**
 * Every shard's records, read from the completed activities in the workflow's history (the
 * workflow's own result carries only summaries: see SweepResult), checked against them.
 */
async function shardRecords(sdk: ClientSdk, handle: Handle, result: SweepResult, workflowId: string): Promise<ShardResult[]> {
  const history = await waitFor(() => handle.fetchHistory());
  const byShard = new Map<number, ShardResult>();
  for (const event of history.events ?? []) {
    const payload = event.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    if (!payload) continue;
    const r = sdk.defaultPayloadConverter.fromPayload<ShardResult>(payload);
    if (r && Number.isInteger(r.shard) && Array.isArray(r.records)) byShard.set(r.shard, r);
  }
  return [...result.shards]
    .sort((a, b) => a.shard - b.shard)
    .map((summary) => {
      const full = byShard.get(summary.shard);
      if (!full || full.recordCount !== summary.recordCount) throw new ClusterError(`the history of sweep ${workflowId} lacks the records of shard ${summary.shard}`);
      return full;
    });
}

/** Retries `call` while the server is unreachable (restarting), up to UNREACHABLE_FOR_MS of failures in a row. */
async function waitFor<T>(call: () => Promise<T>): Promise<T> {
  let failingSince: number | undefined;
  for (let pause = 250; ; pause = Math.min(pause * 2, 5000)) {
    try {
      return await call();
    } catch (e) {
      if (!transient(e)) throw e;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > UNREACHABLE_FOR_MS) throw e;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** The innermost message of a workflow failure (the shard's own error, when there is one). */
function failureText(e: unknown): string {
  let err = e as { message?: string; cause?: unknown } | undefined;
  while (err && typeof err.cause === 'object' && err.cause !== null) err = err.cause as typeof err;
  return (err?.message ?? String(e)).split('\n')[0];
}

type Handle = ReturnType<InstanceType<ClientSdk['Client']>['workflow']['getHandle']>;

/** Progress from the workflow's finished shards (its query) and the running shards' last heartbeats. */
async function sweepProgress(sdk: ClientSdk, handle: Handle, total: number, shards: number, t0: number): Promise<SweepProgress> {
  const [described, done] = await Promise.all([handle.describe(), handle.query<ShardDone[]>(SHARDS_DONE_QUERY).catch(() => undefined)]);
  let settled = 0;
  let found = 0;
  let running = 0;
  let retries = 0;
  for (const d of done ?? []) {
    const [first, end] = shardBounds(total, shards, d.shard);
    settled += end - first;
    found += d.found;
    retries += d.attempts - 1;
  }
  for (const a of described.raw.pendingActivities ?? []) {
    if ((a.attempt ?? 1) > 1) retries += (a.attempt ?? 1) - 1;
    const payload = a.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const c = sdk.defaultPayloadConverter.fromPayload<ShardCheckpoint>(payload);
    if (c?.version !== 1) continue;
    settled += c.cursor - c.firstPosition;
    found += c.found;
    // a heartbeat from the attempt now running (or the last one, while a retry waits)
    if (Number(a.state) === 2) running++;
  }
  return { shards, done: done?.length ?? 0, running, probes: total, settled, percent: total ? (100 * settled) / total : 100, found, retries, elapsedSeconds: (performance.now() - t0) / 1000 };
}

function finalProgress(result: SweepResult, total: number, shards: number, found: number, t0: number): SweepProgress {
  const retries = result.shards.reduce((n, s) => n + s.startedAt.length - 1, 0);
  return { shards, done: result.shards.length, running: 0, probes: total, settled: total, percent: 100, found, retries, elapsedSeconds: (performance.now() - t0) / 1000 };
}
