// The sweep workflow: runs in Temporal's deterministic sandbox, bundled by the worker (so it
// imports nothing but @temporalio/workflow and types). It starts one activity per shard of the
// seeded permutation, all at once (workers take them as they have room), lets Temporal retry a
// shard whose worker died (the retry resumes from the cursor in the shard's last heartbeat),
// and returns a summary of every shard (the submitter reads their records from the history).
import { ApplicationFailure, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ShardDone, ShardInput, ShardResult, ShardSummary, SweepInput, SweepResult } from './types.js';

/** The activity's signature, as the worker registers it (ts/cluster/activities.ts). */
interface ShardActivities {
  scanShard(input: ShardInput): Promise<ShardResult>;
}

// Literal names (not the constants of types.ts): a value import would pull that module into
// the sandbox bundle.
const shardsDone = defineQuery<ShardDone[]>('shardsDone');

export async function ferroscanSweep(input: SweepInput): Promise<SweepResult> {
  const { shards, policy } = input;
  if (!Number.isInteger(shards) || shards < 1) throw ApplicationFailure.nonRetryable(`invalid shard count ${shards}`, 'UsageError');
  const done: ShardDone[] = [];
  setHandler(shardsDone, () => done);
  const { scanShard } = proxyActivities<ShardActivities>({
    startToCloseTimeout: policy.shardTimeoutMs,
    heartbeatTimeout: policy.heartbeatTimeoutMs,
    retry: {
      initialInterval: 1000,
      backoffCoefficient: 2,
      maximumInterval: 30_000,
      maximumAttempts: policy.maxAttempts,
      // bad options fail the same way on every worker
      nonRetryableErrorTypes: ['UsageError'],
    },
  });
  // A third of the timeout: two heartbeats may be lost before the server gives up on a worker.
  const heartbeatEveryMs = Math.max(200, Math.floor(policy.heartbeatTimeoutMs / 3));
  const results = await Promise.all(
    Array.from({ length: shards }, async (_, i): Promise<ShardSummary> => {
      const { records: _records, ...summary } = await scanShard({ scan: input.scan, seed: input.seed, shard: i + 1, shards, heartbeatEveryMs });
      done.push({ shard: summary.shard, sent: summary.sent, found: summary.found, attempts: summary.startedAt.length });
      return summary;
    }),
  );
  return { shards: results };
}
