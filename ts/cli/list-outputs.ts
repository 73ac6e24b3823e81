// The list scan (-sL) with output files: every target goes to the terminal (as
// ts/targets/list-scan.ts prints it) and to each output the options name, as nmap writes a
// list scan: XML hosts with status "unknown", grepable "Status: Unknown" lines, the normal
// file's report lines, JSON hosts. Nothing is sent. Files are written NAME.part and renamed at
// the end, also when the listing is interrupted (the documents are closed first).
import { Outputs, type OutputTarget } from '../output/outputs.js';
import { drainingSink, listScan } from '../targets/list-scan.js';
import { formatAddress } from '../hosts/model.js';
import type { AddressValue } from '../targets/address6.js';
import type { AnyTargetSet } from '../targets/targets.js';
import { PRODUCT } from '../version.js';
import type { CliArgs } from './flags.js';
import { stopped } from './session.js';

/** Targets listed between two turns of the event loop (so a signal is heard). */
const SLICE = 65536;

/** Thrown through listScan by its sink to stop the listing at a signal. */
class Stop extends Error {}

/** Lists `set` on `out` and in every output; resolves with the exit status. */
export async function listToOutputs(argv: readonly string[], args: CliArgs, targets: OutputTarget[], set: AnyTargetSet, out: (s: string) => void): Promise<number> {
  if (targets.length === 0) {
    await listScan(set, drainingSink(out));
    return 0;
  }
  const outputs = Outputs.open(targets, out);
  const startedAt = new Date();
  const t0 = performance.now();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted ??= signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    outputs.begin({ startedAt, args: [PRODUCT, ...argv], technique: 'syn', ports: [], addresses: set.count, verbose: args.v, open: args.open, reason: args.reason, listScan: true });
    // A format on stdout takes the terminal's place, as nmap's -oX - does. The terminal's
    // list yields to the event loop now and then, so that a signal stops it.
    if (!outputs.toStdout) {
      const drain = drainingSink(out);
      let chunks = 0;
      const sink = async (chunk: string): Promise<void> => {
        if (interrupted) throw new Stop();
        await drain(chunk);
        if (++chunks % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
      };
      await listScan(set, sink, startedAt).catch((e: unknown) => {
        if (!(e instanceof Stop)) throw e;
      });
    }
    let n = 0;
    let listed = 0;
    const pieces: readonly { start: AddressValue; end: AddressValue; hostname?: string }[] = interrupted ? [] : set.pieces;
    list: for (const p of pieces) {
      for (let v = p.start; v <= p.end; v = typeof v === 'bigint' ? v + 1n : v + 1) {
        const address = formatAddress(v);
        outputs.listed(p.hostname === undefined ? { address } : { address, hostname: p.hostname });
        listed++;
        if (++n === SLICE) {
          n = 0;
          await new Promise((resolve) => setImmediate(resolve));
          if (interrupted) break list;
        }
      }
    }
    const end = { finishedAt: new Date(), elapsedSeconds: (performance.now() - t0) / 1000, addresses: interrupted ? listed : set.count, up: 0 };
    outputs.end(interrupted ? { ...end, error: stopped(interrupted) } : end);
  } catch (e) {
    outputs.abandon();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return interrupted === 'SIGTERM' ? 143 : interrupted ? 130 : 0;
}
