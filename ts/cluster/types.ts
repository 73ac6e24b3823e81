// What crosses Temporal between the submitter, the workflow and the shard activities: plain
// JSON only (no bigint, no Buffer, no Infinity), and types only, so that the workflow bundle
// imports nothing from here at run time.
import type { Technique } from '../verdicts/classify.js';
import type { RstPolicy } from '../engine/rst-policy.js';

/** The task queue workers poll and sweeps are submitted to, unless told otherwise. */
export const DEFAULT_TASK_QUEUE = 'ferroscan';
/** The workflow type, registered by the worker under this name. */
export const SWEEP_WORKFLOW = 'ferroscanSweep';

/**
 * The scan every shard runs, resolved once by the submitter: addresses as engine ranges
 * (exclusions and the blocklist already applied, names already resolved) and the port list,
 * so that every worker permutes exactly the same space whatever its resolver or data files.
 */
export interface ClusterScan {
  /** Inclusive IPv4 ranges flattened as [start0, end0, start1, end1, ...], sorted and disjoint. */
  ranges: number[];
  ports: number[];
  technique: Technique;
  tcpFlags?: number;
  /** Packets per second of each shard's engine; null for no limit. */
  rate: number | null;
  maxRetries: number;
  initialRttTimeoutMs?: number;
  minRttTimeoutMs?: number;
  maxRttTimeoutMs?: number;
  minRate?: number;
  adaptive?: boolean;
  sequential?: boolean;
  rstPolicy?: RstPolicy;
}

/** How the workflow runs its shards. */
export interface SweepPolicy {
  /** A shard whose worker sent no heartbeat for this long is retried elsewhere. */
  heartbeatTimeoutMs: number;
  /** Attempts per shard before the sweep fails (a killed worker costs one). */
  maxAttempts: number;
  /** Upper bound of one attempt of one shard. */
  shardTimeoutMs: number;
}

/** The workflow's input: the scan's options, a seed and N. */
export interface SweepInput {
  scan: ClusterScan;
  /** The permutation's seed, decimal (0 to 2^64-1): every shard must use the same one. */
  seed: string;
  shards: number;
  policy: SweepPolicy;
}

/** One shard activity's input. */
export interface ShardInput {
  scan: ClusterScan;
  seed: string;
  /** 1-based, as --shard i/N. */
  shard: number;
  shards: number;
  /** How often the activity heartbeats (the workflow derives it from its heartbeat timeout). */
  heartbeatEveryMs: number;
}

/**
 * A shard's heartbeat details: where a retry resumes, and everything found so far. Every
 * record of a probe below `cursor` is in `records`, so a retry that starts at `cursor`
 * loses nothing; only probes from `cursor` on are sent again.
 */
export interface ShardCheckpoint {
  version: 1;
  shard: number;
  /** The shard's positions of the permutation: [firstPosition, endPosition). */
  firstPosition: number;
  endPosition: number;
  cursor: number;
  /** The engine records found so far, every attempt together, in chunks (shard-records.ts). */
  records: string[];
  recordCount: number;
  /** Probes sent by the attempts so far, retransmissions included, and open ports among the records. */
  sent: number;
  found: number;
  /** The cursor each attempt started from, in order (the first: firstPosition). */
  startedAt: number[];
  /** Which worker is running the attempt (its identity, pid@host). */
  worker: string;
}

/** What a shard activity returns. */
export interface ShardResult {
  shard: number;
  firstPosition: number;
  endPosition: number;
  /** The engine records of every attempt, in chunks (shard-records.ts); the merger folds duplicates. */
  records: string[];
  recordCount: number;
  /** Probes sent by every attempt together; retransmissions and replies of the last attempt. */
  sent: number;
  retransmits: number;
  received: number;
  found: number;
  /** The cursor each attempt started from: more than one entry when the shard was retried. */
  startedAt: number[];
  /** The worker that finished the shard. */
  worker: string;
  elapsedSeconds: number;
}

/** A shard's result without its records, as the workflow returns it. */
export type ShardSummary = Omit<ShardResult, 'records'>;

/**
 * The workflow's result. The records stay in the shards' activity results, in the workflow's
 * history, where the submitter reads them: so only each shard's findings must fit Temporal's
 * payload limit (2 MB by default), not the whole sweep's.
 */
export interface SweepResult {
  shards: ShardSummary[];
}

/** The workflow's query of the shards done so far (progress for the submitter). */
export const SHARDS_DONE_QUERY = 'shardsDone';

export interface ShardDone {
  shard: number;
  sent: number;
  found: number;
  attempts: number;
}
