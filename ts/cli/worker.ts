// `ferroscan worker --temporal ADDRESS`: its own small option set, then a Temporal worker of
// distributed scans (ts/cluster/worker.ts, loaded only here with the SDK) until SIGINT or
// SIGTERM.
import yargs from 'yargs';
import { UsageError } from '../errors.js';
import { DEFAULT_TASK_QUEUE } from '../cluster/types.js';
import { PRODUCT } from '../version.js';

export const WORKER_HELP = `Usage: ${PRODUCT} worker --temporal <host:port> [options]
Runs a worker of distributed scans: it takes shards of sweeps submitted with
"${PRODUCT} --temporal <host:port> --shards <N> ..." and scans them from this machine
(raw-socket scans need root or CAP_NET_RAW, as a local scan does).
  --temporal <host:port>: The Temporal server's frontend (e.g. 127.0.0.1:7233)
  --temporal-namespace <name>: Temporal namespace (default: default)
  --task-queue <name>: Task queue to poll (default: ${DEFAULT_TASK_QUEUE})
  --concurrency <n>: Shards scanned at once (default: 1)
  -e <iface>: Interface for this worker's probes; -S <IP_Address>: their source address
  -h, --help: Print this help
The worker runs until SIGINT or SIGTERM; a shard it leaves unfinished is retried by
another worker from the shard's last cursor. Needs the Temporal SDK:
npm install @temporalio/client @temporalio/worker @temporalio/workflow @temporalio/activity
`;

interface WorkerArgs {
  temporal?: string;
  'temporal-namespace'?: string;
  'task-queue'?: string;
  concurrency?: string;
  e?: string;
  S?: string;
  help: boolean;
}

function parseWorkerArgs(argv: readonly string[]): WorkerArgs {
  return yargs([...argv])
    .help(false)
    .version(false)
    .parserConfiguration({ 'camel-case-expansion': false, 'duplicate-arguments-array': false })
    .option('temporal', { type: 'string', requiresArg: true })
    .option('temporal-namespace', { type: 'string', requiresArg: true })
    .option('task-queue', { type: 'string', requiresArg: true })
    .option('concurrency', { type: 'string', requiresArg: true })
    .option('e', { type: 'string', requiresArg: true })
    .option('S', { type: 'string', requiresArg: true })
    .option('help', { alias: 'h', type: 'boolean', default: false })
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      const line = (msg || err?.message || 'bad arguments').replace(/\s+/g, ' ').trim();
      const unknown = /^Unknown arguments?: (.*)$/.exec(line)?.[1]?.split(', ')[0];
      throw new UsageError(unknown ? `worker: unknown option "${unknown.length === 1 ? '-' : '--'}${unknown}"` : `worker: ${line}`);
    })
    .parseSync() as unknown as WorkerArgs;
}

/** `ferroscan worker ...`; resolves with the exit status. */
export async function workerMain(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const args = parseWorkerArgs(argv);
  if (args.help) {
    out(WORKER_HELP);
    return 0;
  }
  if (!args.temporal) throw new UsageError('worker needs --temporal <host:port> (the Temporal server to take shards from)');
  const concurrency = args.concurrency === undefined ? 1 : Number(args.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`invalid --concurrency "${args.concurrency}"`);
  const taskQueue = args['task-queue'] ?? DEFAULT_TASK_QUEUE;
  const { runWorker } = await import('../cluster/worker.js');
  await runWorker({
    address: args.temporal,
    namespace: args['temporal-namespace'],
    taskQueue,
    concurrency,
    interface: args.e,
    sourceAddress: args.S,
    onReady: (identity) => process.stderr.write(`${PRODUCT} worker ${identity}: taking shards from task queue "${taskQueue}" at ${args.temporal}\n`),
  });
  process.stderr.write(`${PRODUCT} worker: stopped\n`);
  return 0;
}
