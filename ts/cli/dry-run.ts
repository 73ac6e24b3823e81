// --dry-run: the engine builds every packet and sends none (no sockets, no privileges,
// nothing on the wire), and the CLI reports how fast it built them.
import { blocklistNotice } from '../targets/blocklist.js';
import type { NativeSummary } from '../engine/native.js';
import type { PreparedScan } from '../engine/prepare.js';
import { runPrepared } from '../engine/scan.js';
import { PRODUCT } from '../version.js';
import { saveResume, type ScanPlan } from './plan.js';

/** The dry run of a prepared scan with targets; resolves with the exit status. */
export function dryRun(plan: ScanPlan, prepared: PreparedScan, out: (s: string) => void): Promise<number> {
  // without --rate the engine sends a dry run flat out (no replies to find a rate from),
  // or at --max-rate
  prepared.native.dryRun = true;
  const notice = blocklistNotice(prepared.targets.blocklist ?? []);
  if (notice) out(`${notice}\n`);
  return buildAll(prepared, out, (summary) => saveResume(plan, summary));
}

/** Runs the engine without sockets and reports how fast it built the packets. */
async function buildAll(prepared: PreparedScan, out: (s: string) => void, saveResume: (s: NativeSummary) => void): Promise<number> {
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await runPrepared(prepared, { signal: controller.signal });
    const sum = report.summary;
    const seconds = sum.elapsedMs / 1000;
    const pps = seconds > 0 ? Math.round(sum.sent / seconds) : 0;
    const covered = sum.endPosition - sum.firstPosition;
    out(`${PRODUCT} dry run: ${sum.sent} of ${covered} packets built, none sent, in ${seconds.toFixed(2)} s (${pps} packets/s)${prepared.native.pcap ? `; written to ${prepared.native.pcap}` : ''}\n`);
    if (interrupted) {
      saveResume(sum);
      return interrupted === 'SIGTERM' ? 143 : 130;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
