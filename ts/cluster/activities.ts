// The shard activity, run by `ferroscan worker`: scans shard i/N of the sweep's seeded
// permutation with this machine's engine, heartbeats its cursor and findings, and returns its
// records. A retry (its worker died, or the server lost it) starts from the cursor of the last
// heartbeat the server kept, with that heartbeat's records, so nothing below the cursor is
// probed twice and nothing found there is lost.
import { hostname } from 'node:os';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ScanError } from '../errors.js';
import type { PreparedScan } from '../engine/prepare.js';
import { runPrepared } from '../engine/scan.js';
import type { ScanModel } from '../hosts/model.js';
import type { NativeScanOptions } from '../engine/native.js';
import type { AddressRange } from '../targets/address.js';
import { mergeRanges, type TargetSet } from '../targets/targets.js';
import { udpPayloads } from '../targets/udp-payloads.js';
import { decodeRecordLog, RecordLog } from './shard-records.js';
import type { ClusterScan, ShardCheckpoint, ShardInput, ShardResult } from './types.js';

/** What a worker sets for itself rather than the sweep: its own interface and source address. */
export interface WorkerLocal {
  interface?: string;
  sourceAddress?: string;
  /** The worker's identity (pid@host by default, as Temporal's), recorded in checkpoints and results. */
  identity?: string;
}

/** The target set of engine ranges (already resolved and filtered by the submitter). */
export function targetSetOf(ranges: readonly number[]): TargetSet {
  const pieces: AddressRange[] = [];
  for (let i = 0; i + 1 < ranges.length; i += 2) pieces.push({ start: ranges[i], end: ranges[i + 1] });
  const merged = mergeRanges(pieces);
  return { pieces, ranges: merged, count: merged.reduce((n, r) => n + r.end - r.start + 1, 0) };
}

/** The engine options of one shard of the sweep, resumed at `startPosition` when given. */
export function shardScan(input: ShardInput, local: WorkerLocal, startPosition?: number): PreparedScan {
  const s: ClusterScan = input.scan;
  const native: NativeScanOptions = {
    ranges: [...s.ranges],
    ports: [...s.ports],
    technique: s.technique,
    rate: s.rate ?? Infinity,
    maxRetries: s.maxRetries,
    seed: BigInt(input.seed),
    shardIndex: input.shard,
    shardCount: input.shards,
  };
  if (startPosition !== undefined) native.startPosition = startPosition;
  if (s.tcpFlags !== undefined) native.tcpFlags = s.tcpFlags;
  if (s.initialRttTimeoutMs !== undefined) native.initialRttTimeoutMs = s.initialRttTimeoutMs;
  if (s.minRttTimeoutMs !== undefined) native.minRttTimeoutMs = s.minRttTimeoutMs;
  if (s.maxRttTimeoutMs !== undefined) native.maxRttTimeoutMs = s.maxRttTimeoutMs;
  if (s.minRate !== undefined) native.minRate = s.minRate;
  if (s.adaptive !== undefined) native.adaptive = s.adaptive;
  if (s.sequential) native.sequential = true;
  // the payloads are this worker's (nmap-payloads when installed): they do not move the space
  if (s.technique === 'udp') native.udpPayloads = [...udpPayloads()].map(([port, payload]) => ({ port, payload }));
  if (local.interface !== undefined) native.interface = local.interface;
  if (local.sourceAddress !== undefined) native.sourceAddress = local.sourceAddress;
  const prepared: PreparedScan = { targets: targetSetOf(s.ranges), ports: [...s.ports], native };
  if (s.rstPolicy === 'suppress') {
    // the rule names the source ports: fix them now, as prepareScan does
    native.sourcePort = 32768 + Math.floor(Math.random() * (61000 - 32768 - s.maxRetries));
    prepared.rstPolicy = 'suppress';
  }
  return prepared;
}

/** A heartbeat's details when they are a checkpoint of this shard; anything else starts afresh. */
export function checkpointOf(details: unknown, shard: number): ShardCheckpoint | undefined {
  const c = details as Partial<ShardCheckpoint> | undefined;
  if (!c || c.version !== 1 || c.shard !== shard) return undefined;
  const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!whole(c.cursor) || !whole(c.firstPosition) || !whole(c.endPosition) || !whole(c.recordCount) || !whole(c.sent)) return undefined;
  if (!Array.isArray(c.records) || !c.records.every((r) => typeof r === 'string')) return undefined;
  if (c.cursor < c.firstPosition || c.cursor > c.endPosition || !Array.isArray(c.startedAt)) return undefined;
  return c as ShardCheckpoint;
}

/**
 * The most a shard's packed records may weigh: Temporal refuses payloads over 2 MiB by default
 * (the server's limit.blobSize.error), and a heartbeat or result carries them whole. Set
 * FERROSCAN_TEMPORAL_PAYLOAD_LIMIT (bytes) on the workers for a server with another limit.
 */
export function payloadLimit(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.FERROSCAN_TEMPORAL_PAYLOAD_LIMIT);
  return Number.isSafeInteger(v) && v > 0 ? v : 2_000_000;
}

const packedBytes = (chunks: readonly string[]): number => chunks.reduce((n, c) => n + c.length, 0);

/** The activities a worker registers, with its local settings. */
export function createActivities(local: WorkerLocal = {}) {
  return {
    async scanShard(input: ShardInput): Promise<ShardResult> {
      const ctx = Context.current();
      const previous = checkpointOf(ctx.info.heartbeatDetails, input.shard);
      const worker = local.identity ?? `${process.pid}@${hostname()}`;
      const log = new RecordLog(previous?.records, previous?.recordCount);
      const sentBefore = previous?.sent ?? 0;
      const startedAt = [...(previous?.startedAt ?? [])];
      let prepared: PreparedScan;
      try {
        prepared = shardScan(input, local, previous?.cursor);
      } catch (e) {
        throw ApplicationFailure.nonRetryable((e as Error).message, 'UsageError');
      }
      const t0 = performance.now();
      const limit = payloadLimit();
      // stops the engine when the server cancels the shard, or when its findings grow too big to carry
      const stop = new AbortController();
      const onCancel = (): void => stop.abort(ctx.cancellationSignal.reason);
      ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
      let tooLarge: string | undefined;
      const overLimit = (records: number, bytes: number): string =>
        `shard ${input.shard} found ${records} answers (${(bytes / 1e6).toFixed(1)} MB packed), more than one Temporal payload carries (${(limit / 1e6).toFixed(1)} MB): split the scan in more shards`;
      let model: ScanModel | undefined;
      let first = previous?.firstPosition ?? 0;
      let end = previous?.endPosition ?? 0;
      let cursor = previous?.cursor ?? 0;
      let sent = (): number => sentBefore;
      const checkpoint = (): ShardCheckpoint => ({
        version: 1,
        shard: input.shard,
        firstPosition: first,
        endPosition: end,
        cursor,
        records: log.encode(),
        recordCount: log.size,
        sent: sent(),
        found: model?.openPorts ?? previous?.found ?? 0,
        startedAt,
        worker,
      });
      let started = false;
      const beat = (): void => {
        if (!started || tooLarge) return;
        const c = checkpoint();
        const bytes = packedBytes(c.records);
        if (bytes > limit) {
          tooLarge = overLimit(c.recordCount, bytes);
          stop.abort();
          return;
        }
        ctx.heartbeat(c);
      };
      const timer = setInterval(beat, input.heartbeatEveryMs);
      try {
        const report = await runPrepared(prepared, { signal: stop.signal }, {
          onStart: (engine, _at, m) => {
            model = m;
            const s = engine.summary();
            // the engine's own view of the shard: the resume position it starts from
            first = s.firstPosition;
            end = s.endPosition;
            cursor = s.resumePosition;
            startedAt.push(cursor);
            sent = () => sentBefore + engine.summary().sent;
            // earlier attempts' findings count as found here too (the merger folds them the same way)
            if (previous) for (const r of decodeRecordLog(previous.records)) m.add(r);
            started = true;
            beat();
          },
          onRecords: (records) => log.add(records),
          onCursor: (position) => {
            cursor = position;
          },
        });
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('the shard was cancelled');
        const records = log.encode();
        if (!tooLarge && packedBytes(records) > limit) tooLarge = overLimit(log.size, packedBytes(records));
        // the same findings on any worker: another attempt would fail the same way
        if (tooLarge) throw ApplicationFailure.nonRetryable(tooLarge, 'PayloadTooLarge');
        const s = report.summary;
        return {
          shard: input.shard,
          firstPosition: first,
          endPosition: end,
          records,
          recordCount: log.size,
          sent: sentBefore + s.sent,
          retransmits: s.retransmits,
          received: s.received,
          found: report.model.openPorts,
          startedAt,
          worker,
          elapsedSeconds: (performance.now() - t0) / 1000,
        };
      } catch (e) {
        if (e instanceof ScanError && e.code === 'EINVAL') throw ApplicationFailure.nonRetryable(e.message, 'UsageError');
        throw e;
      } finally {
        clearInterval(timer);
        ctx.cancellationSignal.removeEventListener('abort', onCancel);
      }
    },
  };
}
