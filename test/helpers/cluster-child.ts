// Run by test/lab-cluster.test.ts inside the lab's scanner namespace (where the Temporal server
// listens, on loopback), for the checks that need each shard's story, which the CLI does not
// print. Prints one JSON line per event:
//   sweep ADDRESS SHARDS SEED TARGET PORT RATE HEARTBEAT_MS [KILL_PIDS]
//                                      submits the sweep, prints "progress" lines, and with
//                                      KILL_PIDS (comma-separated worker pids) kill -9s the
//                                      worker of the first shard seen between 15% and 70% of
//                                      its positions in a heartbeat ("killed": shard, the
//                                      server's cursor then, pid, time); "done" at the end
import { Client, Connection, defaultPayloadConverter } from '@temporalio/client';
import { runSweep } from '../../ts/cluster/submit.js';
import type { ShardCheckpoint } from '../../ts/cluster/types.js';
import { prepareScan } from '../../ts/engine/prepare.js';

const print = (obj: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(obj)}\n`);
const [mode, ...args] = process.argv.slice(2);

const openSet = (reports: Iterable<{ address: string; ports: ReadonlyMap<number, { state: string }> }>): string[] => {
  const out: string[] = [];
  for (const h of reports) for (const [port, v] of h.ports) if (v.state === 'open') out.push(`${h.address}:${port}`);
  return out.sort();
};

if (mode === 'sweep') {
  const [address, shards, seed, target, port, rate, heartbeatMs, killPids] = args;
  const allowed = new Set((killPids ?? '').split(',').filter(Boolean).map(Number));
  const prepared = await prepareScan({ targets: [target], ports: [Number(port)], seed: BigInt(seed), rate: Number(rate) });
  let watcher: Promise<void> | undefined;
  let stopWatching = false;
  const seen = new Set<string>();
  const watch = async (workflowId: string): Promise<void> => {
    const connection = await Connection.connect({ address });
    try {
      const handle = new Client({ connection }).workflow.getHandle(workflowId);
      while (!stopWatching) {
        const d = await handle.describe().catch(() => undefined);
        for (const a of d?.raw.pendingActivities ?? []) {
          const payload = a.heartbeatDetails?.payloads?.[0];
          if (!payload || Number(a.state) !== 2) continue;
          const c = defaultPayloadConverter.fromPayload<ShardCheckpoint>(payload);
          const done = (c.cursor - c.firstPosition) / (c.endPosition - c.firstPosition);
          const pid = Number.parseInt(c.worker, 10);
          const key = `${c.shard}:${c.cursor}`;
          if (!seen.has(key)) print({ type: 'seen', shard: c.shard, done, attempts: c.startedAt.length, pid, at: Date.now() / 1000 });
          seen.add(key);
          if (c.startedAt.length !== 1 || done < 0.15 || done > 0.7 || !allowed.has(pid)) continue;
          process.kill(pid, 'SIGKILL');
          print({ type: 'killed', shard: c.shard, cursor: c.cursor, firstPosition: c.firstPosition, endPosition: c.endPosition, pid, at: Date.now() / 1000 });
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await connection.close();
    }
  };
  const t0 = performance.now();
  const report = await runSweep(
    prepared,
    {
      address,
      shards: Number(shards),
      seed: BigInt(seed),
      assumeUp: true,
      heartbeatTimeoutMs: Number(heartbeatMs),
      progressInterval: 500,
      onProgress: (p) => print({ type: 'progress', ...p }),
      onSubmitted: (id) => {
        print({ type: 'submitted', workflowId: id });
        if (allowed.size) watcher = watch(id);
      },
    },
  );
  stopWatching = true;
  await watcher;
  print({
    type: 'done',
    seconds: (performance.now() - t0) / 1000,
    sent: report.sent,
    records: report.records,
    open: openSet(report.model.upReports()),
    shards: report.shards.map(({ records: _r, ...s }) => s),
  });
}
