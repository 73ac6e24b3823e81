// `ferroscan worker --temporal ADDRESS`: a Temporal worker that runs the sweep workflow and,
// one at a time by default, shard activities with this machine's engine. The SDK is loaded
// here, on first use (ts/cluster/sdk.ts), never by plain scans.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ClusterError, connectFailure, loadWorkerSdk } from './sdk.js';
import { DEFAULT_TASK_QUEUE } from './types.js';

export interface WorkerOptions {
  /** The Temporal frontend, host:port (e.g. 127.0.0.1:7233). */
  address: string;
  namespace?: string;
  taskQueue?: string;
  /** Shards this worker scans at once; 1 by default (one engine per machine keeps the rate honest). */
  concurrency?: number;
  /** This machine's interface and source address for its shards (chosen from the routes when absent). */
  interface?: string;
  sourceAddress?: string;
  /** Worker identity as Temporal shows it; pid@host by default. */
  identity?: string;
  /** Stops the worker (it finishes or hands back running shards, then resolves). */
  signal?: AbortSignal;
  /** Called once the worker polls the task queue. */
  onReady?(identity: string): void;
}

/** The workflow module for the bundler: compiled JS beside this file, or its TS source under tsx. */
export function workflowModulePath(): string {
  for (const name of ['./workflow.js', './workflow.ts']) {
    const path = fileURLToPath(new URL(name, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new ClusterError('the sweep workflow module (cluster/workflow.js) is missing from this installation');
}

let runtimeInstalled = false;

/** Runs a worker until it is stopped (signal, SIGINT/SIGTERM) or fails; resolves after a clean stop. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const sdk = await loadWorkerSdk();
  const { createActivities } = await import('./activities.js');
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ClusterError(`invalid worker concurrency "${concurrency}"`);
  if (!runtimeInstalled) {
    // The SDK's INFO lines (every poll, every shutdown phase) are noise at a terminal.
    sdk.Runtime.install({ logger: new sdk.DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const identity = options.identity ?? `${process.pid}@${hostname()}`;
  let connection: Awaited<ReturnType<typeof sdk.NativeConnection.connect>>;
  try {
    connection = await sdk.NativeConnection.connect({ address: options.address });
  } catch (e) {
    throw new ClusterError(`cannot reach the Temporal server at ${options.address}: ${connectFailure(e)}`);
  }
  try {
    const worker = await sdk.Worker.create({
      connection,
      namespace: options.namespace ?? 'default',
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowsPath: workflowModulePath(),
      activities: createActivities({ interface: options.interface, sourceAddress: options.sourceAddress, identity }),
      identity,
      maxConcurrentActivityTaskExecutions: concurrency,
      // cursors reach the server within a second, whatever the heartbeat timeout
      maxHeartbeatThrottleInterval: 1000,
      defaultHeartbeatThrottleInterval: 1000,
    });
    const stop = (): void => worker.shutdown();
    if (options.signal?.aborted) return;
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      const running = worker.run();
      options.onReady?.(identity);
      await running;
    } finally {
      options.signal?.removeEventListener('abort', stop);
    }
  } finally {
    await connection.close();
  }
}
